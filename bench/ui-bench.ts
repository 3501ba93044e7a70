/**
 * The traffic view in Chromium (playwright-core) against `localdls serve --ui`, with a large store
 * and, in the same run, a small one as the baseline: time to the first rows, filter latency (from
 * the listExchanges request leaving the page to the answer painted, so the 250 ms typing debounce
 * is not counted), scrolling through the list and loading older pages, and the renderer's JS heap.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { Store } from '../src/main/store';
import { BIN, Child, ROOT } from './lib/child';
import { percentile } from './lib/stats';
import { fillExchanges } from './lib/traffic';

/**
 * The filter steps run this many times over: once, 16 steps make the p95 the slowest single step,
 * and one step on this machine varies by tens of milliseconds from one run to the next.
 */
export const FILTER_ROUNDS = 3;
/** Page loads timed to their first rows, cold and warm each (the first cold one is the browser's first). */
export const PAGE_LOADS = 5;

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** Page clock (ms from navigation start) of each step before the first row is painted. */
export interface UiStartup {
  /** The HTML received. */
  html: number;
  /** The last start-up script or style received (all fetched in parallel once the HTML is parsed). */
  assets: number;
  assetBytes: number;
  /** The app's code has run up to connect(): the start-up modules evaluated. */
  wsCreated: number;
  wsOpen: number;
  /** The first listExchanges request left the page, and its answer arrived. */
  listSent: number;
  listAnswered: number;
  /** React, the views and the first screen's text loaded: the first render starts (0: a build without the mark). */
  mount: number;
  rowDom: number;
  rowPainted: number;
}

export interface UiRun {
  rows: number;
  /** The first page load of a freshly started browser. */
  firstRowsMs: number;
  /**
   * Page loads in new tabs, each to its first row painted (ms): `cold` with the browser cache
   * cleared before each (the first load above included), `warm` with it as the loads before left it
   * (absent in results written before 2026-12-05).
   */
  firstRowsLoads?: { cold: number[]; warm: number[] };
  /** Absent in results written before it was measured. */
  startup?: UiStartup;
  countShownMs: number;
  /** Every step of every round (`round` is absent in results written before the steps were repeated). */
  filters: { name: string; ms: number; round?: number }[];
  filterP50Ms: number;
  filterP95Ms: number;
  scroll: { steps: number; p50Ms: number; p95Ms: number; longTasks: number; longestTaskMs: number };
  loadOlder: { pages: number; p50Ms: number; maxMs: number; rowsAfter: number };
  heapMb: { afterLoad: number; peak: number; afterGc: number };
}

export interface UiBenchResult {
  build: { ms: number; rebuilt: boolean };
  baseline: UiRun;
  large: UiRun;
}

/** Builds out/renderer when missing or older than its sources (as test/e2e does). */
export function ensureRendererBuilt(): { ms: number; rebuilt: boolean } {
  const built = join(ROOT, 'out/renderer/index.html');
  const newest = (p: string): number => {
    const s = statSync(p);
    return s.isDirectory() ? Math.max(s.mtimeMs, ...readdirSync(p).map((f) => newest(join(p, f)))) : s.mtimeMs;
  };
  const sources = ['src/renderer', 'src/shared', 'src/preload', 'electron.vite.config.ts', 'package-lock.json'].map((p) => join(ROOT, p)).filter(existsSync);
  if (existsSync(built) && statSync(built).mtimeMs >= Math.max(...sources.map(newest))) return { ms: 0, rebuilt: false };
  const t0 = performance.now();
  const run = spawnSync(process.execPath, [join(ROOT, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' },
    timeout: 300_000,
  });
  if (run.status !== 0) throw new Error(`electron-vite build failed (${run.status}):\n${run.stdout}\n${run.stderr}`);
  return { ms: performance.now() - t0, rebuilt: true };
}

export async function runUiBench(options: { rows: number; baselineRows: number; sampleDir: string; workDir: string; log: (line: string) => void }): Promise<UiBenchResult> {
  const build = ensureRendererBuilt();
  if (build.rebuilt) options.log(`  built the renderer in ${(build.ms / 1000).toFixed(1)} s`);
  const baseline = await runOne(options.baselineRows, options);
  const large = await runOne(options.rows, options);
  return { build, baseline, large };
}

async function runOne(rows: number, options: { sampleDir: string; workDir: string; log: (line: string) => void }): Promise<UiRun> {
  const dir = join(options.workDir, `ui-${rows}`);
  const store = new Store(dir);
  const sample = new BetterSqlite3(join(options.sampleDir, 'localdls.sqlite'), { readonly: true });
  store.close();
  const db = new BetterSqlite3(join(dir, 'localdls.sqlite'));
  fillExchanges(db, sample, rows, { spanDays: 30, devices: 500, now: Date.now() });
  sample.close();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  // The free-text index caught up, as in a store the service has been running on (section 4 times
  // the catching up itself): otherwise the service indexes 100,000 exchanges in the background
  // while the page is measured, and free text scans the rows not indexed yet.
  const indexed = new Store(dir, { searchIndexing: 'manual' });
  indexed.search.catchUp();
  indexed.close();
  return measureUiOn(dir, rows, options.log);
}

/**
 * The traffic view measured on a store already filled (and its free-text index caught up), through
 * `localdls serve --ui` in Chromium. Also used on section 4's 1,000,000-exchange store.
 */
export async function measureUiOn(dir: string, rows: number, log: (line: string) => void): Promise<UiRun> {
  const start = () =>
    new Child(BIN, ['serve', '--data-dir', dir, '--host', '127.0.0.1', '--port', '0', '--no-auto-contact', '--ui', '--ui-port', '0'], {
      env: { ...process.env, LOCALDLS_KEY_PASSPHRASE: '', LOCALDLS_KEY_PASSPHRASE_FILE: '' },
    });
  let serve = start();
  const profile = mkdtempSync(join(tmpdir(), 'localdls-bench-chromium-'));
  let context: BrowserContext | undefined;
  try {
    const listening = await serve.waitFor('listening', 60_000);
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, viewport: { width: 1440, height: 900 }, args: CHROMIUM_ARGS });
    const page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(60_000);
    // A service started afresh (its caches cold, as after `serve --ui`), at its new address.
    const restart = async (): Promise<string> => {
      await serve.stop();
      serve = start();
      return (await serve.waitFor('listening', 60_000)).ui as string;
    };
    const run = await measure(page, context, listening.ui as string, rows, restart);
    log(
      `  UI with ${rows} exchanges: first rows ${run.firstRowsMs.toFixed(0)} ms, filter p95 ${run.filterP95Ms.toFixed(0)} ms, ` +
        `scroll step p95 ${run.scroll.p95Ms.toFixed(0)} ms, load older p50 ${run.loadOlder.p50Ms.toFixed(0)} ms, heap peak ${run.heapMb.peak.toFixed(0)} MB`,
    );
    const s = startupOf(run);
    log(
      `    start-up split (ms from navigation start): html ${s.html.toFixed(0)}, scripts+styles (${(s.assetBytes / 1024).toFixed(0)} kB) ${s.assets.toFixed(0)}, ` +
        `code evaluated (socket created) ${s.wsCreated.toFixed(0)}, socket open ${s.wsOpen.toFixed(0)}, rows asked ${s.listSent.toFixed(0)}, ` +
        `answered ${s.listAnswered.toFixed(0)}, React and text in ${s.mount.toFixed(0)}, row in DOM ${s.rowDom.toFixed(0)}, painted ${s.rowPainted.toFixed(0)}`,
    );
    return run;
  } finally {
    await context?.close();
    rmSync(profile, { recursive: true, force: true });
    await serve.stop();
  }
}

/**
 * Runs in the page before the app: timestamps (page clock) of listExchanges requests and of every
 * answer, long tasks, and the helpers the measurements call (plain JavaScript: this file is
 * type-checked without the DOM library).
 */
const PROBE = `
  const b = (window.__bench = { sent: new Map(), answered: new Map(), longTasks: [] });
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      b.wsCreated ??= performance.now();
      this.addEventListener('open', () => { b.wsOpen ??= performance.now(); });
      this.addEventListener('message', (e) => {
        if (typeof e.data !== 'string') return;
        const m = /^\\{"id":(\\d+),/.exec(e.data);
        if (m) b.answered.set(Number(m[1]), performance.now());
      });
    }
    send(data) {
      if (typeof data === 'string' && data.includes('"method":"listExchanges"')) {
        const m = /"id":(\\d+)/.exec(data);
        if (m) b.sent.set(Number(m[1]), performance.now());
        b.firstListSent ??= performance.now();
      }
      return super.send(data);
    }
  };
  try {
    new PerformanceObserver((list) => { for (const e of list.getEntries()) b.longTasks.push(e.duration); }).observe({ type: 'longtask', buffered: true });
  } catch {}
  // The first row in the DOM, then painted (two frames): page clock, from navigation start.
  new MutationObserver((_, observer) => {
    if (!document.querySelector('.xrow[data-id]')) return;
    observer.disconnect();
    b.firstRowDom = performance.now();
    b.frames(2).then((t) => { b.firstRowPainted = t; });
  }).observe(document, { subtree: true, childList: true });
  b.frames = (n) => new Promise((resolve) => { const step = () => (n-- <= 0 ? resolve(performance.now()) : requestAnimationFrame(step)); step(); });
  b.lastSent = () => Math.max(0, ...b.sent.keys());
  /** ms from the first listExchanges request after request id \`after\` to its answer painted; -1 on timeout. */
  b.answerAfter = async (after) => {
    const deadline = performance.now() + 60000;
    while (performance.now() < deadline) {
      const id = [...b.sent.keys()].find((k) => k > after);
      if (id !== undefined && b.answered.has(id)) return (await b.frames(2)) - b.sent.get(id);
      await new Promise((r) => setTimeout(r, 2));
    }
    return -1;
  };
  const scroller = () => document.querySelector('[data-testid="exchange-scroll"]');
  /** Up through the list a screen at a time from the bottom, two frames per step: each step's ms. */
  b.scrollUp = async (maxSteps) => {
    const el = scroller();
    const times = [];
    el.scrollTop = el.scrollHeight;
    await b.frames(2);
    for (let i = 0; i < maxSteps && el.scrollTop > 0; i++) {
      const t = performance.now();
      el.scrollTop = Math.max(0, el.scrollTop - el.clientHeight);
      times.push((await b.frames(2)) - t);
    }
    return times;
  };
  b.toTop = () => { scroller().scrollTop = 0; };
  /** Every listExchanges request answered (the rest of a load's first page included), then two frames. */
  b.settled = async () => {
    const deadline = performance.now() + 60000;
    while (performance.now() < deadline && [...b.sent.keys()].some((id) => !b.answered.has(id))) await new Promise((r) => setTimeout(r, 5));
    await b.frames(2);
  };
  /** Rows in the list: the virtual list's inner box is rows × 26 px high. */
  b.rowsShown = () => Math.round((document.querySelector('[data-testid="exchange-scroll"] > div[style*="height"]')?.offsetHeight ?? 0) / 26);
  /** Where start-up went, page clock (ms from navigation start) at each step. */
  b.startup = () => {
    const nav = performance.getEntriesByType('navigation')[0];
    // Scripts and styles asked for before the first row was in the DOM (the rest of the UI text follows).
    const scripts = performance.getEntriesByType('resource').filter((r) => (r.name.endsWith('.js') || r.name.endsWith('.css')) && r.startTime < (b.firstRowDom ?? Infinity));
    const mount = performance.getEntriesByName('localdls:mount')[0];
    const firstAnswer = Math.min(...[...b.sent.keys()].map((id) => b.answered.get(id) ?? Infinity));
    return {
      html: nav ? nav.responseEnd : 0,
      assets: scripts.length ? Math.max(...scripts.map((r) => r.responseEnd)) : 0,
      assetBytes: scripts.reduce((n, r) => n + (r.encodedBodySize || 0), 0),
      wsCreated: b.wsCreated ?? 0,
      wsOpen: b.wsOpen ?? 0,
      listSent: b.firstListSent ?? 0,
      listAnswered: firstAnswer,
      mount: mount ? mount.startTime : 0,
      rowDom: b.firstRowDom ?? 0,
      rowPainted: b.firstRowPainted ?? 0,
    };
  };
  b.countText = () => document.querySelector('[data-testid="shown-count"]')?.textContent ?? '';
`;

/**
 * A page-side step, bounded: page.evaluate has no timeout of its own, and a step that waits for
 * frames the page never paints held a whole `npm run bench` for over ten minutes (2026-12-07).
 * The page's waits for answers end within 60 s and the scroll's 150 steps take a few seconds;
 * past 90 s the run fails, naming the step.
 */
function bounded<T>(step: Promise<T>, what: string, ms = 90_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the page did not finish ${what} within ${ms / 1000} s`)), ms);
  });
  return Promise.race([step, late]).finally(() => clearTimeout(timer));
}

/** The page clock when the probe saw the first row painted (polled every 10 ms). */
async function firstRowPainted(page: Page): Promise<number> {
  const handle = await page.waitForFunction(() => (globalThis as unknown as { __bench: { firstRowPainted?: number } }).__bench.firstRowPainted, null, { polling: 10 });
  return (await handle.jsonValue()) as number;
}

function startupOf(run: UiRun): UiStartup {
  if (!run.startup) throw new Error('measure() returns the start-up split');
  return run.startup;
}

async function measure(page: Page, context: BrowserContext, url: string, rows: number, restart: () => Promise<string>): Promise<UiRun> {
  await page.addInitScript(PROBE);
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  const heap = async (): Promise<number> => {
    const { metrics } = (await cdp.send('Performance.getMetrics')) as { metrics: { name: string; value: number }[] };
    return (metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? 0) / 1024 / 1024;
  };
  let peak = 0;
  const sampleHeap = async () => {
    const h = await heap();
    peak = Math.max(peak, h);
    return h;
  };
  const inPage = <T>(expression: string) => bounded(page.evaluate(expression) as Promise<T>, expression);

  // 1. First rows: navigation start to the first row painted, then the count. Timed in the page
  // (performance.now() counts from navigation start): playwright's waitFor polls at up to 500 ms
  // intervals, which would be most of what is measured.
  const t0 = Date.now();
  await page.goto(url);
  await page.locator('.xrow[data-id]').first().waitFor({ state: 'visible' });
  const firstRowsMs = await firstRowPainted(page);
  const startup = await inPage<UiStartup>('window.__bench.startup()');
  const digits = String(rows);
  await page.waitForFunction(`window.__bench.countText().replace(/[^0-9]/g, '').includes('${digits}')`);
  const countShownMs = Date.now() - t0;
  const afterLoad = await sampleHeap();

  // 2. Filters: request sent → answer received → two frames painted.
  const filters: UiRun['filters'] = [];
  const device = await page.locator('.xrow[data-id] .c-mac').first().textContent();
  const label = (name: string) => page.getByLabel(name, { exact: true });
  const steps: { name: string; apply: () => Promise<unknown> }[] = [
    { name: 'device (whole MAC)', apply: () => label('Device').fill(device ?? '00:1A:E8:40:00:07') },
    { name: 'clear device', apply: () => label('Device').fill('') },
    { name: 'action ReadAllItems', apply: () => label('Action').fill('ReadAllItems') },
    { name: 'action CleanUp', apply: () => label('Action').fill('CleanUp') },
    { name: 'clear action', apply: () => label('Action').fill('') },
    { name: 'reason start-up', apply: () => label('Reason').fill('start-up') },
    { name: 'clear reason', apply: () => label('Reason').fill('') },
    { name: 'status accepted', apply: () => label('Status').fill('accepted') },
    { name: 'status 200', apply: () => label('Status').fill('200') },
    { name: 'clear status', apply: () => label('Status').fill('') },
    { name: 'mode Default', apply: () => label('Mode').selectOption('default') },
    { name: 'mode any', apply: () => label('Mode').selectOption('') },
    { name: 'errors only', apply: () => label('Errors only').check() },
    { name: 'all again', apply: () => label('Errors only').uncheck() },
    { name: 'free text', apply: () => label('Free text').fill('sntp-addr') },
    { name: 'clear text', apply: () => label('Free text').fill('') },
  ];
  for (let round = 0; round < FILTER_ROUNDS; round++) {
    for (const step of steps) {
      const before = await inPage<number>('window.__bench.lastSent()');
      await step.apply();
      filters.push({ name: step.name, ms: await inPage<number>(`window.__bench.answerAfter(${before})`), round });
      await sampleHeap();
    }
  }
  const measured = filters.map((f) => f.ms).filter((ms) => ms >= 0);

  // 3. Scrolling: up through the rows shown, a screen at a time, two frames per step; then older pages.
  // Through the rows the list holds: the rest of the last load's first page may still be on its way.
  await inPage('window.__bench.settled()');
  await inPage('window.__bench.longTasks.length = 0');
  const scrollSteps = await inPage<number[]>('window.__bench.scrollUp(150)');
  const longTasks = await inPage<number[]>('window.__bench.longTasks');
  const older: number[] = [];
  for (let i = 0; i < 4; i++) {
    const button = page.getByRole('button', { name: 'Load older exchanges' });
    if (!(await button.isVisible())) break;
    const before = await inPage<number>('window.__bench.lastSent()');
    await button.click();
    older.push(await inPage<number>(`window.__bench.answerAfter(${before})`));
    await inPage('window.__bench.toTop()');
    await sampleHeap();
  }
  const rowsAfter = await inPage<number>('window.__bench.rowsShown()');
  await sampleHeap();
  await cdp.send('HeapProfiler.collectGarbage');
  const afterGc = await heap();

  // 4. More loads of the page: one load is one sample of a number that varies by hundreds of ms on
  // this machine. Cold, as the first: `serve --ui` started afresh (caches cold, a new address), the
  // page opened at once in a new tab (a new renderer process: no code compiled by the tabs before)
  // with the browser cache cleared; only the browser is not new. Warm: new tabs on the last
  // service, the cache as the load before left it (the UI opened again while the service runs).
  // Each tab is closed only once its list's requests are answered, so no load waits behind the
  // queries of the one before.
  const loads: NonNullable<UiRun['firstRowsLoads']> = { cold: [firstRowsMs], warm: [] };
  const open = async (address: string, clearCache: boolean): Promise<number> => {
    await tab.close();
    tab = await context.newPage();
    tab.setDefaultTimeout(60_000);
    await tab.addInitScript(PROBE);
    if (clearCache) await (await context.newCDPSession(tab)).send('Network.clearBrowserCache');
    await tab.goto(address);
    const ms = await firstRowPainted(tab);
    await bounded(tab.evaluate('window.__bench.settled()'), 'window.__bench.settled()');
    return ms;
  };
  let tab = page;
  let address = url;
  await inPage('window.__bench.settled()');
  for (let i = 1; i < PAGE_LOADS; i++) {
    address = await restart();
    loads.cold.push(await open(address, true));
  }
  for (let i = 0; i < PAGE_LOADS; i++) loads.warm.push(await open(address, false));
  return {
    rows,
    firstRowsMs,
    firstRowsLoads: loads,
    startup,
    countShownMs,
    filters,
    filterP50Ms: percentile(measured, 50),
    filterP95Ms: percentile(measured, 95),
    scroll: {
      steps: scrollSteps.length,
      p50Ms: percentile(scrollSteps, 50),
      p95Ms: percentile(scrollSteps, 95),
      longTasks: longTasks.length,
      longestTaskMs: longTasks.length ? Math.max(...longTasks) : 0,
    },
    loadOlder: { pages: older.length, p50Ms: percentile(older, 50), maxMs: older.length ? Math.max(...older) : 0, rowsAfter },
    heapMb: { afterLoad, peak, afterGc },
  };
}
