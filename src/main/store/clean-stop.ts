/**
 * The start-up check without reading the whole file again after a clean stop (issue #14: on a
 * million exchanges `PRAGMA quick_check` took about 20 s of every start, with no phone answered).
 *
 * When the service closes its database cleanly (SQLite has checkpointed and removed the WAL), it
 * notes the file as it left it: size, inode, modification and change times to the nanosecond, and
 * when quick_check last passed. The next start skips quick_check only when the file is exactly that
 * file, untouched since: any write to it, by anything (another LocalDLS, sqlite3, a copy, a restore,
 * a disk tool), moves its change time, which no program can set back. It checks again after a
 * crash (the note is removed as the database opens, so only a clean close leaves one), with a WAL
 * beside the file, and at least every MAX_CHECK_AGE_MS. What the note cannot see is damage that
 * changes no metadata (a failing disk); quick_check within the week still finds it.
 */
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { writePrivateFile } from '../files/private-files';

/** The longest a passed quick_check is trusted across clean restarts. */
export const MAX_CHECK_AGE_MS = 7 * 24 * 3600 * 1000;

export const CLEAN_STOP_FILE = 'clean-stop.json';

interface Note {
  size: string;
  ino: string;
  dev: string;
  mtimeNs: string;
  ctimeNs: string;
  /** When quick_check last passed on this file (ms). */
  checkedAt: number;
}

function identity(path: string): Omit<Note, 'checkedAt'> {
  const s = statSync(path, { bigint: true });
  return { size: String(s.size), ino: String(s.ino), dev: String(s.dev), mtimeNs: String(s.mtimeNs), ctimeNs: String(s.ctimeNs) };
}

/**
 * When quick_check last passed on `path`, if the file is exactly as a clean stop left it and that
 * was within MAX_CHECK_AGE_MS of `now`; undefined when it must be checked. Removes the note either
 * way, so a crash from here on leaves none.
 */
export function takeCleanStop(notePath: string, path: string, now: number): number | undefined {
  if (!existsSync(notePath)) return undefined;
  let note: Partial<Note> | undefined;
  try {
    note = JSON.parse(readFileSync(notePath, 'utf8')) as Partial<Note>;
  } catch {
    note = undefined; // unreadable: check
  }
  rmSync(notePath, { force: true });
  if (!note || typeof note.checkedAt !== 'number' || !(now - note.checkedAt < MAX_CHECK_AGE_MS) || note.checkedAt > now) return undefined;
  // A WAL beside the file holds changes the note never saw.
  if (existsSync(`${path}-wal`) && statSync(`${path}-wal`).size > 0) return undefined;
  const file = identity(path);
  const same = (Object.keys(file) as (keyof typeof file)[]).every((k) => note![k] === file[k]);
  return same ? note.checkedAt : undefined;
}

/** After a clean close: notes the file as it is now. Nothing when a WAL remains (another connection still has it open). */
export function noteCleanStop(notePath: string, path: string, checkedAt: number): boolean {
  if (existsSync(`${path}-wal`)) return false;
  writePrivateFile(notePath, `${JSON.stringify({ ...identity(path), checkedAt })}\n`);
  return true;
}
