/**
 * The Electron shell: one window, hardened, and the service started with the app. The only module
 * (with its IPC file, later) that imports electron. The UI itself is its own issue; this shell
 * already applies the security settings the UI will rely on.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { app, BrowserWindow, dialog, session, shell } from 'electron';
import { Service } from './service';

const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/** better-sqlite3 built for Electron's ABI, kept apart from the Node build that `npm test` uses. */
function electronBinding(): string | undefined {
  const candidate = join(app.getAppPath(), 'native', `electron-${process.versions.electron}`, 'better_sqlite3.node');
  return existsSync(candidate) ? candidate : undefined;
}

const here = dirname(fileURLToPath(import.meta.url));
let service: Service | null = null;

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
  if (process.env.ELECTRON_RENDERER_URL) await win.loadURL(process.env.ELECTRON_RENDERER_URL);
  else await win.loadFile(join(here, '../renderer/index.html'));
}

app.whenReady().then(async () => {
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } });
  });
  service = new Service({ dataDir: join(app.getPath('userData'), 'data'), store: { nativeBinding: electronBinding() } });
  try {
    await service.start();
  } catch (e) {
    dialog.showErrorBox('LocalDLS could not start its service', e instanceof Error ? e.message : String(e));
  }
  await createWindow();
});

app.on('web-contents-created', (_event, contents) => {
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https://')) void shell.openExternal(url);
    return { action: 'deny' };
  });
});

app.on('window-all-closed', () => {
  void service?.stop().finally(() => app.quit());
});
