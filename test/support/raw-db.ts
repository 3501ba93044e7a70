/**
 * A second SQLite connection to a data folder's database, as an outside tool would open it: for
 * checks the Store does not offer (integrity, plans) and for planting faults. The Store itself
 * never hands out its handle.
 */
import BetterSqlite3, { type Database } from 'better-sqlite3';
import { join } from 'node:path';
import { DATABASE_FILE } from '../../src/main/store/data-dir';

export function openRawDb(dataDir: string, options: { readonly?: boolean } = {}): Database {
  const db = new BetterSqlite3(join(dataDir, DATABASE_FILE), { readonly: options.readonly ?? false, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  return db;
}

/** Runs `fn` on a second connection and closes it. */
export function withRawDb<T>(dataDir: string, fn: (db: Database) => T): T {
  const db = openRawDb(dataDir);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}
