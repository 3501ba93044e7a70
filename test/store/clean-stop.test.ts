/**
 * The start-up check after a clean stop (store/clean-stop.ts): skipped only when the database file
 * is exactly as the service's clean close left it, run again after anything else — a write by
 * another connection, a copy, a crash, a WAL beside it, an unreadable, unremovable or old note, a
 * file small enough to check in about a second. The files here are small: the stores under test
 * lower the size from which a check may be spared (skipCheckFromBytes), except where that size is
 * the point.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { Service } from '../../src/main/app/service';
import { Store } from '../../src/main/store';
import { CLEAN_STOP_FILE, MAX_CHECK_AGE_MS, trustedFileSystem } from '../../src/main/store/clean-stop';
import { startServe } from '../support/cli';
import { post } from '../support/https-client';
import { message, startUpItems } from '../support/messages';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();
const stops: (() => unknown)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

/** The skip is only taken on a local Linux file system (elsewhere every start checks): the tests that expect it run there. */
const skipPossible = trustedFileSystem(tmpdir());
const serviceStore = (dir: string) => new Store(dir, { integrityCheck: true, skipCheckFromBytes: 0 });
const note = (dir: string) => join(dir, CLEAN_STOP_FILE);

/** Whether a service store opened on `dir` runs quick_check (then it is closed again). */
function checkRunsAtStart(dir: string): boolean {
  const store = serviceStore(dir);
  const ran = store.integrity!.ran;
  store.close();
  return ran;
}

/** A service store used and closed cleanly once; returns when quick_check passed. */
function cleanlyStopped(dir: string): number {
  const store = serviceStore(dir);
  expect(store.integrity?.ran).toBe(true);
  store.setSetting('site', 'a');
  const checkedAt = store.integrity!.checkedAt;
  store.close();
  expect(existsSync(note(dir))).toBe(true);
  return checkedAt;
}

describe('the start-up check after a clean stop', () => {
  it.runIf(skipPossible)('is skipped when the file is as the clean close left it, and the note is gone while the database is open', () => {
    const dir = newDir();
    const checkedAt = cleanlyStopped(dir);
    const again = serviceStore(dir);
    expect(again.integrity).toEqual({ checkedAt, ran: false });
    // A crash from here on leaves no note: the next start checks.
    expect(existsSync(note(dir))).toBe(false);
    expect(again.setting('site')).toBe('a');
    again.close();
    // The check's time is carried over, not the restart's.
    expect(JSON.parse(readFileSync(note(dir), 'utf8')).checkedAt).toBe(checkedAt);
    const third = serviceStore(dir);
    expect(third.integrity?.ran).toBe(false);
    third.close();
  });

  it('runs after a write by another connection, in a copy of the folder, with a WAL beside the file, after a crash, and for an unreadable or old note', () => {
    // Another connection wrote after the clean stop (sqlite3, another LocalDLS, a restore).
    const written = newDir();
    cleanlyStopped(written);
    const other = new BetterSqlite3(join(written, 'localdls.sqlite'));
    other.prepare(`UPDATE settings SET value = 'b' WHERE name = 'site'`).run();
    other.close();
    expect(checkRunsAtStart(written)).toBe(true);

    // A copy of the folder: another file, whatever the note says.
    const original = newDir();
    cleanlyStopped(original);
    const copy = join(newDir(), 'copy');
    cpSync(original, copy, { recursive: true });
    expect(checkRunsAtStart(copy)).toBe(true);

    // A connection still open at the clean close leaves a WAL: no note then, and a check next time.
    const shared = newDir();
    cleanlyStopped(shared);
    const store = serviceStore(shared);
    const reader = new BetterSqlite3(join(shared, 'localdls.sqlite'));
    reader.prepare('SELECT count(*) FROM settings').get();
    store.setSetting('site', 'c');
    store.close();
    expect(existsSync(note(shared))).toBe(false);
    reader.close();
    expect(checkRunsAtStart(shared)).toBe(true);

    // A crash: the store was open and never closed (its note was taken at the start).
    const crashed = newDir();
    cleanlyStopped(crashed);
    serviceStore(crashed); // left open, as a killed process leaves it
    expect(existsSync(note(crashed))).toBe(false);

    // An unreadable note, and one older than MAX_CHECK_AGE_MS.
    const garbled = newDir();
    cleanlyStopped(garbled);
    writeFileSync(note(garbled), '{"checkedAt": "yesterday"');
    expect(checkRunsAtStart(garbled)).toBe(true);
    const old = newDir();
    cleanlyStopped(old);
    const n = JSON.parse(readFileSync(note(old), 'utf8'));
    writeFileSync(note(old), JSON.stringify({ ...n, checkedAt: Date.now() - MAX_CHECK_AGE_MS - 1000 }));
    expect(checkRunsAtStart(old)).toBe(true);
    // A note from the future (a clock set back) is not trusted either.
    const future = newDir();
    cleanlyStopped(future);
    writeFileSync(note(future), JSON.stringify({ ...JSON.parse(readFileSync(note(future), 'utf8')), checkedAt: Date.now() + 3600_000 }));
    expect(checkRunsAtStart(future)).toBe(true);
  });

  it('always runs for a file under 256 MB (about a second of checking), and when the note cannot be removed', () => {
    const dir = newDir();
    const small = new Store(dir, { integrityCheck: true });
    small.setSetting('site', 'a');
    small.close();
    expect(existsSync(note(dir))).toBe(true);
    const again = new Store(dir, { integrityCheck: true });
    expect(again.integrity?.ran).toBe(true);
    again.close();
    // A folder where the note would be: the start checks and goes on.
    const blocked = newDir();
    cleanlyStopped(blocked);
    const kept = readFileSync(note(blocked), 'utf8');
    rmSync(note(blocked));
    mkdirSync(note(blocked));
    writeFileSync(join(note(blocked), 'x'), kept);
    expect(checkRunsAtStart(blocked)).toBe(true);
  });

  it.runIf(skipPossible)('the service says which it did in its listening info; a clean stop spares the next start the check, a kill does not', async () => {
    const dir = newDir();
    const start = async () => {
      const service = new Service({ dataDir: dir, host: '127.0.0.1', port: 0, autoContact: false, store: { skipCheckFromBytes: 0 } });
      return { service, listening: await service.start() };
    };
    const first = await start();
    expect(first.listening.databaseCheck).toMatchObject({ ran: 'quick_check' });
    expect((await post(first.listening.port, message({ reason: 'start-up', items: startUpItems('00:1A:E8:40:00:02') }))).status).toBe(200);
    await first.service.stop();
    const second = await start();
    expect(second.listening.databaseCheck).toEqual({ ran: 'unchanged', checkedAt: first.listening.databaseCheck!.checkedAt });
    await second.service.stop();
  });

  it('serve: SIGKILL means a check at the next start; pages overwritten after a clean stop are refused', async () => {
    const dir = newDir();
    const first = await startServe(['--data-dir', dir, '--no-auto-contact']);
    stops.push(() => first.serve.stop());
    expect(first.listening.databaseCheck).toMatchObject({ ran: 'quick_check' });
    expect((await post(first.port, message({ reason: 'start-up', items: startUpItems('00:1A:E8:40:00:01') }))).status).toBe(200);
    await first.serve.stop('SIGKILL');

    const afterKill = await startServe(['--data-dir', dir, '--no-auto-contact']);
    stops.push(() => afterKill.serve.stop());
    expect(afterKill.listening.databaseCheck).toMatchObject({ ran: 'quick_check' });
    expect(await afterKill.serve.stop('SIGTERM')).toBe(0);
    expect(existsSync(note(dir))).toBe(true);

    // A disk fault after the clean stop, as in files-at-rest: the write moves the file's change time.
    const db = join(dir, 'localdls.sqlite');
    const bytes = readFileSync(db);
    const pageSize = bytes.readUInt16BE(16);
    for (let i = 2 * pageSize; i < 5 * pageSize; i++) bytes[i] = (i * 7919) & 0xff;
    writeFileSync(db, bytes);
    const refused = await startServe(['--data-dir', dir, '--no-auto-contact']).then(
      () => 'started',
      (e: Error) => e.message,
    );
    expect(refused).toMatch(/is damaged/);
  });
});
