/**
 * A start of `serve` that fails (a port in use, most often) on a data folder it made itself leaves
 * nothing behind: a mistyped --data-dir must not become an empty site beside the real one
 * (helper-77). What existed before the start is never touched.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PID_FILE } from '../store';

/** What this start may remove if it fails: the folder it creates, or what it puts in an empty one. */
export type FreshDataDir = { dir: string; made: 'folder' | 'contents'; top: string } | null;

/** Taken before anything is opened or written. */
export function freshDataDir(dir: string): FreshDataDir {
  if (!existsSync(dir)) {
    // The highest folder of the path that is not there yet: a start makes them all (mkdir -p).
    let top = dir;
    while (dirname(top) !== top && !existsSync(dirname(top))) top = dirname(top);
    return { dir, made: 'folder', top };
  }
  try {
    return readdirSync(dir).length === 0 ? { dir, made: 'contents', top: dir } : null;
  } catch {
    return null; // not a folder we can read: the start says why, and nothing is removed
  }
}

/**
 * Removes what the failed start made, once its service has stopped. Only while the folder's service
 * file names this process: another `serve` that took the folder meanwhile keeps it. Returns what was
 * removed (for the notice), or null.
 */
export function removeFreshDataDir(fresh: FreshDataDir): string | null {
  if (!fresh) return null;
  try {
    if (readFileSync(join(fresh.dir, PID_FILE), 'utf8').trim() !== String(process.pid)) return null;
  } catch {
    return null; // no service file: this start wrote nothing that can be told from another's
  }
  if (fresh.made === 'folder') {
    // Each folder made on the way holds only the next one: anything else put there meanwhile stays.
    for (let at = fresh.dir; at !== fresh.top; at = dirname(at)) {
      if (readdirSync(dirname(at)).length !== 1) return null;
    }
    rmSync(fresh.top, { recursive: true, force: true });
    return `removed ${fresh.top}: this failed start made it, and nothing else is in it`;
  }
  for (const entry of readdirSync(fresh.dir)) rmSync(join(fresh.dir, entry), { recursive: true, force: true });
  return `emptied ${fresh.dir} again: it was empty before this failed start`;
}
