/**
 * A private build of the app (main, preload, renderer) in a temporary folder, so these tests read
 * exactly the current sources and never race the browser tests rebuilding out/.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '../..');

export function buildApp(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'localdls-security-build-'));
  const cli = join(ROOT, 'node_modules/electron-vite/bin/electron-vite.js');
  const run = spawnSync(process.execPath, [cli, 'build', '--outDir', dir, '--logLevel', 'warn'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' } });
  if (run.status !== 0) throw new Error(`electron-vite build failed (${run.status}):\n${run.stdout}\n${run.stderr}`);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A Content-Security-Policy as directive -> sources. */
export function cspDirectives(csp: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const part of csp.split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name) out.set(name.toLowerCase(), sources);
  }
  return out;
}
