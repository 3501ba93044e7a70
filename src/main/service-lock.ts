/**
 * One running service per data folder. The lock is a file holding the owner's pid, created with
 * O_EXCL; a lock whose process is gone (a crash, kill -9) is taken over. Read-only commands
 * (devices, traffic, job add …) do not take it: SQLite's WAL lets them work beside the service.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface ServiceLock {
  release(): void;
}

export const LOCK_FILE = 'service.lock';

export function acquireServiceLock(dataDir: string): ServiceLock {
  const path = join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      let held = true;
      return {
        release() {
          if (!held) return;
          held = false;
          // Only our own lock: a later owner's file is left alone.
          if (ownerOf(path) === process.pid) unlinkSync(path);
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = ownerOf(path);
      if (owner !== null && owner !== process.pid && alive(owner)) {
        throw new Error(`another LocalDLS service (process ${owner}) is running on the data folder ${dataDir}: stop it first, or give this one another --data-dir (if no LocalDLS service runs, delete ${path})`);
      }
      // Left by a process that is gone: take it over.
      try {
        unlinkSync(path);
      } catch {
        /* another starter took it over first: the next attempt says so */
      }
    }
  }
  throw new Error(`could not lock the data folder ${dataDir} (${path}): another LocalDLS service may be starting on it`);
}

function ownerOf(path: string): number | null {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
