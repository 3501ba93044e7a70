/**
 * Electron's security checklist (issue "Hardening", item 6; the items as numbered in the shared
 * reference electron-practices.md §4), checked without the Electron binary:
 *
 * - the built main process (out/main/index.js, built afresh into a temporary folder) is run under
 *   Node with a recording stand-in for `electron` (electron/fake-electron.mjs); what it registers
 *   is then exercised the way a hostile page would: navigation, new windows, webviews, permission
 *   requests and checks, IPC from other frames, path traversal on the app: protocol;
 * - the built preload is run in a VM with a recording `electron`, to see exactly what the page gets;
 * - the sources and bundles are read as text for options that must never appear;
 * - every Content-Security-Policy in use is parsed and held to the same strict rules.
 * test/security/csp-browser.test.ts runs the policies in Chromium against the real UI.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_CSP } from '../../src/main/shell/csp';
import { securityHeaders } from '../../src/main/bridge/static-files';
import { API_EVENTS, API_METHODS, EVENT_SUBSCRIBERS, ipcChannel } from '../../src/shared/api';
import { buildApp, cspDirectives, ROOT } from './build';
import { ShellRun } from './electron/run-shell';

let built: ReturnType<typeof buildApp>;
beforeAll(() => {
  built = buildApp();
}, 120_000);
afterAll(() => built?.remove());

const source = (path: string) => readFileSync(join(ROOT, path), 'utf8');

interface Probe {
  code: number | null;
  stderr: string;
  report: {
    webPreferences: Record<string, unknown>;
    loadedUrl: string;
    dialogs: { title: string; message: string }[];
    privileged: { scheme: string; privileges: Record<string, boolean> }[];
    mainWindow: { navigate: { handlers: number; prevented: boolean }; attachWebview: { handlers: number; prevented: boolean }; open: { action: string } | null };
    otherContents: { navigate: { handlers: number; prevented: boolean }; attachWebview: { handlers: number; prevented: boolean }; open: { action: string } | null; openFile: { action: string } | null };
    openExternal: string[];
    permissionRequests: boolean[] | null;
    permissionChecks: boolean[] | null;
    headersReceived: { responseHeaders: Record<string, string[]> } | null;
    appProtocol: Record<'index' | 'root' | 'traversal' | 'traversalDots' | 'otherHost' | 'missing', { status: number; csp: string | null; nosniff: string | null; body: string }> | null;
    ipc: { channels: string[]; refusedFromAttacker: number; refusedFromFile: number; refusedFromLookalike: number; refusedWithoutFrame: number; fromApp: { ok: boolean } };
  };
}

/** Runs the built main process under the stand-in (on loopback, ports picked by the OS), probes it, quits it. */
async function runMain(): Promise<Probe> {
  const run = new ShellRun({ built: built.dir });
  try {
    await run.answer('loaded');
    const report = await run.ask<Probe['report']>('probe');
    run.send('quit');
    const { code } = await run.finished();
    return { code, stderr: run.stderr, report };
  } finally {
    run.remove();
  }
}

/** The rules every policy of the app is held to. */
function expectStrictCsp(csp: string, where: 'header' | 'meta', connect: string[] = ["'self'"]) {
  const d = cspDirectives(csp);
  expect(d.get('default-src'), csp).toEqual(["'self'"]);
  expect(d.get('script-src'), csp).toEqual(["'self'"]);
  expect(d.get('object-src'), csp).toEqual(["'none'"]);
  expect(d.get('base-uri'), csp).toEqual(["'none'"]);
  expect(d.get('img-src'), csp).toEqual(["'self'", 'data:']);
  expect(d.get('style-src'), csp).toEqual(["'self'", "'unsafe-inline'"]);
  if (d.has('connect-src')) expect(d.get('connect-src'), csp).toEqual(connect);
  // frame-ancestors only works as a header.
  if (where === 'header') expect(d.get('frame-ancestors'), csp).toEqual(["'none'"]);
  for (const [name, sources] of d) {
    for (const s of sources) expect(s, `${name} in ${csp}`).not.toMatch(/^(\*|https?:|wss?:|'unsafe-eval'|'unsafe-hashes'|'wasm-unsafe-eval'|blob:|filesystem:)$/);
    if (name !== 'style-src') expect(sources, `${name} in ${csp}`).not.toContain("'unsafe-inline'");
  }
}

describe('the main process, run with a recording electron', () => {
  let probe: Probe;
  beforeAll(async () => {
    probe = await runMain();
  }, 120_000);

  it('started on loopback without a dialog, loaded app://localdls/, and quit cleanly', () => {
    expect(probe.report.dialogs).toEqual([]);
    expect(probe.report.loadedUrl).toBe('app://localdls/index.html');
    expect(probe.code).toBe(0);
  });

  it('#2 #3 #4 #6: no Node in the renderer, context isolation, sandbox, web security', () => {
    expect(probe.report.webPreferences).toEqual({ preload: join(built.dir, 'preload/index.cjs'), sandbox: true, contextIsolation: true, nodeIntegration: false, webSecurity: true });
  });

  it('#5: every permission request and check is denied', () => {
    expect(probe.report.permissionRequests).toHaveLength(11);
    expect(new Set(probe.report.permissionRequests)).toEqual(new Set([false]));
    expect(new Set(probe.report.permissionChecks)).toEqual(new Set([false]));
  });

  it('#7: a strict CSP on every response (replacing what a response brought) and on the app: protocol', () => {
    const h = probe.report.headersReceived!.responseHeaders;
    const csp = h['Content-Security-Policy']!;
    expect(csp).toHaveLength(1);
    // The response's own policy (lower-case header name) is gone, not kept beside ours.
    expect(Object.keys(h).filter((k) => k.toLowerCase() === 'content-security-policy')).toEqual(['Content-Security-Policy']);
    expectStrictCsp(csp[0]!, 'header');
    expect(h['X-Other']).toEqual(['1']);
    const app = probe.report.appProtocol!;
    for (const r of [app.index, app.root]) {
      expect(r.status).toBe(200);
      expect(r.csp).toBe(csp[0]);
      expect(r.nosniff).toBe('nosniff');
      expect(r.body).toMatch(/^<!doctype html>/);
    }
  });

  it('#18: the UI comes from app://localdls/ (not file://), and the protocol serves nothing outside the renderer', () => {
    const app = probe.report.appProtocol!;
    for (const r of [app.traversal, app.traversalDots, app.otherHost, app.missing]) expect(r.status).toBe(404);
    // app: is standard and secure, and gets no CSP bypass or other privileges.
    expect(probe.report.privileged).toEqual([{ scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
  });

  it('#13 #14 #11 #12 #15: navigation blocked, new windows denied, webviews refused, nothing opened externally — in the window and in any other web contents', () => {
    const { mainWindow: w, otherContents: o } = probe.report;
    expect(w.navigate.prevented).toBe(true);
    expect(w.open).toEqual({ action: 'deny' });
    expect(w.attachWebview.prevented).toBe(true);
    expect(o.navigate).toEqual({ handlers: 1, prevented: true });
    expect(o.open).toEqual({ action: 'deny' });
    expect(o.openFile).toEqual({ action: 'deny' });
    expect(o.attachWebview).toEqual({ handlers: 1, prevented: true });
    expect(probe.report.openExternal).toEqual([]);
  });

  it('#17: every IPC handler checks the sender frame', () => {
    const { ipc } = probe.report;
    expect(new Set(ipc.channels)).toEqual(new Set(API_METHODS.map(ipcChannel)));
    for (const refused of [ipc.refusedFromAttacker, ipc.refusedFromFile, ipc.refusedFromLookalike, ipc.refusedWithoutFrame]) expect(refused).toBe(API_METHODS.length);
    expect(ipc.fromApp.ok).toBe(true);
  });
});

describe('the preload, run in a VM with a recording electron (#20)', () => {
  it('exposes one frozen object of narrow functions as window.localdls; nothing of ipcRenderer, no Electron event object', async () => {
    const code = readFileSync(join(built.dir, 'preload/index.cjs'), 'utf8');
    const exposed: [string, unknown][] = [];
    const invoked: unknown[][] = [];
    const listeners = new Map<string, (...a: unknown[]) => void>();
    const ipcRenderer = {
      invoke: async (...a: unknown[]) => {
        invoked.push(a);
        return { ok: true, result: 'R' };
      },
      on: (channel: string, fn: (...a: unknown[]) => void) => listeners.set(channel, fn),
      removeListener: (channel: string) => listeners.delete(channel),
      send: () => undefined,
      sendSync: () => undefined,
    };
    const required: string[] = [];
    const fakeRequire = (name: string) => {
      required.push(name);
      if (name !== 'electron') throw new Error(`a sandboxed preload cannot require ${name}`);
      return { contextBridge: { exposeInMainWorld: (key: string, value: unknown) => exposed.push([key, value]) }, ipcRenderer };
    };
    runInNewContext(code, { require: fakeRequire, module: { exports: {} }, exports: {}, console });
    expect(required).toEqual(['electron']);
    expect(exposed.map(([k]) => k)).toEqual(['localdls']);
    const api = exposed[0]![1] as Record<string, unknown>;
    expect(Object.isFrozen(api)).toBe(true);
    const subscribers = API_EVENTS.map((e) => EVENT_SUBSCRIBERS[e]);
    expect(Object.keys(api).sort()).toEqual([...API_METHODS, ...subscribers].sort());
    for (const [key, value] of Object.entries(api)) {
      expect(typeof value, key).toBe('function');
      expect(value).not.toBe(ipcRenderer.invoke);
      expect(value).not.toBe(ipcRenderer.on);
    }
    // A call goes to its own channel only, with the page's arguments.
    expect(await (api.getExchange as (id: number) => Promise<unknown>)(7)).toBe('R');
    expect(invoked).toEqual([['localdls:getExchange', 7]]);
    // An event listener gets the payload, never Electron's event object (which holds `sender`).
    const got: unknown[][] = [];
    (api.onExchanges as (l: (...a: unknown[]) => void) => unknown)((...a: unknown[]) => got.push(a));
    listeners.get('localdls:event:exchanges')!({ sender: ipcRenderer, ports: [] }, [{ id: 1 }]);
    expect(got).toEqual([[[{ id: 1 }]]]);
  });
});

describe('options that must never appear (#2 #3 #4 #6 #8 #9 #10 #11 #15 #18)', () => {
  const FORBIDDEN: [string, RegExp][] = [
    ['allowRunningInsecureContent', /allowRunningInsecureContent/],
    ['experimentalFeatures', /experimentalFeatures/],
    ['enableBlinkFeatures', /enableBlinkFeatures/],
    ['nodeIntegration on', /nodeIntegration(InSubFrames|InWorker)?\s*:\s*(true|!0)/],
    ['contextIsolation off', /contextIsolation\s*:\s*(false|!1)/],
    ['sandbox off', /sandbox\s*:\s*(false|!1)/],
    ['webSecurity off', /webSecurity\s*:\s*(false|!1)/],
    ['webviewTag', /webviewTag/],
    ['allowpopups', /allowpopups/i],
    ['bypassCSP', /bypassCSP/],
    ['shell.openExternal', /openExternal/],
    ['file:// pages', /loadFile\(|loadURL\(\s*[`'"]file:/],
    ['disabling security warnings', /ELECTRON_DISABLE_SECURITY_WARNINGS/],
  ];

  it('in the shell’s sources and in the built main process and preload', () => {
    const texts: Record<string, string> = {
      'src/main/index.ts': source('src/main/index.ts'),
      'src/main/bridge/ipc.ts': source('src/main/bridge/ipc.ts'),
      ...Object.fromEntries(readdirSync(join(ROOT, 'src/main/shell')).map((f) => [`src/main/shell/${f}`, source(`src/main/shell/${f}`)])),
      'src/preload/index.ts': source('src/preload/index.ts'),
      'built main': readFileSync(join(built.dir, 'main/index.js'), 'utf8'),
      'built preload': readFileSync(join(built.dir, 'preload/index.cjs'), 'utf8'),
    };
    for (const [where, text] of Object.entries(texts)) {
      for (const [what, pattern] of FORBIDDEN) expect(pattern.test(text), `${what} in ${where}`).toBe(false);
    }
    // The source's webPreferences say it in so many words (the run above checks what they do).
    expect(texts['src/main/shell/window.ts']).toMatch(/sandbox: true,\s*contextIsolation: true,\s*nodeIntegration: false,\s*webSecurity: true/);
  });

  it('the renderer bundle has no Electron or Node access of its own (weak check; the webPreferences above are the real one)', () => {
    const assets = join(built.dir, 'renderer/assets');
    const js = readdirSync(assets).filter((f) => f.endsWith('.js')).map((f) => readFileSync(join(assets, f), 'utf8')).join('\n');
    expect(js.length).toBeGreaterThan(10_000);
    expect(js).not.toMatch(/ipcRenderer|require\(\s*["'](electron|fs|child_process|node:)/);
    expect(js).not.toMatch(/\bprocess\.(versions|env\.[A-Z_]+|binding)/);
    // Traffic is untrusted: the UI's own code never inserts HTML (React escapes everything else).
    const sources = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : [join(dir, e.name)]));
    for (const f of sources(join(ROOT, 'src/renderer/src'))) expect(readFileSync(f, 'utf8'), f).not.toMatch(/dangerouslySetInnerHTML|\.(inner|outer)HTML\s*=|insertAdjacentHTML|document\.write/);
  });
});

describe('every Content-Security-Policy in use (#7)', () => {
  it('the page’s meta policy (source and built), the Electron header policy, and the web UI’s header policy are strict', () => {
    const meta = (html: string) => /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)?.[1] ?? '';
    const srcMeta = meta(source('src/renderer/index.html'));
    expect(srcMeta).not.toBe('');
    expect(meta(readFileSync(join(built.dir, 'renderer/index.html'), 'utf8'))).toBe(srcMeta);
    expectStrictCsp(srcMeta, 'meta');
    expectStrictCsp(APP_CSP, 'header');
    const web = securityHeaders(45678);
    expectStrictCsp(web['Content-Security-Policy']!, 'header', ["'self'", 'ws://127.0.0.1:45678', 'ws://localhost:45678']);
    expect(web).toMatchObject({ 'X-Content-Type-Options': 'nosniff', 'X-Frame-Options': 'DENY', 'Referrer-Policy': 'no-referrer' });
  });
});

describe('#16: a current Electron', () => {
  it('is not older than the version this checklist was verified with', () => {
    const wanted = (JSON.parse(source('package.json')) as { devDependencies: Record<string, string> }).devDependencies.electron!;
    expect(Number(/(\d+)\./.exec(wanted)?.[1])).toBeGreaterThanOrEqual(39);
  });
});
