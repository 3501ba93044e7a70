/**
 * Files at rest through the real CLI (issue 12, items 6 and 7): `serve` under odd umasks, a damaged
 * database, a file that is no database, and read-only folders. Root ignores file permissions, so
 * when the tests run as root the processes that must meet a read-only folder run as the unprivileged
 * user 65534 (setpriv); as any other user they run as that user, and the modes alone do it.
 */
import BetterSqlite3 from 'better-sqlite3';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, chownSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_NODE_ARGS, outcome, runCli, startServe, type CliResult } from '../support/cli';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();
const posix = process.platform !== 'win32';
const ROOT = posix && process.getuid!() === 0;
const OTHER = 65534;
const canDropRoot = ROOT && spawnSync('setpriv', ['--version']).status === 0;
/** Read-only folders can be met for real: as a non-root user, or as root through setpriv. */
const readOnlyTestable = posix && (!ROOT || canDropRoot);

interface RunOptions {
  umask?: number;
  /** Run as the unprivileged user (when this test runs as root). */
  unprivileged?: boolean;
  env?: NodeJS.ProcessEnv;
}

function command(args: string[], o: RunOptions): [string, string[]] {
  let cmd = process.execPath;
  let argv = [...CLI_NODE_ARGS, ...args];
  if (o.umask !== undefined) [cmd, argv] = ['/bin/sh', ['-c', `umask ${o.umask.toString(8).padStart(3, '0')} && exec "$0" "$@"`, cmd, ...argv]];
  if (o.unprivileged && ROOT) [cmd, argv] = ['setpriv', [`--reuid=${OTHER}`, `--regid=${OTHER}`, '--clear-groups', '--', cmd, ...argv]];
  return [cmd, argv];
}

function run(args: string[], o: RunOptions = {}): Promise<CliResult> {
  const [cmd, argv] = command(args, o);
  return outcome(spawn(cmd, argv, { env: { ...process.env, ...o.env }, stdio: ['ignore', 'pipe', 'pipe'] }));
}

/** Runs `serve` until it listens, calls `during`, then stops it with SIGINT. */
async function whileServing(args: string[], o: RunOptions, during: (stderr: () => string) => Promise<void> | void): Promise<void> {
  const [cmd, argv] = command(['serve', '--host', '127.0.0.1', '--port', '0', ...args], o);
  const child = spawn(cmd, argv, { env: { ...process.env, ...o.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = once(child, 'exit');
  try {
    const lines = createInterface({ input: child.stdout });
    await new Promise<void>((resolve, reject) => {
      lines.on('line', (l) => l.includes('"listening"') && resolve());
      child.once('exit', () => reject(new Error(`serve exited before listening: ${stderr}`)));
    });
    await during(() => stderr);
  } finally {
    child.kill('SIGINT');
    await exited;
  }
}

function modeOf(path: string): number {
  return statSync(path).mode & 0o777;
}

function walk(dir: string): { files: string[]; dirs: string[] } {
  const files: string[] = [];
  const dirs = [dir];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      const below = walk(p);
      files.push(...below.files);
      dirs.push(...below.dirs);
    } else files.push(p);
  }
  return { files, dirs };
}

function chownTree(path: string, uid: number): void {
  chownSync(path, uid, uid);
  if (statSync(path).isDirectory()) for (const e of readdirSync(path)) chownTree(join(path, e), uid);
}

/** Gives `path`'s temporary folder (recursively) to the user the read-only tests run as, so it can reach `path`. */
function giveAway(path: string): void {
  if (ROOT) chownTree(dirname(path), OTHER);
}

const NO_STACK = /^\s+at /m;
const PASSPHRASE = { LOCALDLS_KEY_PASSPHRASE: 'files at rest test passphrase' };

/** A data folder with five phones' traffic in it, made once by a real `serve` and copied per test. */
let populated: string;
beforeAll(async () => {
  populated = join(mkdtempSync(join(tmpdir(), 'localdls-test-')), 'site');
  const { serve, port } = await startServe(['--data-dir', populated, '--no-auto-contact']);
  try {
    const phones = await runCli(['phone', '--server', `https://127.0.0.1:${port}`, '--count', '5', '--ip-base', '127.0.12.1']);
    expect(phones.code, phones.stderr).toBe(0);
  } finally {
    expect(await serve.stop()).toBe(0);
  }
  expect(existsSync(`${join(populated, 'localdls.sqlite')}-wal`)).toBe(false); // checkpointed on a clean stop
}, 60_000);
afterAll(() => {
  rmSync(dirname(populated), { recursive: true, force: true });
});

function copyOfPopulated(): string {
  const dir = join(newDir(), 'site');
  cpSync(populated, dir, { recursive: true });
  return dir;
}

describe.skipIf(!posix)('serve: modes of everything in the data folder', () => {
  it('under umask 000, with Secure Mode: an existing 0777 folder narrowed (and said on stderr), files 0600, folders 0700', async () => {
    const dir = join(newDir(), 'site');
    mkdirSync(dir);
    chmodSync(dir, 0o777);
    await whileServing(['--data-dir', dir, '--secure-port', '0'], { umask: 0o000, env: PASSPHRASE }, (stderr) => {
      const db = join(dir, 'localdls.sqlite');
      expect(existsSync(`${db}-wal`) && existsSync(`${db}-shm`)).toBe(true);
      const { files, dirs } = walk(dir);
      expect(files.map((f) => f.slice(dir.length + 1)).sort()).toEqual(expect.arrayContaining([
        'localdls.sqlite', 'localdls.sqlite-shm', 'localdls.sqlite-wal', 'pki/ca.crt', 'pki/ca.key.sealed', 'pki/kdf.json', 'pki/pki.json',
        'pki/server/secure-server.crt', 'pki/server/secure-server.json', 'pki/server/secure-server.key.sealed', 'tls/default-server.crt', 'tls/default-server.key.sealed',
      ]));
      for (const f of files) expect(modeOf(f), f).toBe(0o600);
      for (const d of dirs) expect(modeOf(d), d).toBe(0o700);
      const warnings = stderr().trim().split('\n').map((l) => JSON.parse(l) as { event: string; message: string });
      expect(warnings).toContainEqual({ event: 'warning', message: `the folder ${dir} was open to group or others (mode 0777): narrowed to 0700` });
    });
  });

  it('under umask 022: a new data folder (and its missing parents) 0700 and the database files 0600', async () => {
    const top = join(newDir(), 'new');
    const dir = join(top, 'site');
    await whileServing(['--data-dir', dir], { umask: 0o022 }, (stderr) => {
      const db = join(dir, 'localdls.sqlite');
      for (const f of [db, `${db}-wal`, `${db}-shm`, join(dir, 'tls', 'default-server.key'), join(dir, 'tls', 'default-server.crt')]) expect(modeOf(f), f).toBe(0o600);
      for (const d of [top, dir, join(dir, 'tls')]) expect(modeOf(d), d).toBe(0o700);
      expect(stderr()).not.toMatch(/narrowed/);
    });
  });
});

describe('serve: a damaged database, or a file that is none', () => {
  it('refuses a database with overwritten pages: names the file and what to do, exits non-zero, changes nothing', async () => {
    const dir = copyOfPopulated();
    const db = join(dir, 'localdls.sqlite');
    const bytes = readFileSync(db);
    const pageSize = bytes.readUInt16BE(16);
    expect(bytes.length / pageSize).toBeGreaterThan(40);
    // Pages 20–24 (not the first: a wrong header is the other case) overwritten as a disk fault would.
    let seed = 12345;
    for (let i = 19 * pageSize; i < 24 * pageSize; i++) bytes[i] = (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
    writeFileSync(db, bytes);

    const r = await run(['serve', '--data-dir', dir, '--host', '127.0.0.1', '--port', '0']);
    expect(r.code).toBe(1);
    expect(r.stdout).not.toMatch(/listening/);
    expect(r.stderr).toMatch(new RegExp(`localdls serve: the database ${esc(db)} is damaged \\((quick_check|SQLite): .+?\\): stop LocalDLS, move ${esc(db)} and its -wal and -shm files aside and start again`));
    expect(r.stderr).toContain('or put back a backup');
    expect(r.stderr).not.toMatch(NO_STACK);
    expect(readFileSync(db).equals(bytes)).toBe(true);
  });

  it('refuses a file that is not a database, in serve and in the read-only views', async () => {
    const dir = join(newDir(), 'site');
    mkdirSync(dir);
    const db = join(dir, 'localdls.sqlite');
    writeFileSync(db, 'name,phone\n'.repeat(500));
    const expected = `${db} is not a LocalDLS database (SQLite: file is not a database): pass the right --data-dir, or move the file aside and start again to begin with a new, empty database`;
    const served = await run(['serve', '--data-dir', dir, '--host', '127.0.0.1', '--port', '0']);
    expect(served.code).toBe(1);
    expect(served.stderr).toContain(`localdls serve: ${expected}`);
    const listed = await run(['devices', '--data-dir', dir]);
    expect(listed.code).toBe(1);
    expect(listed.stderr.trim()).toBe(`localdls devices: ${expected}`);
    expect(readFileSync(db, 'utf8')).toBe('name,phone\n'.repeat(500));
  });
});

describe.skipIf(!readOnlyTestable)('read-only folders', () => {
  it('serve on a read-only data folder: a message with its path and what to do; the folder left as it was', async () => {
    const dir = copyOfPopulated();
    giveAway(dir);
    chmodSync(dir, 0o500);
    const r = await run(['serve', '--data-dir', dir, '--host', '127.0.0.1', '--port', '0'], { unprivileged: true });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `localdls serve: the data folder ${dir} is read-only: LocalDLS writes the database and its -wal and -shm files there; make it writable for this user (chmod u+w ${dir}), or pass another --data-dir`,
    );
    expect(r.stderr).not.toMatch(NO_STACK);
    expect(modeOf(dir)).toBe(0o500);
  });

  it('the read-only views still read a read-only folder (from a copy in memory), and change nothing in it', async () => {
    const dir = copyOfPopulated();
    giveAway(dir);
    chmodSync(dir, 0o500);
    const before = readdirSync(dir).sort();
    const devices = await run(['devices', '--data-dir', dir, '--json'], { unprivileged: true });
    expect(devices.code, devices.stderr).toBe(0);
    expect((JSON.parse(devices.stdout) as { mac: string }[]).map((d) => d.mac).sort()).toEqual(['01', '02', '03', '04', '05'].map((n) => `00:1A:E8:00:00:${n}`));
    const traffic = await run(['traffic', '--data-dir', dir, '--limit', '3', '--json'], { unprivileged: true });
    expect(traffic.code, traffic.stderr).toBe(0);
    expect(traffic.stdout.trim().split('\n')).toHaveLength(3);
    expect(readdirSync(dir).sort()).toEqual(before);
    expect(modeOf(dir)).toBe(0o500);
  });

  it('a read-only folder whose database has changes only in its -wal (serve was killed) gets a message, not stale data', async () => {
    const live = copyOfPopulated();
    const dir = join(newDir(), 'site');
    mkdirSync(dir);
    const raw = new BetterSqlite3(join(live, 'localdls.sqlite'));
    raw.pragma('wal_autocheckpoint = 0');
    raw.exec("UPDATE devices SET e164 = '4900' WHERE mac = '00:1A:E8:00:00:01'");
    // A copy as a crash leaves it: the change is in -wal only, and -shm is gone.
    for (const f of ['localdls.sqlite', 'localdls.sqlite-wal']) cpSync(join(live, f), join(dir, f));
    raw.close();
    const db = join(dir, 'localdls.sqlite');
    expect(statSync(`${db}-wal`).size).toBeGreaterThan(0);
    giveAway(dir);
    chmodSync(dir, 0o500);
    const r = await run(['devices', '--data-dir', dir], { unprivileged: true });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      `localdls devices: cannot read ${db}: the data folder ${dir} is read-only and the database has changes in ${db}-wal that SQLite can only read ` +
        `by writing ${db}-shm there; make the folder writable for this user, or copy it somewhere writable (cp -a) and pass that --data-dir`,
    );
    // Made writable, the same folder shows the change.
    chmodSync(dir, 0o700);
    const after = await run(['devices', '--data-dir', dir, '--json'], { unprivileged: true });
    expect(after.code, after.stderr).toBe(0);
    expect((JSON.parse(after.stdout) as { mac: string; e164: string }[]).find((d) => d.mac === '00:1A:E8:00:00:01')?.e164).toBe('4900');
  });

  it('a read-only database file in a writable folder is named', async () => {
    const dir = copyOfPopulated();
    giveAway(dir);
    const db = join(dir, 'localdls.sqlite');
    chmodSync(db, 0o400);
    const r = await run(['serve', '--data-dir', dir, '--host', '127.0.0.1', '--port', '0'], { unprivileged: true });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`localdls serve: the database ${db} is read-only: make it writable for this user (chmod u+w ${db}), or pass another --data-dir`);
    expect(r.stderr).not.toMatch(NO_STACK);
  });

  it('a data folder that cannot be made, because the folder above is read-only, is named', async () => {
    const parent = join(newDir(), 'locked');
    mkdirSync(parent);
    giveAway(parent);
    chmodSync(parent, 0o500);
    const dir = join(parent, 'site');
    const r = await run(['serve', '--data-dir', dir, '--host', '127.0.0.1', '--port', '0'], { unprivileged: true });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`localdls serve: cannot create the folder ${dir}: permission denied: ${dir} or the folder ${parent} is read-only for this user; make it writable (chmod u+w) or use another data folder (--data-dir)`);
    expect(r.stderr).not.toMatch(NO_STACK);
    expect(existsSync(dir)).toBe(false);
  });

  it('a data folder that is a link to nothing is named as such, and nothing is made or removed', async () => {
    const base = newDir();
    const dir = join(base, 'site');
    symlinkSync(join(base, 'gone'), dir);
    const r = await run(['serve', '--data-dir', dir, '--host', '127.0.0.1', '--port', '0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`localdls serve: ${dir} is a link to ${join(base, 'gone')}, which does not exist: make that folder, or choose another data folder (--data-dir)`);
    expect(r.stderr).not.toMatch(NO_STACK);
    expect([lstatSync(dir).isSymbolicLink(), existsSync(join(base, 'gone'))]).toEqual([true, false]);
  });
});

function esc(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
