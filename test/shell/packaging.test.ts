/**
 * What `npm run dist` packs and refuses to pack (issue 17 #3 #5 #9 #10, issue 13 #7). The real
 * electron-builder run needs Electron for the target (not downloadable here): a run against a
 * stand-in Electron folder measured the app's contents (docs/desktop-packaging.md). Here: the
 * native-build script in a scratch project, the packaging configuration, the icons.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT } from '../security/build';

const scratch: string[] = [];
afterEach(() => {
  for (const d of scratch.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A project with the script, Electron without its binary, and a better-sqlite3 that cannot be built (no prebuild-install, no node-gyp). */
function project(versions = { electron: '39.8.10', betterSqlite3: '12.11.1' }): string {
  const dir = mkdtempSync(join(tmpdir(), 'localdls-native-project-'));
  scratch.push(dir);
  mkdirSync(join(dir, 'scripts'));
  copyFileSync(join(ROOT, 'scripts/electron-native.mjs'), join(dir, 'scripts/electron-native.mjs'));
  writeFileSync(join(dir, 'package.json'), '{"name":"p","type":"module"}');
  for (const [name, version] of [['electron', versions.electron], ['better-sqlite3', versions.betterSqlite3]] as const) {
    mkdirSync(join(dir, 'node_modules', name), { recursive: true });
    writeFileSync(join(dir, 'node_modules', name, 'package.json'), JSON.stringify({ name, version }));
  }
  return dir;
}

/** Runs the script in `dir`, with a temp folder of its own in `dir/tmp` (what it leaves there is checked). */
function native(dir: string, ...args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: join(dir, 'tmp') };
  mkdirSync(env.TMPDIR!, { recursive: true });
  for (const k of Object.keys(env)) if (k.startsWith('npm_config_')) delete env[k];
  const r = spawnSync(process.execPath, [join(dir, 'scripts/electron-native.mjs'), ...args], { cwd: dir, env, encoding: 'utf8' });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

const folder = (electron: string) => `electron-${electron}-${process.platform}-${process.arch}`;

function cachedBuild(dir: string, stamp: Record<string, string>): string {
  const f = join(dir, 'native', folder(stamp.electron!));
  mkdirSync(f, { recursive: true });
  writeFileSync(join(f, 'better_sqlite3.node'), 'binary');
  writeFileSync(join(f, 'build.json'), JSON.stringify(stamp));
  return f;
}

describe('scripts/electron-native.mjs', () => {
  it('for a package, refuses (exit 1) when it cannot build better-sqlite3 for Electron, saying what and why', () => {
    const dir = project();
    const r = native(dir, '--for-package');
    expect(r.code).toBe(1);
    expect(r.out).toContain(`cannot build better-sqlite3 12.11.1 for Electron 39.8.10 (${process.platform}-${process.arch})`);
    expect(r.out).toContain('npm run dist stops here');
    expect(existsSync(join(dir, 'native'))).toBe(false);
    // Its copy of better-sqlite3 is removed on the way out, failed or not (it was left behind).
    expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
  });

  it('for npm start without Electron’s binary: says there is nothing to run, exit 0', () => {
    const r = native(project());
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Electron binary is not installed/);
  });

  it('reuses a build only for the same Electron, better-sqlite3, platform and CPU, and removes other builds', () => {
    const dir = project();
    const key = { electron: '39.8.10', betterSqlite3: '12.11.1', platform: process.platform, arch: process.arch };
    const old = cachedBuild(dir, { ...key, electron: '38.0.0' });
    cachedBuild(dir, key);
    const r = native(dir, '--for-package');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/up to date/);
    expect(existsSync(old)).toBe(false);

    // better-sqlite3 upgraded, or the build made for another CPU: not reused.
    for (const stale of [{ ...key, betterSqlite3: '12.10.0' }, { ...key, arch: process.arch === 'x64' ? 'arm64' : 'x64' }, {}]) {
      const d = project();
      cachedBuild(d, { ...key, ...stale, electron: '39.8.10' });
      if (Object.keys(stale).length === 0) writeFileSync(join(d, 'native', folder('39.8.10'), 'build.json'), 'not json');
      expect(native(d, '--for-package').code).toBe(1);
    }
  });
});

describe('the packaging configuration', () => {
  const yml = readFileSync(join(ROOT, 'electron-builder.yml'), 'utf8');
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { homepage?: string; repository?: { url?: string }; scripts: Record<string, string>; devDependencies: Record<string, string> };

  it('packs only what the app runs: no tsx/esbuild, no better-sqlite3 sources or Node build, native code unpacked', () => {
    for (const excluded of ['tsx', 'esbuild', '@esbuild']) expect(yml).toContain(`"!node_modules/${excluded}{,/**}"`);
    expect(yml).toContain('"!node_modules/better-sqlite3/{build,deps,src}{,/**}"');
    expect(yml).toMatch(/asarUnpack:\n {2}- "native\/\*\*"\n/);
    expect(yml).toMatch(/^afterPack: scripts\/after-pack\.cjs$/m);
    expect(existsSync(join(ROOT, 'scripts/after-pack.cjs'))).toBe(true);
  });

  it('npm run dist: electron-builder pinned, never fetched with npx; the native build required; deb metadata present', () => {
    expect(pkg.devDependencies['electron-builder']).toMatch(/^\d+\.\d+\.\d+$/);
    expect(pkg.scripts.dist).toContain('node scripts/electron-native.mjs --for-package');
    expect(pkg.scripts.dist).not.toMatch(/npx/);
    expect(pkg.homepage).toMatch(/^https:\/\//);
    expect(pkg.repository?.url).toMatch(/^https:\/\//);
  });

  it('never turns the Chromium sandbox off; the deb installs the AppArmor profile Ubuntu 24.04 needs', () => {
    const settings = yml.replace(/#.*$/gm, '');
    expect(settings).not.toMatch(/no-sandbox|executableArgs|afterInstall/);
    // electron-builder's own deb after-install script, in the pinned version, installs the profile.
    const template = join(ROOT, 'node_modules/app-builder-lib/templates/linux');
    expect(readFileSync(join(template, 'after-install.tpl'), 'utf8')).toMatch(/apparmor_parser --replace/);
    expect(readFileSync(join(template, 'apparmor-profile.tpl'), 'utf8')).toMatch(/userns,/);
    expect(JSON.parse(readFileSync(join(ROOT, 'node_modules/electron-builder/package.json'), 'utf8')).version).toBe(pkg.devDependencies['electron-builder']);
  });
});

describe('the app icon (resources/, made by scripts/icons.mjs from icon.svg)', () => {
  const res = (f: string) => readFileSync(join(ROOT, 'resources', f));
  const pngSize = (b: Buffer) => [b.readUInt32BE(16), b.readUInt32BE(20)];

  it('PNG for the window and Linux, ICNS for macOS, ICO for Windows, in the sizes electron-builder uses', () => {
    expect(res('icon.svg').toString()).toMatch(/^<svg /);
    expect(pngSize(res('icon.png'))).toEqual([1024, 1024]);
    for (const n of [16, 32, 48, 64, 128, 256, 512]) expect(pngSize(res(`icons/${n}x${n}.png`))).toEqual([n, n]);
    const icns = res('icon.icns');
    expect(icns.subarray(0, 4).toString('latin1')).toBe('icns');
    for (const type of ['ic10', 'ic09', 'ic08', 'it32']) expect(icns.includes(Buffer.from(type, 'latin1')), type).toBe(true);
    const ico = res('icon.ico');
    expect([ico.readUInt16LE(0), ico.readUInt16LE(2)]).toEqual([0, 1]);
    expect(ico.readUInt16LE(4)).toBe(7);
    const yml = readFileSync(join(ROOT, 'electron-builder.yml'), 'utf8');
    for (const path of ['resources/icon.icns', 'resources/icons', 'resources/icon.ico', 'resources/icon.png']) expect(yml).toContain(path);
  });
});
