/** Small file helpers for the PKI directory: private directories and atomic, private writes. */
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, fsyncSync, linkSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;
export const PUBLIC_FILE_MODE = 0o644;

/** Creates `dir` (and parents) and makes `dir` itself 0700. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  if (process.platform !== 'win32') chmodSync(dir, PRIVATE_DIR_MODE);
}

/**
 * Writes `data` to a temporary file beside `path` with `mode`, flushes it and renames it over `path`:
 * a reader sees the old file or the new one, never half of it.
 */
export function writeFileAtomic(path: string, data: string | Buffer, mode: number = PRIVATE_FILE_MODE): void {
  renameSync(writeTemp(path, data, mode), path);
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
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    rmSync(tmp, { force: true });
  }
}

function writeTemp(path: string, data: string | Buffer, mode: number): string {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', mode);
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  if (process.platform !== 'win32') chmodSync(tmp, mode); // the umask may have narrowed it
  return tmp;
}

/** The message of an unknown thrown value. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
