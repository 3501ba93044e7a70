#!/usr/bin/env node
/**
 * Builds better-sqlite3 for Electron's ABI into native/electron-<version>/better_sqlite3.node and
 * leaves node_modules untouched, so `npm test` and the CLI keep using the Node build while the
 * desktop app passes this file to better-sqlite3's `nativeBinding` option.
 * Tries a prebuilt binary first (prebuild-install), then compiles with node-gyp.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, copyFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const electronDir = dirname(require.resolve('electron/package.json'));
const version = JSON.parse(readFileSync(join(electronDir, 'package.json'), 'utf8')).version;
const target = join(root, 'native', `electron-${version}`, 'better_sqlite3.node');

if (existsSync(target)) process.exit(0);
if (!existsSync(join(electronDir, 'path.txt'))) {
  console.log('electron-native: the Electron binary is not installed (ELECTRON_SKIP_BINARY_DOWNLOAD?); nothing to build. Use `localdls serve` for the headless service.');
  process.exit(0);
}

const source = dirname(require.resolve('better-sqlite3/package.json'));
const work = mkdtempSync(join(tmpdir(), 'localdls-native-'));
const copy = join(work, 'better-sqlite3');
cpSync(source, copy, { recursive: true, filter: (p) => !p.includes(`${join(source, 'build')}`) });
const run = (cmd, args) => execFileSync(cmd, args, { cwd: copy, stdio: 'inherit', env: { ...process.env, npm_config_runtime: 'electron', npm_config_target: version } });
try {
  try {
    run(process.execPath, [require.resolve('prebuild-install/bin.js'), '--runtime', 'electron', '--target', version]);
  } catch {
    const gyp = process.env.npm_config_node_gyp ?? require.resolve('node-gyp/bin/node-gyp.js');
    run(process.execPath, [gyp, 'rebuild', '--release', '--runtime=electron', `--target=${version}`, '--dist-url=https://electronjs.org/headers']);
  }
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(join(copy, 'build', 'Release', 'better_sqlite3.node'), target);
  console.log(`electron-native: better-sqlite3 for Electron ${version} -> ${target}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
