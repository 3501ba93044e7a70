/**
 * One running service per data folder. The lock is an exclusive SQLite lock (an OS file lock
 * underneath) held by an open connection for the service's lifetime: the OS drops it when the
 * process ends, however it ends, so a crashed owner never blocks a start, and two services
 * starting at once cannot both get it. The owner's pid goes into a side file, only to name it.
 * Read-only commands (devices, traffic, job add …) do not take it: SQLite's WAL lets them work
 * beside the service.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { createPrivateFile, narrow, writePrivateFile } from '../files/private-files';

export interface ServiceLock {
  release(): void;
}

export const LOCK_FILE = 'service.lock';
export const PID_FILE = 'service.pid';
const LOCK_WAIT_MS = 250;

export function acquireServiceLock(dataDir: string, nativeBinding?: string): ServiceLock {
  const path = join(dataDir, LOCK_FILE);
  // 0600 like every file in the data folder; SQLite would make it 0644 (and its journal the same).
  if (!createPrivateFile(path)) narrow(path, 'lock file');
  // A short wait, not none: two starting at the same instant would otherwise both be refused (each
  // sees the other's attempt), while a running owner holds the lock for good and still refuses.
  const db = new BetterSqlite3(path, { timeout: LOCK_WAIT_MS, ...(nativeBinding ? { nativeBinding } : {}) });
  try {
    // EXCLUSIVE locking mode keeps the write lock after the first transaction until close.
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
    db.exec('CREATE TABLE IF NOT EXISTS owner (pid INTEGER NOT NULL, since INTEGER NOT NULL)');
    db.prepare('DELETE FROM owner').run();
    db.prepare('INSERT INTO owner (pid, since) VALUES (?, ?)').run(process.pid, Date.now());
    db.exec('COMMIT');
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code === 'SQLITE_BUSY') {
      const owner = ownerPid(dataDir);
      throw new Error(`another LocalDLS service${owner ? ` (process ${owner})` : ''} is running on the data folder ${dataDir}: stop it first, or give this one another --data-dir`);
    }
    throw err;
  }
  try {
    writePrivateFile(join(dataDir, PID_FILE), `${process.pid}\n`);
  } catch (err) {
    // Not held on: this process would refuse itself later ("another LocalDLS service is running").
    db.close();
    throw err;
  }
  return {
    release() {
      if (db.open) db.close();
    },
  };
}

function ownerPid(dataDir: string): number | null {
  try {
    const pid = Number(readFileSync(join(dataDir, PID_FILE), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/**
 * Whether a service seems to run on this data folder: its pid file names a live process. A hint
 * for messages only (a pid can be reused); the lock itself is the rule, and probing it would make
 * a service starting at that moment fail.
 */
export function serviceSeemsRunning(dataDir: string): boolean {
  const pid = ownerPid(dataDir);
  if (pid === null) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
