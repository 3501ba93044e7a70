/**
 * The Electron shell: one instance, one hardened window, the service started with the app and
 * stopped before it quits. With ipc.ts and shell/ the only code that imports electron. The UI is
 * served from app://localdls/ (not file://) and talks to the service only through the
 * LocalDlsApi the preload exposes.
 *
 * Start-up and fatal errors reach the user as a dialog saying what to do (shell/startup-errors.ts),
 * then the app stops the service, closes the database and exits. A second launch brings the
 * first one's window to the front.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, dialog, safeStorage, session, type BrowserWindow } from 'electron';
import { LocalDlsApiHost } from './bridge/api-host';
import { forwardEvents, registerIpc } from './bridge/ipc';
import { KEY_PASSPHRASE_ENV, KEY_PASSPHRASE_FILE_ENV, osKeyringProtector, protectorFromEnvironment, type KeyProtector } from './pki';
import { applyServiceHeapSettings } from './app/heap-settings';
import { Service } from './app/service';
import { APP_URL, registerAppScheme, serveAppProtocol } from './shell/app-protocol';
import { desktopListen, devRendererUrl } from './shell/config';
import { headerCspFor } from './shell/csp';
import { electronBindingPath } from './shell/native-binding';
import { portOwner } from './shell/port-owner';
import { explainFatalError, explainStartupError, type ShellDialog, type StartupContext } from './shell/startup-errors';
import { bringToFront, createMainWindow } from './shell/window';

const here = dirname(fileURLToPath(import.meta.url));

const shell: {
  service: Service | null;
  api: LocalDlsApiHost | null;
  window: BrowserWindow | null;
  context: StartupContext;
  /** Set once stopping the service began; the quit waits for it. */
  stopping: Promise<void> | null;
  /** The service is stopped: quit may go ahead. */
  stopped: boolean;
  failed: boolean;
} = {
  service: null,
  api: null,
  window: null,
  context: { dataDir: '', databaseFile: '', packaged: false },
  stopping: null,
  stopped: false,
  failed: false,
};

/**
 * Keys at rest are sealed with the OS keyring (Electron safeStorage). Without a real one (Linux's
 * 'basic_text' backend uses a fixed key) the key passphrase is used if one is set, else Secure
 * Mode stays off. A passphrase that is set but wrong is a start-up error, not Secure Mode off.
 */
function keyProtector(dataDir: string): KeyProtector | undefined {
  const linuxFixedKey = process.platform === 'linux' && safeStorage.getSelectedStorageBackend?.() === 'basic_text';
  if (safeStorage.isEncryptionAvailable() && !linuxFixedKey) return osKeyringProtector(safeStorage);
  if (!process.env[KEY_PASSPHRASE_ENV] && !process.env[KEY_PASSPHRASE_FILE_ENV]) return undefined;
  return protectorFromEnvironment({ env: process.env, dataDir });
}

/** Stops the service and closes the database (its WAL checkpointed); once, whoever asks first. */
function stopService(): Promise<void> {
  shell.stopping ??= (async () => {
    try {
      // Its bootstrap runs' phones being prepared are finished before the store closes; the store
      // is closed (WAL checkpointed) even if that fails.
      try {
        await shell.api?.close();
      } finally {
        await shell.service?.stop();
      }
    } catch (e) {
      process.stderr.write(`LocalDLS: stopping the service failed: ${e instanceof Error ? e.message : String(e)}\n`);
    }
    shell.stopped = true;
  })();
  return shell.stopping;
}

/** Shows what went wrong and what to do, stops what had started, and exits. */
async function fail(error: unknown, explain: (e: unknown, ctx: StartupContext) => ShellDialog): Promise<void> {
  if (shell.failed) return;
  shell.failed = true;
  const e = error as { code?: string; port?: number };
  const context = { ...shell.context, ...(e?.code === 'EADDRINUSE' && e.port ? { portOwner: await portOwner(e.port) } : {}) };
  const { title, message } = explain(error, context);
  dialog.showErrorBox(title, message);
  await stopService();
  app.exit(1);
}

async function start(): Promise<void> {
  const dataDir = join(app.getPath('userData'), 'data');
  shell.context = { dataDir, databaseFile: join(dataDir, 'localdls.sqlite'), packaged: app.isPackaged };
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  const devServer = devRendererUrl(process.env, app.isPackaged);
  serveAppProtocol(join(here, '../renderer'));
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    const csp = headerCspFor(details.url, devServer);
    if (csp === null) return callback({});
    // Replaces any policy the response brought, whatever the case of its header name.
    const headers = Object.fromEntries(Object.entries(details.responseHeaders ?? {}).filter(([name]) => name.toLowerCase() !== 'content-security-policy'));
    callback({ responseHeaders: { ...headers, 'Content-Security-Policy': [csp] } });
  });

  const listen = desktopListen(process.env);
  const nativeBinding = electronBindingPath(app.getAppPath(), process.versions.electron ?? '', app.isPackaged);
  shell.context.nativeBinding = nativeBinding;
  const protector = keyProtector(dataDir);
  const service = new Service({ dataDir, host: listen.host, port: listen.port, securePort: listen.securePort, store: { nativeBinding }, ...(protector ? { keyProtector: protector } : {}) });
  shell.service = service;
  const api = new LocalDlsApiHost(service, { dataDir });
  shell.api = api;
  const listening = await service.start();
  api.setListeners([
    { kind: 'default', host: listening.host, port: listening.port, tlsProfile: listening.tls, state: 'listening', error: null },
    ...(listening.securePort !== undefined ? [{ kind: 'secure' as const, host: listening.host, port: listening.securePort, tlsProfile: listening.secureTls ?? 'modern', state: 'listening' as const, error: null }] : []),
  ]);
  registerIpc(api, [APP_URL, ...(devServer ? [devServer] : [])]);
  shell.window = await createMainWindow({
    preload: join(here, '../preload/index.cjs'),
    icon: join(app.getAppPath(), 'resources', 'icon.png'),
    url: devServer ?? `${APP_URL}index.html`,
    beforeLoad: (win) => {
      forwardEvents(api, win.webContents);
      win.on('closed', () => (shell.window = null));
    },
  });
}

if (!app.requestSingleInstanceLock()) {
  // Another LocalDLS runs: it brings its window to the front ('second-instance'); this one ends
  // before touching the data or the ports.
  app.quit();
} else {
  // This process runs the service: its heap is kept near what is live (app/heap-settings.ts).
  applyServiceHeapSettings();
  registerAppScheme();
  app.on('second-instance', () => bringToFront(shell.window));

  // Every web contents, whichever window or frame: no webviews, no navigation away from the app, no
  // new windows. Nothing is opened externally either: the UI has no external links, and URLs in
  // provisioning traffic come from phones (untrusted).
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.on('will-navigate', (event) => event.preventDefault());
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });

  // Cmd+Q, the last window closed, the OS asking: the quit waits until the service has stopped
  // (its listeners closed, idle connections ended, the database closed), then goes ahead.
  const holdQuit = (event: { preventDefault(): void }) => {
    if (shell.stopped) return;
    event.preventDefault();
    void stopService().then(() => app.quit());
  };
  app.on('before-quit', holdQuit);
  app.on('will-quit', holdQuit);
  app.on('window-all-closed', () => app.quit());

  process.on('uncaughtException', (e) => void fail(e, explainFatalError));
  process.on('unhandledRejection', (e) => void fail(e, explainFatalError));

  app.whenReady().then(start).catch((e: unknown) => fail(e, explainStartupError));
}
