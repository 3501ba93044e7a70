/** What the browser tests need: a current renderer build and Debian's Chromium driven by playwright-core. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll } from 'vitest';
import { CliProcess } from '../support/cli';

export const ROOT = resolve(__dirname, '../..');
const BUILT = join(ROOT, 'out/renderer/index.html');

function newestMtime(path: string): number {
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  return Math.max(s.mtimeMs, ...readdirSync(path).map((f) => newestMtime(join(path, f))));
}

/**
 * Builds out/renderer with electron-vite when it is missing or older than its sources, so
 * `npm test` works on a fresh clone and never tests a stale UI.
 */
export function ensureRendererBuilt(): void {
  const sources = ['src/renderer', 'src/shared', 'src/preload', 'electron.vite.config.ts', 'package-lock.json'].map((p) => join(ROOT, p));
  if (existsSync(BUILT) && statSync(BUILT).mtimeMs >= Math.max(...sources.filter(existsSync).map(newestMtime))) return;
  const cli = join(ROOT, 'node_modules/electron-vite/bin/electron-vite.js');
  const run = spawnSync(process.execPath, [cli, 'build'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' } });
  if (run.status !== 0) throw new Error(`electron-vite build failed (${run.status}):\n${run.stdout}\n${run.stderr}`);
}

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Headless Chromium with a fresh profile; close() also removes the profile. `scrollbars`: drawn and
 * taking room, as in a desktop window (playwright hides them in headless Chromium by default).
 */
export async function launchChromium(options: { scrollbars?: boolean } = {}): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install it (apt-get install -y chromium) or set CHROMIUM_PATH`);
  const profile = mkdtempSync(join(tmpdir(), 'localdls-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1440, height: 900 },
    ...(options.scrollbars ? { ignoreDefaultArgs: ['--hide-scrollbars'] } : {}),
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** `serve --ui` on `site` (ports picked by the system, contact gap 60 s) once it listens: its process, WPI port and UI address. */
export async function serveWithUi(site: string): Promise<{ serve: CliProcess; port: number; ui: string }> {
  const serve = new CliProcess(['serve', '--data-dir', site, '--host', '127.0.0.1', '--port', '0', '--contact-gap', '60', '--ui', '--ui-port', '0']);
  const listening = JSON.parse(await serve.waitFor((l) => l.includes('"listening"'), 60_000)) as { port: number; ui: string };
  return { serve, port: listening.port, ui: listening.ui };
}

export type ChromiumSession = Awaited<ReturnType<typeof launchChromium>>;

/**
 * launchChromium with its first page: `timeoutMs` as the page's default, and every uncaught page
 * error pushed to `pageErrors` (the suites end by expecting none).
 */
export async function launchWithPage(pageErrors: string[], options: { scrollbars?: boolean; timeoutMs: number }): Promise<{ browser: ChromiumSession; page: Page }> {
  const browser = await launchChromium(options.scrollbars ? { scrollbars: true } : {});
  const page = browser.context.pages()[0] ?? (await browser.context.newPage());
  page.setDefaultTimeout(options.timeoutMs);
  page.on('pageerror', (e) => pageErrors.push(e.message));
  return { browser, page };
}

/**
 * Where screenshots go: docs/screenshots with LOCALDLS_SCREENSHOTS=1 (npm run screenshots), else
 * a folder of the file's suiteDirs() (removed after its tests; each run left one behind per file).
 */
export function screenshotDir(newDir: () => string): string {
  if (process.env.LOCALDLS_SCREENSHOTS) return join(ROOT, 'docs/screenshots');
  return newDir();
}

/**
 * axe-core in every page of the context: added as an init script (the DevTools protocol's, which
 * the page's CSP does not apply to), so the page itself keeps its CSP.
 */
export async function withAxe(context: BrowserContext): Promise<void> {
  await context.addInitScript({ path: join(ROOT, 'node_modules/axe-core/axe.min.js') });
}

/** axe-core's serious and critical violations on what the page shows now, one line each (empty: none). */
export async function seriousA11yViolations(page: Page): Promise<string[]> {
  return page.evaluate(async () => {
    interface Result { violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[] }
    const axe = (globalThis as unknown as { axe: { run(context: unknown, options: unknown): Promise<Result> } }).axe;
    const r = await axe.run((globalThis as unknown as { document: unknown }).document, { resultTypes: ['violations'] });
    return r.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.impact} ${v.id} (${v.help}): ${v.nodes.slice(0, 4).map((n) => n.target.join(' ')).join(', ')}`);
  });
}

/**
 * A folder that lives as long as the test file (removed after all its tests): a service started in
 * beforeAll keeps its data directory through every test (tempDirs() removes its folders after each).
 */
export function suiteDirs(): () => string {
  const made: string[] = [];
  afterAll(() => {
    for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const d = mkdtempSync(join(tmpdir(), 'localdls-e2e-'));
    made.push(d);
    return d;
  };
}
