/**
 * Opening the data folder and its database (docs/security.md, "Files at rest"): the folder 0700 and
 * the database files 0600 whatever the umask, the integrity check at start, and a message naming the
 * file and what to do — not a raw SQLite or errno code — for a damaged, foreign or read-only database.
 */
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import { freshDataDir, type FreshDataDir } from '../files/fresh-dir';
import { createPrivateFile, ensurePrivateDir, narrow } from '../files/private-files';
import { CLEAN_STOP_FILE, takeCleanStop } from './clean-stop';
import { MIGRATIONS, migrate } from './migrations';
import { acquireServiceLock, type ServiceLock } from './service-lock';
import type { StoreOptions } from './store';

export const DATABASE_FILE = 'localdls.sqlite';
/** Files SQLite keeps beside the database; it creates them with the database's mode. */
const SIDE_FILES = ['-wal', '-shm', '-journal'] as const;
/** A read-only folder is read from a copy in memory up to this size (see openForReading). */
const MAX_SNAPSHOT_BYTES = 1024 * 1024 * 1024;

export type DatabaseProblem = 'damaged' | 'not-a-database' | 'read-only' | 'unreadable';

/** The database cannot be used; the message names the file and what to do. */
export class DatabaseOpenError extends Error {
  constructor(
    message: string,
    readonly path: string,
    readonly problem: DatabaseProblem,
  ) {
    super(message);
    this.name = 'DatabaseOpenError';
  }
}

export interface OpenedDatabase {
  db: Database;
  /** Modes narrowed and other things worth telling the admin at start (`serve` prints them). */
  notices: string[];
  /** With integrityCheck: when quick_check last passed, and whether it ran now or the file was as a clean stop left it (clean-stop.ts). */
  integrity?: { checkedAt: number; ran: boolean };
  /** With serviceLock: the folder's service lock, taken before the database file was touched. */
  lock?: ServiceLock;
  /**
   * With serviceLock: what this open made again after another start, failing, took the folder
   * back while this one waited for the lock (lockFolder). A `serve` that fails in turn takes it
   * back as if it had made it (cli/serve.ts): it saw the folder made before, so would keep it.
   */
  remade?: FreshDataDir;
}

/** Opens (creating, migrating) the database of `dataDir` for the service or a CLI write, or for reading only. */
export function openDatabase(dataDir: string, options: StoreOptions = {}): OpenedDatabase {
  const path = join(dataDir, DATABASE_FILE);
  return options.readonly ? openForReading(dataDir, path, options) : openForWriting(dataDir, path, options);
}

function openForWriting(dataDir: string, path: string, options: StoreOptions): OpenedDatabase {
  const notices: string[] = [];
  const narrowedDir = ensurePrivateDir(dataDir);
  if (narrowedDir) notices.push(narrowedDir);
  if (!writable(dataDir)) throw readOnly(dataDir, path, 'folder');
  // Before the database file is made or opened: see StoreOptions.serviceLock.
  const { lock, remade } = options.serviceLock ? lockFolder(dataDir, options.nativeBinding) : { lock: undefined, remade: null };
  try {
    return { ...openWritable(path, dataDir, options, notices), ...(lock ? { lock } : {}), ...(remade ? { remade } : {}) };
  } catch (e) {
    lock?.release();
    throw e;
  }
}

/**
 * The folder's service lock. A start that waited for it while another start, failing at the same
 * moment, took the folder back (cli/fresh-data-dir.ts) holds a lock on a removed file: the folder
 * is made again and the lock taken anew, as if this start had come first.
 */
function lockFolder(dataDir: string, nativeBinding: string | undefined): { lock: ServiceLock; remade: FreshDataDir } {
  let remade: FreshDataDir = null;
  for (let attempt = 1; ; attempt++) {
    try {
      return { lock: acquireServiceLock(dataDir, nativeBinding), remade };
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (attempt === 3 || (code !== 'SQLITE_READONLY_DBMOVED' && code !== 'ENOENT')) throw e;
      // What this start makes again is its own to take back if it fails too (helper-80: the
      // folder stayed, database and all, after both starts had failed).
      remade = freshDataDir(dataDir) ?? remade;
      ensurePrivateDir(dataDir);
    }
  }
}

function openWritable(path: string, dataDir: string, options: StoreOptions, notices: string[]): OpenedDatabase {
  // Made here with 0600 rather than by SQLite (0644 & ~umask); SQLite then gives -wal and -shm the database's mode.
  if (!createPrivateFile(path)) {
    if (!isFile(path)) throw new DatabaseOpenError(`${path} is not a database file (it is a folder or a special file): move it aside, or pass another --data-dir`, path, 'not-a-database');
    for (const f of [path, ...SIDE_FILES.map((s) => path + s)]) {
      const narrowed = narrow(f, 'database file');
      if (narrowed) notices.push(narrowed);
    }
    if (!writable(path)) throw readOnly(dataDir, path, 'file');
  }
  let db: Database | undefined;
  try {
    const now = Date.now();
    const passedAt = options.integrityCheck ? takeCleanStop(join(dataDir, CLEAN_STOP_FILE), path, now, options.skipCheckFromBytes) : undefined;
    db = new BetterSqlite3(path, { nativeBinding: options.nativeBinding, fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    if (options.integrityCheck && passedAt === undefined) checkIntegrity(db, path);
    // A new database keeps page pointers so that a purge can give freed space back (incremental_vacuum);
    // this only takes effect before the first table exists.
    if ((db.pragma('user_version', { simple: true }) as number) === 0) db.pragma('auto_vacuum = INCREMENTAL');
    db.pragma('journal_mode = WAL');
    // FULL: an exchange whose answer went out is on disk even if the machine loses power. Only
    // benchmarks filling test data ask for less.
    db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
    db.pragma('foreign_keys = ON');
    migrate(db);
    return { db, notices, ...(options.integrityCheck ? { integrity: { checkedAt: passedAt ?? now, ran: passedAt === undefined } } : {}) };
  } catch (e) {
    db?.close();
    throw explain(e, dataDir, path);
  }
}

/**
 * The CLI's views: nothing is created or chmod-ed (the files may be someone else's). SQLite cannot
 * read a WAL database in a folder where it may not create the -shm file, so a read-only folder
 * whose database has no pending -wal is read from a copy in memory instead.
 */
function openForReading(dataDir: string, path: string, options: StoreOptions): OpenedDatabase {
  let db: Database | undefined;
  try {
    db = new BetterSqlite3(path, { nativeBinding: options.nativeBinding, readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    checkVersion(db, dataDir);
    return { db, notices: [] };
  } catch (e) {
    db?.close();
    const code = sqliteCode(e);
    if ((code === 'SQLITE_READONLY_DIRECTORY' || code === 'SQLITE_CANTOPEN') && !writable(dataDir)) return readSnapshot(dataDir, path, options);
    throw explain(e, dataDir, path);
  }
}

function readSnapshot(dataDir: string, path: string, options: StoreOptions): OpenedDatabase {
  const wal = sizeOf(path + '-wal');
  if (wal > 0) {
    throw new DatabaseOpenError(
      `cannot read ${path}: the data folder ${dataDir} is read-only and the database has changes in ${path}-wal that SQLite can only read ` +
        `by writing ${path}-shm there; make the folder writable for this user, or copy it somewhere writable (cp -a) and pass that --data-dir`,
      path,
      'read-only',
    );
  }
  const size = sizeOf(path);
  if (size > MAX_SNAPSHOT_BYTES) {
    throw new DatabaseOpenError(
      `cannot read ${path}: the data folder ${dataDir} is read-only, and the database (${Math.round(size / 1048576)} MB) is too large to read into memory; ` +
        'make the folder writable for this user, or copy it somewhere writable (cp -a) and pass that --data-dir',
      path,
      'read-only',
    );
  }
  let db: Database | undefined;
  try {
    const bytes = readFileSync(path);
    // A WAL database (header bytes 18-19 = 2) in memory would look for a -wal file; 1 = rollback journal, same pages.
    if (bytes.length >= 20 && bytes[18] === 2 && bytes[19] === 2) bytes[18] = bytes[19] = 1;
    db = new BetterSqlite3(bytes, { nativeBinding: options.nativeBinding, readonly: true });
    checkVersion(db, dataDir);
    return { db, notices: [`the data folder ${dataDir} is read-only: showing the database as it is now (read into memory)`] };
  } catch (e) {
    db?.close();
    throw explain(e, dataDir, path);
  }
}

function checkVersion(db: Database, dataDir: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version !== MIGRATIONS.length) {
    throw new Error(`the data in ${dataDir} has schema version ${version}, this LocalDLS reads ${MIGRATIONS.length}: run \`localdls serve\` once with this version to upgrade it`);
  }
}

/**
 * PRAGMA quick_check: every page and b-tree structure, without the (slow) index-content
 * comparison of integrity_check. Refuses a damaged database before anything is written to it.
 */
export function checkIntegrity(db: Database, path: string): void {
  const rows = db.pragma('quick_check(20)') as { quick_check: string }[];
  // One row can hold several lines ("*** in database main ***" then one problem per line).
  const problems = rows
    .flatMap((r) => r.quick_check.split('\n'))
    .map((l) => l.trim())
    .filter((l) => l !== '' && l !== 'ok' && !l.startsWith('*** in database'));
  if (problems.length === 0) return;
  const more = problems.length > 3 ? `; and ${problems.length >= 20 ? 'at least ' : ''}${problems.length - 3} more` : '';
  throw damaged(path, `quick_check: ${problems.slice(0, 3).join('; ')}${more}`);
}

/** A thrown SQLite error as a DatabaseOpenError naming the file and what to do; other errors pass through. */
export function explain(e: unknown, dataDir: string, path: string): unknown {
  const code = sqliteCode(e);
  if (code === undefined) return e;
  const said = e instanceof Error ? e.message : String(e);
  if (code === 'SQLITE_NOTADB') {
    return new DatabaseOpenError(
      `${path} is not a LocalDLS database (SQLite: ${said}): pass the right --data-dir, or move the file aside and start again to begin with a new, empty database`,
      path,
      'not-a-database',
    );
  }
  if (code.startsWith('SQLITE_CORRUPT')) return damaged(path, `SQLite: ${said}`);
  if (code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_CANTOPEN') || code === 'SQLITE_PERM') {
    if (code === 'SQLITE_READONLY_DIRECTORY' || !writable(dataDir)) return readOnly(dataDir, path, 'folder', said);
    if (!writable(path)) return readOnly(dataDir, path, 'file', said);
    return new DatabaseOpenError(
      `cannot open the database ${path} (SQLite: ${said}): check that this user may read and write ${dataDir} and the files in it`,
      path,
      'unreadable',
    );
  }
  if (code === 'SQLITE_FULL') return new DatabaseOpenError(`cannot write the database ${path}: the disk is full (SQLite: ${said}); free some space and start again`, path, 'unreadable');
  if (code.startsWith('SQLITE_IOERR')) {
    return new DatabaseOpenError(`cannot read or write the database ${path} (SQLite: ${said}): check the disk and the folder ${dataDir}, then start again`, path, 'unreadable');
  }
  return e;
}

function damaged(path: string, detail: string): DatabaseOpenError {
  return new DatabaseOpenError(
    `the database ${path} is damaged (${detail}): stop LocalDLS, move ${path} and its -wal and -shm files aside and start again ` +
      `to begin with an empty database, or put back a backup (\`sqlite3 ${path} .recover\` may rescue what is left)`,
    path,
    'damaged',
  );
}

function readOnly(dataDir: string, path: string, what: 'folder' | 'file', said?: string): DatabaseOpenError {
  const sqlite = said ? ` (SQLite: ${said})` : '';
  const message =
    what === 'folder'
      ? `the data folder ${dataDir} is read-only${sqlite}: LocalDLS writes the database and its -wal and -shm files there; make it writable for this user (chmod u+w ${dataDir}), or pass another --data-dir`
      : `the database ${path} is read-only${sqlite}: make it writable for this user (chmod u+w ${path}), or pass another --data-dir`;
  return new DatabaseOpenError(message, what === 'folder' ? dataDir : path, 'read-only');
}

/** access(2) rather than the mode bits: it knows about read-only mounts, ACLs, immutable files and root. */
function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return true; // a dangling link or a race: SQLite's own error says more
  }
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function sqliteCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return e instanceof BetterSqlite3.SqliteError && typeof code === 'string' ? code : undefined;
}
