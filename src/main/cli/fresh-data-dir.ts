/**
 * A start of `serve` that fails (a port in use, most often), or is stopped before it listens, on a
 * data folder it made itself leaves nothing behind: a mistyped --data-dir must not become an empty
 * site beside the real one (helper-77). What existed before the start stays as it was.
 */
import { chmodSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { freshDataDir, type FreshDataDir } from '../files/fresh-dir';
import { acquireServiceLock } from '../store';

export { freshDataDir, type FreshDataDir };

/**
 * Removes what the failed start made, once its service has stopped. Only with the folder's service
 * lock in hand: a `serve` that has taken the folder meanwhile keeps it, and one started at the same
 * moment cannot be opening the database unseen (a service takes the lock before it opens it).
 * Returns what was removed (for the notice), or null.
 */
export function removeFreshDataDir(fresh: FreshDataDir): string | null {
  if (!fresh || !existsSync(fresh.dir)) return null;
  let lock: ReturnType<typeof acquireServiceLock>;
  try {
    lock = acquireServiceLock(fresh.dir);
  } catch {
    return null; // another service holds it, or the folder cannot be written: left as it is
  }
  try {
    if (fresh.made === 'folder') {
      // Each folder made on the way holds only the next one: anything else put there meanwhile stays.
      for (let at = fresh.dir; at !== fresh.top; at = dirname(at)) {
        if (readdirSync(dirname(at)).length !== 1) return null;
      }
      rmSync(fresh.top, { recursive: true, force: true });
      return `removed ${fresh.top}: this failed start made it, and nothing else is in it`;
    }
    for (const entry of readdirSync(fresh.dir)) rmSync(join(fresh.dir, entry), { recursive: true, force: true });
    chmodSync(fresh.dir, fresh.mode);
    return `emptied ${fresh.dir} again: it was empty before this failed start`;
  } finally {
    lock.release();
  }
}
