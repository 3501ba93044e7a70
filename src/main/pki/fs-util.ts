/** File helpers for the PKI directory: private directories and atomic, private writes (see src/main/files/private-files.ts). */
export { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, ensurePrivateDir, writeFileAtomic, writeFileExclusive } from '../files/private-files';

/** The message of an unknown thrown value. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
