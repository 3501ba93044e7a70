/**
 * Files at rest (issue 12, item 6): what LocalDLS writes in its data folder is the owner's only,
 * whatever the umask or the modes found there. Real files; the umask of this test process is set
 * for each case (the CLI tests do the same through a shell's umask).
 */
import BetterSqlite3 from 'better-sqlite3';
import { chmodSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadOrCreateDefaultIdentity } from '../../src/main/pki';
import { createPrivateFile, ensurePrivateDir, writePrivateFile } from '../../src/main/files/private-files';
import { DatabaseOpenError, explain } from '../../src/main/store/data-dir';
import { Store, type ExchangeRecord } from '../../src/main/store';
import { allFiles, fastProtector, forgeCertificate, modeOf, openPki } from '../pki/helpers';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();
const posix = process.platform !== 'win32';
const originalUmask = process.umask();
afterEach(() => {
  process.umask(originalUmask);
});

const MAC = '00:1A:E8:00:00:01';
function record(): ExchangeRecord {
  return {
    kind: 'wpi', started: 1000, ended: 1005, listener: 'default', localPort: 18443, peerAddress: '127.0.0.1', peerPort: 5000,
    tlsProtocol: 'TLSv1.3', tlsCipher: 'TLS_AES_256_GCM_SHA384', method: 'POST', path: '/DeploymentService/LoginService',
    httpStatus: 200, requestHeaders: [], requestBody: Buffer.from('<req/>'), responseHeaders: [], responseBody: Buffer.from('<res/>'),
    mac: MAC, reason: 'start-up', replyAction: null, replyStatus: null, nonce: 'N1', fragment: null, itemCount: 0, refusedItems: 0, action: 'CleanUp', error: null, warning: null,
  };
}

/** Every folder below `dir`, and `dir`. */
function allDirs(dir: string): string[] {
  const out = [dir];
  for (const f of allFiles(dir)) {
    for (let d = join(f, '..'); d.length > dir.length && !out.includes(d); d = join(d, '..')) out.push(d);
  }
  return out;
}

describe.skipIf(!posix)('files at rest: modes whatever the umask', () => {
  for (const umask of [0o000, 0o022, 0o277]) {
    it(`umask ${umask.toString(8).padStart(4, '0')}: the data folder (and missing parents) 0700, the database, -wal and -shm 0600`, () => {
      process.umask(umask);
      const parent = join(newDir(), 'sites', 'a');
      const dir = join(parent, 'data');
      const store = new Store(dir);
      // An exchange leaves pages in the -wal while the store is open; -shm exists from the start.
      store.commit(record(), { device: { mac: MAC, lastAddress: '127.0.0.1' }, openInteraction: { reason: 'start-up' } }, null);
      for (const d of [join(parent, '..'), parent, dir]) expect(modeOf(d), d).toBe(0o700);
      const db = join(dir, 'localdls.sqlite');
      expect(statSync(`${db}-wal`).size).toBeGreaterThan(0);
      for (const f of [db, `${db}-wal`, `${db}-shm`]) expect(modeOf(f), f).toBe(0o600);
      expect(store.notices).toEqual([]);
      store.close();
    });

    it(`umask ${umask.toString(8).padStart(4, '0')}: every PKI and TLS file 0600, every folder 0700, no temporary file left`, async () => {
      process.umask(umask);
      const dir = join(newDir(), 'data');
      const pki = await openPki(dir, { keyBits: 1024 });
      await pki.secureServerIdentity({ dns: ['localhost'], ips: ['127.0.0.1'] });
      await pki.issueDeviceCertificates([MAC, '00:1A:E8:00:00:02']);
      const site = forgeCertificate({ cn: 'Site CA', ca: true });
      await pki.importCa(Buffer.from(site.certPem + site.keyPem)); // archives the old CA under previous-cas/
      await loadOrCreateDefaultIdentity(dir, fastProtector(dir)); // tls/default-server.key.sealed + .crt
      const clear = join(newDir(), 'clear');
      await loadOrCreateDefaultIdentity(clear); // tls/default-server.key in clear

      const files = [...allFiles(dir), ...allFiles(clear)];
      const names = files.map((f) => f.slice(f.indexOf('/pki/') >= 0 ? f.indexOf('/pki/') : f.indexOf('/tls/')));
      expect(names).toEqual(expect.arrayContaining([
        '/pki/kdf.json', '/pki/pki.json', '/pki/ca.crt', '/pki/ca.key.sealed', '/pki/server/secure-server.json',
        '/pki/devices/00-1A-E8-00-00-01.crt', '/pki/devices/00-1A-E8-00-00-01.key.sealed', '/tls/default-server.crt', '/tls/default-server.key.sealed', '/tls/default-server.key',
      ]));
      expect(names.filter((n) => n.startsWith('/pki/previous-cas/'))).toHaveLength(2);
      for (const f of files) expect(modeOf(f), f).toBe(0o600);
      for (const d of [...allDirs(dir), ...allDirs(clear)]) expect(modeOf(d), d).toBe(0o700);
      expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
    });
  }
});

describe.skipIf(!posix)('files at rest: what is already there', () => {
  it('narrows an existing 0755 folder and 0644 database files to the owner, and says so', () => {
    process.umask(0o022);
    const dir = newDir();
    chmodSync(dir, 0o755);
    new Store(dir).close();
    const db = join(dir, 'localdls.sqlite');
    const raw = new BetterSqlite3(db); // holds -wal and -shm open, as a second process would
    raw.pragma('journal_mode = WAL');
    chmodSync(dir, 0o755);
    for (const f of [db, `${db}-wal`, `${db}-shm`]) chmodSync(f, 0o644);
    const store = new Store(dir);
    expect(modeOf(dir)).toBe(0o700);
    for (const f of [db, `${db}-wal`, `${db}-shm`]) expect(modeOf(f), f).toBe(0o600);
    expect(store.notices).toEqual([
      `the folder ${dir} was open to group or others (mode 0755): narrowed to 0700`,
      `the database file ${db} was open to group or others (mode 0644): narrowed to 0600`,
      `the database file ${db}-wal was open to group or others (mode 0644): narrowed to 0600`,
      `the database file ${db}-shm was open to group or others (mode 0644): narrowed to 0600`,
    ]);
    store.close();
    raw.close();
  });

  it("takes group and other bits away but leaves the owner's alone (a folder made read-only stays so)", () => {
    const dir = newDir();
    chmodSync(dir, 0o555);
    expect(ensurePrivateDir(dir)).toBe(`the folder ${dir} was open to group or others (mode 0555): narrowed to 0500`);
    expect(modeOf(dir)).toBe(0o500);
    chmodSync(dir, 0o700);
    expect(ensurePrivateDir(dir)).toBeNull();
  });

  it('narrows the pki and tls folders of an older data folder when they are opened again', async () => {
    const dir = newDir();
    await openPki(dir, { keyBits: 1024 });
    await loadOrCreateDefaultIdentity(dir);
    chmodSync(join(dir, 'pki'), 0o755);
    chmodSync(join(dir, 'tls'), 0o755);
    await openPki(dir, { keyBits: 1024 });
    await loadOrCreateDefaultIdentity(dir);
    expect(modeOf(join(dir, 'pki'))).toBe(0o700);
    expect(modeOf(join(dir, 'tls'))).toBe(0o700);
  });

  it('a read-only open (the CLI views) changes no mode: the files may be someone else', () => {
    const dir = newDir();
    new Store(dir).close();
    const db = join(dir, 'localdls.sqlite');
    chmodSync(dir, 0o755);
    chmodSync(db, 0o644);
    const store = new Store(dir, { readonly: true });
    expect(store.devices()).toEqual([]);
    store.close();
    expect(modeOf(dir)).toBe(0o755);
    expect(modeOf(db)).toBe(0o644);
  });

  it('the database file is created 0600 with O_EXCL: a link planted in its place is not followed', () => {
    const dir = newDir();
    const target = join(newDir(), 'elsewhere');
    writeFileSync(target, 'x');
    chmodSync(target, 0o644);
    symlinkSync(target, join(dir, 'new.sqlite'));
    expect(createPrivateFile(join(dir, 'new.sqlite'))).toBe(false);
    expect(modeOf(target)).toBe(0o644);
    expect(createPrivateFile(join(dir, 'fresh.sqlite'))).toBe(true);
    expect(modeOf(join(dir, 'fresh.sqlite'))).toBe(0o600);
  });

  it('a PIN sheet written over an existing 0644 file becomes 0600 before the PINs are in it', () => {
    process.umask(0o000);
    const sheet = join(newDir(), 'pins.csv');
    writeFileSync(sheet, 'old');
    chmodSync(sheet, 0o644);
    writePrivateFile(sheet, 'mac,pin\n00:1A:E8:00:00:01,12345678\n');
    expect(modeOf(sheet)).toBe(0o600);
    expect(readFileSync(sheet, 'utf8')).toBe('mac,pin\n00:1A:E8:00:00:01,12345678\n');
    const fresh = join(newDir(), 'new.csv');
    writePrivateFile(fresh, 'x');
    expect(modeOf(fresh)).toBe(0o600);
  });

  it('a file where the data folder should be gets a message naming it', () => {
    const file = join(newDir(), 'data');
    writeFileSync(file, '');
    expect(() => new Store(file)).toThrow(`${file} is not a folder: remove it, or choose another data folder (--data-dir)`);
    expect(() => new Store(join(file, 'below'))).toThrow(`${file} is not a folder`);
  });
});

describe('files at rest: damaged and foreign databases', () => {
  it('the integrity check refuses a database whose structure is wrong, before writing to it', () => {
    const dir = newDir();
    new Store(dir).close();
    const db = join(dir, 'localdls.sqlite');
    const bytes = readFileSync(db);
    bytes.writeUInt32BE(7, 36); // the header's free-page count: quick_check reports it, opening does not notice
    writeFileSync(db, bytes);
    const err = catchError(() => new Store(dir, { integrityCheck: true }));
    expect(err).toBeInstanceOf(DatabaseOpenError);
    expect((err as DatabaseOpenError).problem).toBe('damaged');
    expect((err as Error).message).toBe(
      `the database ${db} is damaged (quick_check: Freelist: size is 0 but should be 7): stop LocalDLS, move ${db} and its -wal and -shm files aside ` +
        `and start again to begin with an empty database, or put back a backup (\`sqlite3 ${db} .recover\` may rescue what is left)`,
    );
    expect(readFileSync(db).equals(bytes)).toBe(true);
    // Without the check (CLI commands) the same file opens: the check is what catches it.
    new Store(dir).close();
  });

  it('a file that is not a database is named, for writing and for reading', () => {
    const dir = newDir();
    const db = join(dir, 'localdls.sqlite');
    writeFileSync(db, 'This is a spreadsheet someone saved here, not SQLite. '.repeat(40));
    for (const options of [{ integrityCheck: true }, { readonly: true }]) {
      const err = catchError(() => new Store(dir, options));
      expect((err as DatabaseOpenError).problem).toBe('not-a-database');
      expect((err as Error).message).toBe(
        `${db} is not a LocalDLS database (SQLite: file is not a database): pass the right --data-dir, or move the file aside and start again to begin with a new, empty database`,
      );
    }
  });

  it('a folder where the database should be is named', () => {
    const dir = newDir();
    const db = join(dir, 'localdls.sqlite');
    mkdirSync(db);
    chmodSync(db, 0o755);
    expect(() => new Store(dir)).toThrow(`${db} is not a database file (it is a folder or a special file): move it aside, or pass another --data-dir`);
    expect(modeOf(db)).toBe(0o755);
  });

  it('maps SQLite codes it does not own to itself, and leaves other errors alone', () => {
    const other = new Error('something else');
    expect(explain(other, '/d', '/d/localdls.sqlite')).toBe(other);
    const full = explain(new BetterSqlite3.SqliteError('database or disk is full', 'SQLITE_FULL'), '/d', '/d/localdls.sqlite');
    expect((full as Error).message).toBe('cannot write the database /d/localdls.sqlite: the disk is full (SQLite: database or disk is full); free some space and start again');
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}
