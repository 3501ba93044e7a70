/**
 * The Content-Security-Policies at work in Chromium (issue "Hardening", item 6), against the real
 * UI (built afresh) showing hostile traffic: a phone whose items carry markup and script.
 *
 * - web UI: `startUiServer` as `serve --ui` runs it (its header policy and the page's meta one);
 * - desktop: the same files served with the Electron shell's header policy (read from
 *   src/main/shell/csp.ts), the LocalDlsApi handed to the page the way the preload does (one object
 *   of functions, here bridged to the real API over Playwright's binding).
 *
 * In both, the UI must work without a single policy violation of its own (every view opened, the
 * hostile exchange shown in every tab), the hostile values must stay text, and what an injected
 * script would try — inline scripts, handler attributes, eval, javascript: URLs, a <base>, an
 * <object>, images, fetches and sockets to another origin — must be refused by the policy.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalDlsApiHost } from '../../src/main/bridge/api-host';
import { APP_CSP } from '../../src/main/shell/csp';
import { serveStatic } from '../../src/main/bridge/static-files';
import { startUiServer, type UiServer } from '../../src/main/bridge/ui-server';
import { API_EVENTS, API_METHODS, EVENT_SUBSCRIBERS } from '../../src/shared/api';
import { launchChromium } from '../e2e/support';
import { FlowHarness } from '../support/handler';
import { startUpItems } from '../support/messages';
import { tempDirs } from '../support/tmp';
import { apiOver } from '../web/api-harness';
import { buildApp } from './build';

const newDir = tempDirs();
const MAC = '00:1A:E8:C5:00:01';
const PEER = '192.0.2.77';
/** What a hostile phone reports; if any of it ran, window.__xss would be set. */
/** A same-origin script (allowed) that tries what the policy must stop: eval and its relatives. */
const PROBE = 'csp-probe.js';
const HEADER_ONLY = 'index-header-only.html';
const PROBE_JS = `window.__probe = {};
try { eval("window.__xss='eval'"); window.__probe.eval = 'ran'; } catch (e) { window.__probe.eval = e.name; }
try { new Function("window.__xss='function'")(); window.__probe.function = 'ran'; } catch (e) { window.__probe.function = e.name; }
try { setTimeout("window.__xss='timeout-string'", 0); } catch (e) { window.__probe.timeout = e.name; }
`;
const HOSTILE = {
  img: `<img src=x onerror="window.__xss='img'">`,
  script: `"><script>window.__xss='script'</script>`,
  uri: `javascript:window.__xss='uri'`,
  svg: `<svg onload="window.__xss='svg'"></svg>`,
};

let built: ReturnType<typeof buildApp>;
let h: FlowHarness;
let api: LocalDlsApiHost;
let ui: UiServer;
let desktop: Server;
let desktopUrl: string;
/** No header policy: only the page's meta policy. */
let bare: Server;
let bareUrl: string;
let browser: Awaited<ReturnType<typeof launchChromium>>;

beforeAll(async () => {
  built = buildApp();
  h = new FlowHarness(newDir());
  h.say(PEER, { reason: 'start-up', items: startUpItems(MAC, { 'device-type': HOSTILE.img, 'contact-me-uri': HOSTILE.uri }) });
  h.say(PEER, {
    reason: 'reply-to', action: 'ReadAllItems', status: 'accepted',
    items: [...startUpItems(MAC, { 'device-type': HOSTILE.img }), { name: 'sntp-addr', value: HOSTILE.script }, { name: 'display-id-unicode', value: HOSTILE.svg }, { name: 'user-pwd', value: 'csp-test-password' }],
  });
  api = apiOver(h);
  const renderer = join(built.dir, 'renderer');
  writeFileSync(join(renderer, PROBE), PROBE_JS);
  // The page's meta policy and a header policy both apply (the stricter wins): to see each
  // header policy at work on its own, the page is also served without its meta policy.
  const index = readFileSync(join(renderer, 'index.html'), 'utf8');
  const headerOnly = index.replace(/\s*<meta http-equiv="Content-Security-Policy"[^>]*>/, '');
  expect(headerOnly).not.toBe(index);
  writeFileSync(join(renderer, HEADER_ONLY), headerOnly);
  ui = await startUiServer({ api, port: 0, rendererDir: renderer });
  const electronCsp = APP_CSP;
  desktop = createServer((req, res) => void serveStatic(renderer, req, res, { 'Content-Security-Policy': electronCsp, 'X-Content-Type-Options': 'nosniff' }));
  bare = createServer((req, res) => void serveStatic(renderer, req, res, { 'X-Content-Type-Options': 'nosniff' }));
  for (const server of [desktop, bare]) await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  desktopUrl = `http://127.0.0.1:${(desktop.address() as { port: number }).port}/`;
  bareUrl = `http://127.0.0.1:${(bare.address() as { port: number }).port}/`;
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await ui?.close();
  await new Promise((done) => desktop?.close(done));
  await new Promise((done) => bare?.close(done));
  api?.close();
  h?.close();
  built?.remove();
});

interface Violation {
  directive: string;
  blocked: string;
}

/** Records every policy violation of the page from before its first script. (Page code is given as text: this project's types have no DOM.) */
async function watch(page: Page): Promise<void> {
  await page.addInitScript(`
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__violations.push({ directive: e.effectiveDirective, blocked: e.blockedURI }));
  `);
}

const violations = (page: Page) => page.evaluate('window.__violations.splice(0)') as Promise<Violation[]>;
const xss = (page: Page) => page.evaluate('window.__xss ?? null') as Promise<string | null>;

/** Opens every view, and every exchange in every tab of the detail pane. */
async function walkTheUi(page: Page): Promise<void> {
  const rows = page.locator('.xrow[data-id]');
  await expect.poll(() => rows.count(), { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
  const detail = page.getByTestId('detail');
  for (let i = 0; i < (await rows.count()); i++) {
    const id = await rows.nth(i).getAttribute('data-id');
    await rows.nth(i).click();
    await expect.poll(() => detail.locator('.detail-title').textContent()).toContain(`#${id}`);
    await detail.getByRole('tab', { name: 'Messages' }).click();
    await detail.getByTestId('xml-pretty').first().waitFor();
    for (const raw of await detail.getByRole('tab', { name: 'Raw' }).all()) await raw.click();
    await detail.getByTestId('xml-raw').first().waitFor();
    for (const tab of [/^Items/, /^Headers/, /^TLS/, /^Interaction/]) await detail.getByRole('tab', { name: tab }).click();
    await detail.getByRole('tab', { name: /^Items/ }).click();
  }
  // The hostile values are on the page, as text.
  await expect.poll(() => detail.textContent(), { timeout: 5000 }).toContain("window.__xss='svg'");
  for (const view of ['Devices', 'Jobs', 'Secure Mode', 'Setup', 'Traffic']) {
    await page.locator('nav a, header a').filter({ hasText: new RegExp(`^${view}`) }).first().click();
    await expect.poll(() => page.locator('a.active').first().textContent()).toContain(view);
  }
  await page.locator('nav a, header a').filter({ hasText: /^Devices/ }).first().click();
  await page.getByRole('link', { name: MAC }).first().click();
  await page.getByRole('heading', { name: MAC }).waitFor();
  await expect.poll(() => page.locator('body').textContent()).toContain(HOSTILE.img);
}

/** What an injected script would try; returns what happened and the directives that refused it. */
async function attack(page: Page): Promise<{ results: Record<string, string>; refusedBy: string[] }> {
  const results = (await page.evaluate(`(async () => {
    const out = {};
    const s = document.createElement('script');
    s.textContent = "window.__xss='inline'";
    document.body.append(s);
    const d = document.createElement('div');
    d.setAttribute('onclick', "window.__xss='attribute'");
    document.body.append(d);
    d.click();
    // eval from the page's own code (code run by the test harness is not subject to the policy):
    // a same-origin script, which the policy allows, that tries it.
    const probe = document.createElement('script');
    probe.src = '/${PROBE}';
    const loaded = new Promise((r) => { probe.onload = r; probe.onerror = r; });
    document.body.append(probe);
    await loaded;
    Object.assign(out, window.__probe ?? { eval: 'probe not run' });
    const a = document.createElement('a');
    a.href = "javascript:window.__xss='javascript-url'";
    document.body.append(a);
    a.click();
    const base = document.createElement('base');
    base.href = 'http://127.0.0.2:9/';
    document.head.append(base);
    const object = document.createElement('object');
    object.data = 'http://127.0.0.2:9/x.swf';
    document.body.append(object);
    const img = new Image();
    img.src = 'http://127.0.0.2:9/x.png';
    document.body.append(img);
    try { await fetch('http://127.0.0.2:9/'); out.fetch = 'ran'; } catch (e) { out.fetch = e.name; }
    try { const ws = new WebSocket('ws://127.0.0.2:9/'); ws.onerror = () => undefined; out.websocket = 'opened'; } catch (e) { out.websocket = e.name; }
    await new Promise((r) => setTimeout(r, 300));
    out.xss = window.__xss ?? 'none';
    return out;
  })()`)) as Record<string, string>;
  const refusedBy = [...new Set((await violations(page)).map((v) => v.directive))].sort();
  return { results, refusedBy };
}

function expectRefused(outcome: { results: Record<string, string>; refusedBy: string[] }) {
  expect(outcome.results).toMatchObject({ eval: 'EvalError', function: 'EvalError', fetch: 'TypeError', xss: 'none' });
  for (const directive of ['script-src-elem', 'script-src-attr', 'script-src', 'base-uri', 'object-src', 'img-src', 'connect-src']) {
    expect(outcome.refusedBy, directive).toContain(directive);
  }
}

/** A page with the API the way the desktop preload gives it: one frozen object of functions. */
async function desktopPage(): Promise<Page> {
  const page = await browser.context.newPage();
  await page.exposeFunction('__localdlsCall', (method: string, args: unknown[]) => api.call(method, args));
  const subscribers = API_EVENTS.map((e) => EVENT_SUBSCRIBERS[e]);
  await page.addInitScript(`{
    const api = {};
    for (const m of ${JSON.stringify(API_METHODS)}) api[m] = (...args) => window.__localdlsCall(m, args);
    for (const e of ${JSON.stringify(subscribers)}) api[e] = () => () => undefined;
    window.localdls = Object.freeze(api);
  }`);
  return page;
}

/** Loads the UI, walks it, attacks it; returns the response headers of the page. */
async function check(page: Page, url: string): Promise<Record<string, string>> {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await watch(page);
  const response = await page.goto(url);
  await walkTheUi(page);
  expect(await violations(page)).toEqual([]);
  expect(await xss(page)).toBeNull();
  expect(await page.locator('body').textContent()).not.toContain('csp-test-password');
  expectRefused(await attack(page));
  expect(errors).toEqual([]);
  await page.close();
  return response?.headers() ?? {};
}

describe('the policies in Chromium', () => {
  it('web UI (serve --ui), its header policy alone: the UI runs without a violation, hostile traffic stays text, injected code is refused', async () => {
    const headers = await check(await browser.context.newPage(), ui.url.replace('/?token=', `/${HEADER_ONLY}?token=`));
    expect(headers['content-security-policy']).toMatch(/connect-src 'self' ws:\/\/127\.0\.0\.1:\d+ ws:\/\/localhost:\d+/);
  }, 90_000);

  it('desktop, the Electron shell’s header policy alone (the API as the preload gives it): the same', async () => {
    const headers = await check(await desktopPage(), `${desktopUrl}${HEADER_ONLY}`);
    expect(headers['content-security-policy']).toMatch(/^default-src 'self'; script-src 'self';/);
  }, 90_000);

  it('the page’s own meta policy alone: the same', async () => {
    const headers = await check(await desktopPage(), bareUrl);
    expect(headers['content-security-policy']).toBeUndefined();
  }, 90_000);

  it('web UI as served (meta and header policy together): the same', async () => {
    await check(await browser.context.newPage(), ui.url);
  }, 90_000);
});
