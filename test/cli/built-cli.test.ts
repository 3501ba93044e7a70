/**
 * The CLI as users run it: `npm run build` bundles it to out/cli/localdls.mjs and bin/localdls runs
 * that, with no tsx. This builds into a temporary copy of the layout (bin/, out/cli/, package.json,
 * node_modules) so it never races other tests, then runs the real process a few times. The
 * other CLI tests run main() in-process, or the run's own build (test/support/built-cli.ts).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import packageJson from '../../package.json';
import { Store } from '../../src/main/store';
import { tempDirs } from '../support/tmp';

const ROOT = resolve(__dirname, '../..');
const newDir = tempDirs();
let root = '';

const run = (args: string[]) => {
  const r = spawnSync(process.execPath, [join(root, 'bin/localdls'), ...args], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'localdls-built-cli-'));
  mkdirSync(join(root, 'bin'));
  copyFileSync(join(ROOT, 'bin/localdls'), join(root, 'bin/localdls'));
  copyFileSync(join(ROOT, 'package.json'), join(root, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'), 'dir');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('the built CLI (bin/localdls)', () => {
  it('says exactly what to do when it is not built', () => {
    const r = run(['--version']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`localdls: the command line is not built (no ${join(root, 'out/cli/localdls.mjs')}): run \`npm run build\` in the LocalDLS folder first.\n`);
  });

  it('runs from the build without tsx: --version, --help, a command on a data directory, an argument error', () => {
    const vite = join(ROOT, 'node_modules/vite/bin/vite.js');
    const build = spawnSync(process.execPath, [vite, 'build', '--config', join(ROOT, 'vite.cli.config.ts')], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, LOCALDLS_CLI_OUT_DIR: join(root, 'out/cli') } });
    expect(build.status, build.stderr).toBe(0);

    expect(run(['--version'])).toMatchObject({ code: 0, stdout: `localdls ${packageJson.version}\n` });
    expect(run(['--help']).stdout).toMatch(/Usage: localdls <command> \[options\]/);

    const dir = newDir();
    new Store(dir).close();
    expect(run(['devices', '--data-dir', dir])).toMatchObject({ code: 0, stdout: 'no devices yet\n' });
    const bad = run(['devices', '--data-dir', dir, '--colour']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^localdls devices: unknown option --colour\n\nlocaldls devices \[--data-dir D\] \[--json\]/);
    // serve --ui before the UI is built names this checkout's out/renderer (not a folder above it), and exits.
    const ui = spawnSync(process.execPath, [join(root, 'bin/localdls'), 'serve', '--data-dir', dir, '--host', '127.0.0.1', '--port', '0', '--ui', '--ui-port', '0'], {
      encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '', LOCALDLS_UI_DIR: '' }, timeout: 30_000,
    });
    expect(ui.status, ui.stderr).toBe(1);
    expect(ui.stderr).toContain(`the web UI is not built (no ${join(root, 'out/renderer/index.html')})`);
    // tsx is not what runs it: the bundle is plain JavaScript.
    expect(spawnSync('grep', ['-l', 'tsx', join(root, 'out/cli/localdls.mjs')]).status).toBe(1);
  }, 120_000);
});
