/**
 * The Electron shell: one window, hardened, and the service started with the app. The only module
 * (with ipc.ts) that imports electron. The UI is served from app://localdls/ (not file://) and
 * talks to the service only through the LocalDlsApi exposed by the preload.
 */
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { existsSync } from 'node:fs';
import { app, BrowserWindow, dialog, net, protocol, safeStorage, session } from 'electron';
import { LocalDlsApiHost } from './bridge/api-host';
import { forwardEvents, registerIpc } from './bridge/ipc';
import { protectorFromEnvironment, type KeyProtector } from './pki';
import { Service } from './service';

const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/** better-sqlite3 built for Electron's ABI, kept apart from the Node build that `npm test` uses. */
function electronBinding(): string | undefined {
  // Packaged, native files live beside the archive (asarUnpack): dlopen needs a real path.
  const base = app.getAppPath().replace(/app\.asar$/, 'app.asar.unpacked');
  const candidate = join(base, 'native', `electron-${process.versions.electron}`, 'better_sqlite3.node');
  return existsSync(candidate) ? candidate : undefined;
}

/**
 * Keys at rest are sealed with the OS keychain (Electron safeStorage). Without a real keychain
 * (Linux 'basic_text' backend uses a fixed key) Secure Mode stays off unless a passphrase is set.
 */
function keyProtector(dataDir: string): KeyProtector | undefined {
  const linuxFixedKey = process.platform === 'linux' && safeStorage.getSelectedStorageBackend?.() === 'basic_text';
  if (safeStorage.isEncryptionAvailable() && !linuxFixedKey) {
    return {
      kind: 'safeStorage',
      seal: (plain) => safeStorage.encryptString(plain.toString('base64')),
      open: (sealed) => Buffer.from(safeStorage.decryptString(sealed), 'base64'),
    };
  }
  try {
    return protectorFromEnvironment({ env: process.env, dataDir });
  } catch {
    return undefined;
  }
}

const here = dirname(fileURLToPath(import.meta.url));
let service: Service | null = null;
let api: LocalDlsApiHost | null = null;

/** The UI's origin; ipc.ts accepts calls only from frames on it (or the dev server in development). */
const APP_URL = 'app://localdls/';
protocol.registerSchemesAsPrivileged([{ scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

/** Serves out/renderer under app://localdls/, with the CSP, and nothing outside that folder. */
function serveAppProtocol(): void {
  const root = resolve(here, '../renderer');
  protocol.handle('app', async (request) => {
    const url = new URL(request.url);
    const file = resolve(root, `.${decodeURIComponent(url.pathname === '/' ? '/index.html' : url.pathname)}`);
    const rel = relative(root, file);
    if (url.host !== 'localdls' || rel.startsWith('..') || isAbsolute(rel) || !existsSync(file)) return new Response('not found', { status: 404 });
    const res = await net.fetch(pathToFileURL(file).toString());
    const headers = new Headers(res.headers);
    headers.set('Content-Security-Policy', CSP);
    headers.set('X-Content-Type-Options', 'nosniff');
    return new Response(res.body, { status: res.status, headers });
  });
}

async function createWindow(): Promise<void> {
  const win = new BrowserWindow({
    width: 1280,
    height: 800,
    show: false,
    webPreferences: {
      preload: join(here, '../preload/index.cjs'),
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      webSecurity: true,
    },
  });
  win.on('ready-to-show', () => win.show());
  win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  win.webContents.on('will-navigate', (event) => event.preventDefault());
  if (api) forwardEvents(api, win.webContents);
  if (process.env.ELECTRON_RENDERER_URL) await win.loadURL(process.env.ELECTRON_RENDERER_URL);
  else await win.loadURL(`${APP_URL}index.html`);
}

app.whenReady().then(async () => {
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  serveAppProtocol();
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } });
  });
  const dataDir = join(app.getPath('userData'), 'data');
  const protector = keyProtector(dataDir);
  service = new Service({ dataDir, store: { nativeBinding: electronBinding() }, ...(protector ? { keyProtector: protector } : {}) });
  api = new LocalDlsApiHost(service, { dataDir });
  registerIpc(api, [APP_URL, ...(process.env.ELECTRON_RENDERER_URL ? [process.env.ELECTRON_RENDERER_URL] : [])]);
  try {
    const listening = await service.start();
    api.setListeners([
      { kind: 'default', host: listening.host, port: listening.port, tlsProfile: listening.tls, state: 'listening', error: null },
      ...(listening.securePort !== undefined ? [{ kind: 'secure' as const, host: listening.host, port: listening.securePort, tlsProfile: listening.secureTls ?? 'modern', state: 'listening' as const, error: null }] : []),
    ]);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    api.setListeners([{ kind: 'default', host: '0.0.0.0', port: 0, tlsProfile: 'modern', state: 'failed', error: message }]);
    dialog.showErrorBox('LocalDLS could not start its service', message);
  }
  await createWindow();
});

// Every web contents, whichever window or frame: no webviews, no navigation away from the app, no
// new windows. Nothing is opened externally either: the UI has no external links, and URLs in
// provisioning traffic come from phones (untrusted).
app.on('web-contents-created', (_event, contents) => {
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.on('will-navigate', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
});

app.on('window-all-closed', () => {
  api?.close();
  void service?.stop().finally(() => app.quit());
});
