#!/usr/bin/env node
/**
 * Builds better-sqlite3 for Electron's ABI into
 *   native/electron-<electron version>-<platform>-<arch>/better_sqlite3.node  (+ build.json)
 * and leaves node_modules untouched, so `npm test` and the CLI keep using the Node build while the
 * desktop app passes this file to better-sqlite3's `nativeBinding` option (src/main/shell/native-binding.ts).
 * Tries a prebuilt binary first (prebuild-install), then compiles with node-gyp.
 *
 * A build is reused only when build.json names the same Electron, better-sqlite3, platform and
 * CPU: an upgrade of either package or another architecture builds afresh. Folders of other
 * builds are removed, so a package carries one.
 *
 *   node scripts/electron-native.mjs              npm start / npm run dev: without Electron's
 *                                                 binary there is nothing to run, so it only says so
 *   node scripts/electron-native.mjs --for-package  npm run dist: no usable build is an error (exit 1),
 *                                                 never a package whose database cannot open
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const forPackage = process.argv.includes('--for-package');
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const versionOf = (pkg) => JSON.parse(readFileSync(require.resolve(`${pkg}/package.json`), 'utf8')).version;

const key = { electron: versionOf('electron'), betterSqlite3: versionOf('better-sqlite3'), platform: process.platform, arch: process.arch };
const folderName = `electron-${key.electron}-${key.platform}-${key.arch}`;
const folder = join(root, 'native', folderName);
const target = join(folder, 'better_sqlite3.node');
const stampFile = join(folder, 'build.json');

function refuse(message) {
  console.error(`electron-native: ${message}`);
  if (forPackage) console.error('npm run dist stops here: the package would start without a database engine.');
  process.exit(1);
}

function reusable() {
  if (!existsSync(target) || statSync(target).size === 0 || !existsSync(stampFile)) return false;
  try {
    const stamp = JSON.parse(readFileSync(stampFile, 'utf8'));
    return Object.keys(key).every((k) => stamp[k] === key[k]);
  } catch {
    return false;
  }
}

function removeOtherBuilds() {
  const native = join(root, 'native');
  if (!existsSync(native)) return;
  for (const name of readdirSync(native)) if (name !== folderName) rmSync(join(native, name), { recursive: true, force: true });
}

if (reusable()) {
  removeOtherBuilds();
  console.log(`electron-native: ${target} (better-sqlite3 ${key.betterSqlite3}) is up to date`);
  process.exit(0);
}
const electronDir = dirname(require.resolve('electron/package.json'));
if (!forPackage && !existsSync(join(electronDir, 'path.txt'))) {
  console.log('electron-native: the Electron binary is not installed (ELECTRON_SKIP_BINARY_DOWNLOAD?): the desktop app cannot run here. Use `localdls serve` for the headless service.');
  process.exit(0);
}

const source = dirname(require.resolve('better-sqlite3/package.json'));
const work = mkdtempSync(join(tmpdir(), 'localdls-native-'));
const copy = join(work, 'better-sqlite3');
const env = { ...process.env, npm_config_runtime: 'electron', npm_config_target: key.electron, npm_config_arch: key.arch, npm_config_target_arch: key.arch };
/** The refusal, said once the temporary copy is gone. */
let failure;
const run = (cmd, args) => execFileSync(cmd, args, { cwd: copy, stdio: 'inherit', env });
try {
  cpSync(source, copy, { recursive: true, filter: (p) => !p.startsWith(join(source, 'build')) });
  try {
    run(process.execPath, [require.resolve('prebuild-install/bin.js'), '--runtime', 'electron', '--target', key.electron, '--arch', key.arch]);
  } catch {
    const gyp = process.env.npm_config_node_gyp ?? require.resolve('node-gyp/bin/node-gyp.js');
    run(process.execPath, [gyp, 'rebuild', '--release', '--runtime=electron', `--target=${key.electron}`, `--arch=${key.arch}`, '--dist-url=https://electronjs.org/headers']);
  }
  const built = join(copy, 'build', 'Release', 'better_sqlite3.node');
  if (!existsSync(built)) throw new Error(`the build finished without ${built}`);
  rmSync(folder, { recursive: true, force: true });
  mkdirSync(folder, { recursive: true });
  copyFileSync(built, target);
  writeFileSync(stampFile, `${JSON.stringify(key, null, 2)}\n`);
  removeOtherBuilds();
  console.log(`electron-native: better-sqlite3 ${key.betterSqlite3} for Electron ${key.electron} (${key.platform}-${key.arch}) -> ${target}`);
} catch (e) {
  // After the finally: process.exit here would skip it and leave the copy in the temp folder.
  failure = () => refuse(
    `cannot build better-sqlite3 ${key.betterSqlite3} for Electron ${key.electron} (${key.platform}-${key.arch}): ${String(e?.message ?? e).split('\n')[0]}. ` +
      'It needs either a prebuilt binary (prebuild-install, network) or Electron\'s headers and a C/C++ toolchain (node-gyp).',
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
failure?.();
