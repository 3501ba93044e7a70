/**
 * Files at rest: everything LocalDLS keeps in its data folder is readable by its owner only —
 * folders 0700, files 0600 — whatever the umask. The umask can only take bits away from the mode
 * given to mkdir/open (so an odd umask such as 0277 would leave a folder we cannot write), hence
 * every folder and file we create is chmod-ed to the exact mode afterwards.
 *
 * Existing folders and files are only *narrowed*: group and other bits are removed, the owner's
 * bits are left alone (a folder someone made read-only on purpose stays read-only and gets a clear
 * message later, instead of being made writable behind their back).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, constants, fchmodSync, fstatSync, fsyncSync, linkSync, lstatSync, mkdirSync, openSync, readlinkSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

const POSIX = process.platform !== 'win32';

/** The error a file operation failed with, rewritten to name the path and what to do. */
export class FileAccessError extends Error {
  constructor(
    message: string,
    readonly path: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'FileAccessError';
  }
}

/** Whether `path` is a symbolic link, asked where stat found nothing there (its target is missing). */
export function isDanglingLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false; // not there at all, or a file on the way (said by the stat of the folder above)
  }
}

/**
 * Creates `dir` (and missing parents) 0700, or narrows an existing `dir` to the owner only.
 * Returns a sentence when an existing folder was narrowed (for `serve` to print), else null.
 */
export function ensurePrivateDir(dir: string): string | null {
  const path = resolve(dir);
  const missing: string[] = [];
  for (let d = path; ; d = dirname(d)) {
    const st = statOrNull(d);
    if (st) {
      if (!st.isDirectory()) throw new FileAccessError(`${d} is not a folder: remove it, or choose another data folder (--data-dir)`, d, 'ENOTDIR');
      break;
    }
    // A link whose target is not there: said as such (helper-79: it was called read-only).
    if (isDanglingLink(d)) {
      throw new FileAccessError(`${d} is a link to ${readlinkSync(d)}, which does not exist: make that folder, or choose another data folder (--data-dir)`, d, 'ENOENT');
    }
    missing.unshift(d);
    if (dirname(d) === d) break;
  }
  let created = false;
  for (const d of missing) {
    try {
      mkdirSync(d, { mode: PRIVATE_DIR_MODE });
    } catch (e) {
      if (code(e) === 'EEXIST') continue; // another process made it meanwhile: narrowed below
      throw accessError(e, d, 'create the folder');
    }
    if (POSIX) chmodOrExplain(d, PRIVATE_DIR_MODE, 'make private');
    created = d === path;
  }
  return created ? null : narrow(path, 'folder');
}

/**
 * Removes group and other bits from an existing file or folder; returns a sentence saying so, or
 * null when nothing needed changing (or `path` does not exist).
 */
export function narrow(path: string, what: string): string | null {
  if (!POSIX) return null;
  const st = statOrNull(path);
  if (!st) return null;
  const mode = st.mode & 0o777;
  if ((mode & 0o077) === 0) return null;
  const to = mode & 0o700;
  chmodOrExplain(path, to, 'narrow the mode of');
  return `the ${what} ${path} was open to group or others (mode ${octal(mode)}): narrowed to ${octal(to)}`;
}

/**
 * Creates `path` empty with mode 0600 unless it exists (O_EXCL: a file or link put there by someone
 * else is never followed). Returns true when it was created.
 */
export function createPrivateFile(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, PRIVATE_FILE_MODE);
  } catch (e) {
    if (code(e) === 'EEXIST') return false;
    throw accessError(e, path, 'create');
  }
  try {
    if (POSIX) fchmodSync(fd, PRIVATE_FILE_MODE);
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Writes a file meant for a person (a PIN sheet) with mode 0600, also when `path` already exists
 * with a wider mode: the mode is narrowed before the contents are written.
 */
export function writePrivateFile(path: string, data: string | Buffer): void {
  let fd: number;
  try {
    fd = openSync(path, 'w', PRIVATE_FILE_MODE);
  } catch (e) {
    throw accessError(e, path, 'write');
  }
  try {
    if (POSIX && fstatSync(fd).isFile()) fchmodSync(fd, PRIVATE_FILE_MODE);
    writeAll(fd, data);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes `data` to a temporary file beside `path` with `mode`, flushes it and renames it over `path`:
 * a reader sees the old file or the new one, never half of it.
 */
export function writeFileAtomic(path: string, data: string | Buffer, mode: number = PRIVATE_FILE_MODE): void {
  const tmp = writeTemp(path, data, mode);
  try {
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw accessError(e, path, 'write');
  }
}

/**
 * Like writeFileAtomic, but only when `path` does not exist yet (hard link, so two processes racing
 * to create it cannot both win). Returns false, writing nothing, when `path` already exists.
 */
export function writeFileExclusive(path: string, data: string | Buffer, mode: number = PRIVATE_FILE_MODE): boolean {
  const tmp = writeTemp(path, data, mode);
  try {
    linkSync(tmp, path);
    return true;
  } catch (e) {
    if (code(e) === 'EEXIST') return false;
    throw accessError(e, path, 'write');
  } finally {
    rmSync(tmp, { force: true });
  }
}

function writeTemp(path: string, data: string | Buffer, mode: number): string {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fd: number;
  try {
    fd = openSync(tmp, 'wx', mode);
  } catch (e) {
    throw accessError(e, path, 'write');
  }
  try {
    if (POSIX) fchmodSync(fd, mode); // the umask may have narrowed it
    writeAll(fd, data);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  return tmp;
}

function writeAll(fd: number, data: string | Buffer): void {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let off = 0;
  while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
}

function chmodOrExplain(path: string, mode: number, verb: string): void {
  try {
    chmodSync(path, mode);
  } catch (e) {
    throw accessError(e, path, verb);
  }
}

/**
 * A failed file operation as a sentence that names the path and what to do. EACCES/EROFS/EPERM are
 * the usual ways of a read-only folder, a read-only mount or another user's files.
 */
export function accessError(e: unknown, path: string, verb: string): FileAccessError {
  const c = code(e);
  const raw = e instanceof Error ? e.message : String(e);
  const parent = dirname(path);
  let why: string;
  if (c === 'EROFS') why = `${path} is on a read-only file system: use a data folder on a writable disk (--data-dir)`;
  else if (c === 'EACCES') why = `permission denied: ${path} or the folder ${parent} is read-only for this user; make it writable (chmod u+w) or use another data folder (--data-dir)`;
  else if (c === 'EPERM') why = `not permitted: ${path} belongs to ${ownerOf(path)}; run LocalDLS as that user, or give it to this one (chown)`;
  else if (c === 'ENOSPC') why = 'the disk is full: free some space';
  else why = raw;
  return new FileAccessError(`cannot ${verb} ${path}: ${why}`, path, c);
}

function ownerOf(path: string): string {
  const st = statOrNull(path);
  const me = POSIX && process.getuid ? process.getuid() : undefined;
  return st ? `user id ${st.uid}${me !== undefined ? ` (LocalDLS runs as ${me})` : ''}` : 'another user';
}

function statOrNull(path: string) {
  try {
    return statSync(path);
  } catch (e) {
    // ENOTDIR: something above is a file; the caller's walk up finds and names it.
    if (code(e) === 'ENOENT' || code(e) === 'ENOTDIR') return null;
    throw accessError(e, path, 'read');
  }
}

function code(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | null)?.code;
}

export function octal(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}
