/**
 * The desktop shell as a user meets it (issue 17), with the built main process run under Node and
 * a recording stand-in for `electron` (test/security/electron/fake-electron.mjs; the Electron
 * binary cannot be installed here). What this proves: the shell's own decisions (window options,
 * which IPC channels it registers, what it does on a start-up or fatal error, how it quits, the
 * single-instance lock, which URL it trusts). What it cannot prove (Chromium, BoringSSL, the OS
 * keyring, real focus): docs/desktop-checklist.md, on a machine with Electron.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Service } from '../../src/main/app/service';
import { nativeFolder } from '../../src/main/shell/native-binding';
import { buildApp, ROOT } from '../security/build';
import { ShellRun } from '../security/electron/run-shell';

let built: ReturnType<typeof buildApp>;
beforeAll(() => {
  built = buildApp();
}, 120_000);
afterAll(() => built?.remove());

const runs: ShellRun[] = [];
const folders: string[] = [];
afterEach(() => {
  for (const r of runs.splice(0)) r.remove();
  for (const f of folders.splice(0)) rmSync(f, { recursive: true, force: true });
});

function shell(options: Omit<ConstructorParameters<typeof ShellRun>[0], 'built'> = {}): ShellRun {
  const run = new ShellRun({ built: built.dir, ...options });
  runs.push(run);
  return run;
}

interface Status {
  ok: boolean;
  result: { listeners: { kind: string; host: string; port: number; state: string }[] };
}

const ELECTRON_VERSION = '39.8.10';

/** A packaged app's folder: native/ with a better-sqlite3 build for this runtime (Node's, standing in for Electron's). */
function packagedAppPath(binding: 'working' | 'damaged'): string {
  const dir = mkdtempSync(join(tmpdir(), 'localdls-packaged-'));
  folders.push(dir);
  const native = join(dir, 'native', nativeFolder(ELECTRON_VERSION));
  mkdirSync(native, { recursive: true });
  const target = join(native, 'better_sqlite3.node');
  if (binding === 'working') copyFileSync(join(ROOT, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node'), target);
  else writeFileSync(target, 'not a shared library');
  return dir;
}

function refused(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.destroy();
      resolve('accepted');
    });
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
  });
}

describe('a normal start, a second launch and a quit', () => {
  it('opens one hardened window with the icon, registers exactly the preload’s channels, focuses on a second launch, and quits with the service stopped and the WAL closed', async () => {
    const run = shell({ env: { FAKE_ELECTRON_VERSION: ELECTRON_VERSION } });
    expect(await run.answer('loaded')).toEqual({ url: 'app://localdls/index.html' });
    const status = await run.ask<Status>('ipc localdls:getStatus app://localdls/index.html');
    expect(status.ok).toBe(true);
    const listener = status.result.listeners.find((l) => l.kind === 'default')!;
    expect(listener).toMatchObject({ host: '127.0.0.1', state: 'listening' });
    expect(existsSync(join(run.dataDir, 'localdls.sqlite-wal'))).toBe(true);

    // A second launch: the first window comes back to the front.
    expect(await run.ask('second-instance')).toEqual({ calls: ['restore', 'show', 'focus'] });

    // A phone's connection left idle (no TLS handshake): it must not hold the quit.
    const idle = net.connect(listener.port, '127.0.0.1');
    await new Promise((r) => idle.once('connect', r));
    // The quitting service ends it: a FIN or, as often, a reset (ECONNRESET); either is fine here.
    const idleEnd = { error: null as NodeJS.ErrnoException | null };
    idle.on('error', (e: NodeJS.ErrnoException) => (idleEnd.error = e));
    const idleClosed = new Promise((r) => idle.once('close', r));
    run.send('quit');
    const { code, report } = await run.finished();
    await idleClosed;
    expect(idleEnd.error?.code ?? 'closed').toMatch(/^(closed|ECONNRESET)$/);
    expect(code).toBe(0);
    expect(report.dialogs).toEqual([]);
    // The first quit waited for the service; the second went through.
    expect(report.events.filter((e) => /quit|exit/.test(e))).toEqual(['app.quit()', 'before-quit prevented', 'app.quit()', 'quit', 'exit 0']);
    expect(await refused(listener.port)).toBe('ECONNREFUSED');
    // The database was closed: its WAL checkpointed and removed, the file whole.
    expect(existsSync(join(run.dataDir, 'localdls.sqlite-wal'))).toBe(false);
    const db = new BetterSqlite3(join(run.dataDir, 'localdls.sqlite'), { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();

    // The window: hardened preferences (the checklist test holds them to the rules), the app icon.
    const [win] = report.windows;
    expect(report.windows).toHaveLength(1);
    expect(win!.options.icon).toBe(join(ROOT, 'resources/icon.png'));
    expect(existsSync(win!.options.icon as string)).toBe(true);
    expect(win!.options.webPreferences).toMatchObject({ sandbox: true, contextIsolation: true, nodeIntegration: false, webSecurity: true });

    // Every channel the preload calls is registered in main, and nothing else.
    expect([...report.channels].sort()).toEqual(preloadChannels().sort());
  });

  it('closing the last window quits the same clean way', async () => {
    const run = shell();
    await run.answer('loaded');
    run.send('close-window');
    const { code, report } = await run.finished();
    expect(code).toBe(0);
    expect(report.events).toContain('before-quit prevented');
    expect(existsSync(join(run.dataDir, 'localdls.sqlite-wal'))).toBe(false);
  });

  it('a second instance ends at once: no window, no data, no port, no dialog', async () => {
    const run = shell({ env: { FAKE_ELECTRON_LOCK: 'held' } });
    const { code, report } = await run.finished();
    expect(code).toBe(0);
    expect(report.events).toEqual(['lock held by another instance', 'app.quit()', 'quit', 'exit 0']);
    expect(report.windows).toEqual([]);
    expect(report.dialogs).toEqual([]);
    expect(existsSync(run.dataDir)).toBe(false);
  });
});

describe('start-up and fatal errors: a dialog that says what to do, then a clean exit', () => {
  it('port in use: names the program holding it, no window, exit 1', async () => {
    const hold = net.createServer();
    await new Promise<void>((r) => hold.listen(0, '127.0.0.1', () => r()));
    const port = (hold.address() as net.AddressInfo).port;
    try {
      const run = shell({ env: { LOCALDLS_PORT: String(port) } });
      const { code, report } = await run.finished();
      expect(code).toBe(1);
      expect(report.windows).toEqual([]);
      expect(report.dialogs).toHaveLength(1);
      const [d] = report.dialogs;
      expect(d!.title).toBe('LocalDLS cannot listen for phones');
      // This test's own process holds the port (Linux: found through /proc).
      if (process.platform === 'linux') expect(d!.message).toContain(`Port ${port} on 127.0.0.1 is in use by node (process ${process.pid})`);
      expect(d!.message).toMatch(/LOCALDLS_PORT/);
      expect(d!.message).not.toMatch(/--port/);
      // The database the start had opened was closed again.
      expect(existsSync(join(run.dataDir, 'localdls.sqlite-wal'))).toBe(false);
    } finally {
      hold.close();
    }
  });

  it('damaged database: names the file and what to do; the file is left as it was', async () => {
    const userData = mkdtempSync(join(tmpdir(), 'localdls-shell-'));
    mkdirSync(join(userData, 'data'));
    const file = join(userData, 'data', 'localdls.sqlite');
    writeFileSync(file, Buffer.alloc(8192, 0x41));
    const run = shell({ userData });
    const { code, report } = await run.finished();
    expect(code).toBe(1);
    expect(report.dialogs).toEqual([{ title: 'LocalDLS cannot open its database', message: expect.stringContaining(`The database ${file} is damaged`) as string }]);
    expect(report.dialogs[0]!.message).toMatch(/move that file .* start LocalDLS again/i);
    expect(readFileSync(file)).toEqual(Buffer.alloc(8192, 0x41));
  });

  it('packaged with a broken database engine: names the file, says reinstall', async () => {
    const appPath = packagedAppPath('damaged');
    const run = shell({ appPath, env: { FAKE_ELECTRON_PACKAGED: '1', FAKE_ELECTRON_VERSION: ELECTRON_VERSION } });
    const { code, report } = await run.finished();
    expect(code).toBe(1);
    expect(report.dialogs[0]!.title).toBe('LocalDLS cannot load its database engine');
    expect(report.dialogs[0]!.message).toContain(join(appPath, 'native', nativeFolder(ELECTRON_VERSION), 'better_sqlite3.node'));
    expect(report.dialogs[0]!.message).toMatch(/install LocalDLS again/);
  });

  it('packaged without its native folder: refuses rather than loading the Node build', async () => {
    const appPath = mkdtempSync(join(tmpdir(), 'localdls-packaged-'));
    folders.push(appPath);
    const run = shell({ appPath, env: { FAKE_ELECTRON_PACKAGED: '1', FAKE_ELECTRON_VERSION: ELECTRON_VERSION } });
    const { code, report } = await run.finished();
    expect(code).toBe(1);
    expect(report.dialogs[0]!.message).toMatch(/better_sqlite3\.node is missing .*install LocalDLS again/s);
  });

  it('another LocalDLS service on the same data folder (localdls serve): says so, leaves it running', async () => {
    const userData = mkdtempSync(join(tmpdir(), 'localdls-shell-'));
    const other = new Service({ dataDir: join(userData, 'data'), host: '127.0.0.1', port: 0 });
    const { port } = await other.start();
    try {
      const run = shell({ userData });
      const { code, report } = await run.finished();
      expect(code).toBe(1);
      expect(report.dialogs).toEqual([{ title: 'LocalDLS is already running', message: expect.stringContaining(`(process ${process.pid}) is using the data folder ${join(userData, 'data')}`) as string }]);
      expect(await refused(port)).toBe('accepted');
    } finally {
      await other.stop();
    }
  });

  it('a fatal error after start-up: dialog, service stopped, database closed, exit 1', async () => {
    const run = shell();
    await run.answer('loaded');
    run.send('throw');
    const { code, report } = await run.finished();
    expect(code).toBe(1);
    expect(report.dialogs).toEqual([{ title: 'LocalDLS stopped after an internal error', message: expect.stringContaining('something broke in the main process') as string }]);
    expect(existsSync(join(run.dataDir, 'localdls.sqlite-wal'))).toBe(false);
  });

  it('a bad LOCALDLS_PORT: a dialog naming it, exit 1', async () => {
    const run = shell({ env: { LOCALDLS_PORT: '18443x' } });
    const { code, report } = await run.finished();
    expect(code).toBe(1);
    expect(report.dialogs[0]!.message).toMatch(/^LOCALDLS_PORT="18443x" is not a port/);
  });
});

describe('ELECTRON_RENDERER_URL (the dev server) is honoured only from the sources', () => {
  const DEV = 'http://127.0.0.1:5173/';

  it('packaged: ignored; the app loads its own page, and the would-be dev origin gets no IPC and the strict CSP', async () => {
    const run = shell({ appPath: packagedAppPath('working'), env: { FAKE_ELECTRON_PACKAGED: '1', FAKE_ELECTRON_VERSION: ELECTRON_VERSION, ELECTRON_RENDERER_URL: DEV } });
    expect(await run.answer('loaded')).toEqual({ url: 'app://localdls/index.html' });
    expect(await run.ask('ipc localdls:getStatus http://127.0.0.1:5173/index.html')).toMatchObject({ ok: false, error: { message: expect.stringMatching(/did not come from the LocalDLS window/) as string } });
    const headers = await run.ask<{ responseHeaders: Record<string, string[]> }>(`headers ${DEV}index.html`);
    expect(headers.responseHeaders['Content-Security-Policy']![0]).toMatch(/script-src 'self';/);
    run.send('quit');
    expect((await run.finished()).code).toBe(0);
  });

  it('from the sources: the dev server page is loaded and trusted, and keeps its own (meta) policy; everything else gets the strict header', async () => {
    const run = shell({ env: { ELECTRON_RENDERER_URL: DEV } });
    expect(await run.answer('loaded')).toEqual({ url: DEV });
    expect(await run.ask(`ipc localdls:getStatus ${DEV}index.html`)).toMatchObject({ ok: true });
    expect(await run.ask(`headers ${DEV}index.html`)).toEqual({});
    const other = await run.ask<{ responseHeaders: Record<string, string[]> }>('headers https://attacker.example/');
    expect(other.responseHeaders['Content-Security-Policy']![0]).toMatch(/script-src 'self';/);
    run.send('quit');
    expect((await run.finished()).code).toBe(0);
  });

  it('from the sources, a URL that is not a dev server on this machine: refused with a dialog', async () => {
    const run = shell({ env: { ELECTRON_RENDERER_URL: 'https://attacker.example/' } });
    const { code, report } = await run.finished();
    expect(code).toBe(1);
    expect(report.dialogs[0]!.message).toMatch(/ELECTRON_RENDERER_URL=https:\/\/attacker\.example\/ is not a dev server on this machine/);
    expect(report.dialogs[0]!.message).toContain(`LocalDLS keeps its data in ${run.dataDir}`);
    expect(report.windows).toEqual([]);
  });
});

/** The channels the built preload invokes, one call of each exposed method (run in a VM with a recording ipcRenderer). */
function preloadChannels(): string[] {
  const code = readFileSync(join(built.dir, 'preload/index.cjs'), 'utf8');
  let exposed: Record<string, unknown> = {};
  const invoked = new Set<string>();
  const ipcRenderer = {
    invoke: async (channel: string) => {
      invoked.add(channel);
      return { ok: true, result: null };
    },
    on: () => undefined,
    removeListener: () => undefined,
  };
  runInNewContext(code, {
    require: () => ({ contextBridge: { exposeInMainWorld: (_k: string, v: Record<string, unknown>) => (exposed = v) }, ipcRenderer }),
    module: { exports: {} },
    exports: {},
  });
  for (const [name, fn] of Object.entries(exposed)) if (!/^on[A-Z]/.test(name)) void (fn as () => Promise<unknown>)();
  expect(invoked.size).toBeGreaterThan(10);
  return [...invoked];
}

