/**
 * The start-up check without reading the whole file again after a clean stop (issue #14: on a
 * million exchanges `PRAGMA quick_check` took about 20 s of every start, with no phone answered).
 *
 * When the service closes its database cleanly (SQLite has checkpointed and removed the WAL), it
 * notes the file as it left it: size, inode, modification and change times to the nanosecond, and
 * when quick_check last passed. The next start skips quick_check only when the file is exactly that
 * file, untouched since: a write to it after the stop, by anything (another LocalDLS, sqlite3, a
 * copy, a restore), moves its change time, which the kernel sets and no program can set back on a
 * local Linux file system. It checks again after a crash (the note is removed as the database opens,
 * so only a clean close leaves one), with a WAL beside the file, when the last check is over a day
 * old, for a file small enough that the check takes about a second (below MIN_SKIP_BYTES), and on
 * any other system or file system (Windows lets programs set the change time; FAT has none; a
 * network file system may cache it).
 *
 * What the note trusts is the file as the service closed it. Damage done while the service ran and
 * that SQLite never tripped over (pages overwritten behind its back, a disk returning wrong bytes)
 * is found by the next full check, at the latest a day later.
 */
import { existsSync, readFileSync, rmSync, statfsSync, statSync } from 'node:fs';
import { writePrivateFile } from '../files/private-files';

/** The longest a passed quick_check is trusted across clean restarts. */
export const MAX_CHECK_AGE_MS = 24 * 3600 * 1000;
/** Below this the check always runs: about a second here (400 MB took 1.5 s), not worth a shortcut. */
export const MIN_SKIP_BYTES = 256 * 1024 * 1024;
/**
 * Local Linux file systems whose change time only the kernel sets (statfs f_type): ext2/3/4, XFS,
 * Btrfs, tmpfs, overlayfs, ZFS, F2FS.
 */
const TRUSTED_FILE_SYSTEMS = new Set([0xef53, 0x58465342, 0x9123683e, 0x01021994, 0x794c7630, 0x2fc12fc1, 0xf2f52010]);

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
export function takeCleanStop(notePath: string, path: string, now: number, minBytes = MIN_SKIP_BYTES): number | undefined {
  if (!existsSync(notePath)) return undefined;
  let note: Partial<Note> | undefined;
  try {
    note = JSON.parse(readFileSync(notePath, 'utf8')) as Partial<Note>;
    rmSync(notePath, { force: true });
  } catch {
    return undefined; // unreadable, or cannot be removed (a folder of that name, no permission): check
  }
  if (!note || typeof note.checkedAt !== 'number' || !(now - note.checkedAt < MAX_CHECK_AGE_MS) || note.checkedAt > now) return undefined;
  if (!trustedFileSystem(path) || statSync(path).size < minBytes) return undefined;
  // A WAL beside the file holds changes the note never saw.
  if (existsSync(`${path}-wal`) && statSync(`${path}-wal`).size > 0) return undefined;
  const file = identity(path);
  if (file.ino === '0' || file.ctimeNs === '0') return undefined;
  const same = (Object.keys(file) as (keyof typeof file)[]).every((k) => note![k] === file[k]);
  return same ? note.checkedAt : undefined;
}

/** Whether `path` is on a local Linux file system whose change time only the kernel sets. */
export function trustedFileSystem(path: string): boolean {
  if (process.platform !== 'linux') return false;
  try {
    return TRUSTED_FILE_SYSTEMS.has(statfsSync(path).type);
  } catch {
    return false;
  }
}

/** After a clean close: notes the file as it is now. Nothing when a WAL remains (another connection still has it open). */
export function noteCleanStop(notePath: string, path: string, checkedAt: number): void {
  if (existsSync(`${path}-wal`)) return;
  writePrivateFile(notePath, `${JSON.stringify({ ...identity(path), checkedAt })}\n`);
}
