/**
 * better-sqlite3 built for Electron's ABI (scripts/electron-native.mjs), kept apart from the Node
 * build in node_modules that `npm test` and the CLI use. Packaged, it lives beside the archive
 * (asarUnpack: dlopen needs a real file) and must be there; from the sources it may be missing,
 * and loading the Node build then fails with a message the start-up dialog explains.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export function electronBindingPath(appPath: string, electronVersion: string, packaged: boolean): string | undefined {
  const base = appPath.replace(/app\.asar$/, 'app.asar.unpacked');
  const candidate = join(base, 'native', nativeFolder(electronVersion), 'better_sqlite3.node');
  if (existsSync(candidate)) return candidate;
  if (packaged) {
    throw Object.assign(new Error(`${candidate} is missing (the package was built without it)`), { code: 'ERR_DLOPEN_FAILED' });
  }
  return undefined;
}

/** One folder per Electron version, platform and CPU (scripts/electron-native.mjs writes it). */
export function nativeFolder(electronVersion: string, platform: string = process.platform, arch: string = process.arch): string {
  return `electron-${electronVersion}-${platform}-${arch}`;
}
