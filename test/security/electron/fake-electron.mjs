/**
 * A recording stand-in for the `electron` module, for the built main process (out/main/index.js)
 * run under Node by test/security/electron-checklist.test.ts. It behaves like Electron where the
 * shell depends on it (app ready, a window with its web contents, the session, the app:
 * protocol, IPC), records what the shell registers, and once the window loads its page it plays
 * what an attacker or a stray page would do against the recorded handlers, then prints one JSON
 * report on stdout and exits.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const rec = {
  windows: [],
  appHandlers: {},
  ipc: new Map(),
  protocolHandlers: new Map(),
  privileged: null,
  permissionRequest: null,
  permissionCheck: null,
  headersReceived: null,
  openExternal: [],
  dialogs: [],
};

class WebContents {
  constructor() {
    this.handlers = {};
    this.openHandler = null;
  }
  on(event, fn) {
    (this.handlers[event] ??= []).push(fn);
    return this;
  }
  once(event, fn) {
    return this.on(event, fn);
  }
  setWindowOpenHandler(fn) {
    this.openHandler = fn;
  }
  send() {}
  isDestroyed() {
    return false;
  }
}

/** Electron emits web-contents-created when any web contents is made (a window's included). */
function created(contents) {
  for (const fn of rec.appHandlers['web-contents-created'] ?? []) fn({}, contents);
  return contents;
}

export const app = {
  on(event, fn) {
    (rec.appHandlers[event] ??= []).push(fn);
    return app;
  },
  whenReady: () => Promise.resolve(),
  getPath: () => process.env.FAKE_ELECTRON_USER_DATA,
  getAppPath: () => process.env.FAKE_ELECTRON_USER_DATA,
  quit() {},
};

export class BrowserWindow {
  constructor(options) {
    this.options = options;
    this.webContents = created(new WebContents());
    rec.windows.push(this);
  }
  on() {
    return this;
  }
  show() {}
  async loadURL(url) {
    this.url = url;
    setImmediate(() => {
      probe().then(
        (report) => {
          process.stdout.write(`${JSON.stringify(report)}\n`);
          process.exit(0);
        },
        (e) => {
          process.stderr.write(`probe failed: ${e?.stack ?? e}\n`);
          process.exit(3);
        },
      );
    });
  }
}

export const session = {
  defaultSession: {
    setPermissionRequestHandler(fn) {
      rec.permissionRequest = fn;
    },
    setPermissionCheckHandler(fn) {
      rec.permissionCheck = fn;
    },
    webRequest: {
      onHeadersReceived(fn) {
        rec.headersReceived = fn;
      },
    },
  },
};

export const protocol = {
  registerSchemesAsPrivileged(schemes) {
    rec.privileged = schemes;
  },
  handle(scheme, fn) {
    rec.protocolHandlers.set(scheme, fn);
  },
};

export const net = {
  async fetch(url) {
    return new Response(readFileSync(fileURLToPath(url)), { status: 200, headers: { 'Content-Type': 'application/octet-stream' } });
  },
};

export const safeStorage = {
  isEncryptionAvailable: () => false,
  getSelectedStorageBackend: () => 'basic_text',
  encryptString() {
    throw new Error('no keychain in this test');
  },
  decryptString() {
    throw new Error('no keychain in this test');
  },
};

export const dialog = {
  showErrorBox(title, message) {
    rec.dialogs.push(`${title}: ${message}`);
  },
};

export const shell = {
  async openExternal(url) {
    rec.openExternal.push(url);
  },
};

export const ipcMain = {
  handle(channel, fn) {
    rec.ipc.set(channel, fn);
  },
  removeHandler(channel) {
    rec.ipc.delete(channel);
  },
};

export default { app, BrowserWindow, session, protocol, net, safeStorage, dialog, shell, ipcMain };

const EVIL = 'https://attacker.example/';

function fire(contents, name, ...args) {
  const event = { prevented: false, preventDefault() { event.prevented = true; } };
  const handlers = contents.handlers[name] ?? [];
  for (const fn of handlers) fn(event, ...args);
  return { handlers: handlers.length, prevented: event.prevented };
}

function windowOpen(contents, url) {
  return contents.openHandler ? contents.openHandler({ url, frameName: '', features: '', disposition: 'new-window', referrer: { url: '', policy: 'default' } }) : null;
}

async function probe() {
  const win = rec.windows[0];
  const report = { webPreferences: win.options.webPreferences, loadedUrl: win.url, dialogs: rec.dialogs, privileged: rec.privileged };
  report.mainWindow = {
    navigate: fire(win.webContents, 'will-navigate', EVIL),
    attachWebview: fire(win.webContents, 'will-attach-webview', {}, {}),
    open: windowOpen(win.webContents, EVIL),
  };
  // Any other web contents (a devtools window, anything made later) gets the same treatment.
  const other = created(new WebContents());
  report.otherContents = {
    navigate: fire(other, 'will-navigate', EVIL),
    attachWebview: fire(other, 'will-attach-webview', {}, {}),
    open: windowOpen(other, EVIL),
    openFile: windowOpen(other, 'file:///etc/passwd'),
  };
  report.openExternal = rec.openExternal;

  const permissions = ['media', 'geolocation', 'notifications', 'clipboard-read', 'clipboard-sanitized-write', 'fullscreen', 'openExternal', 'pointerLock', 'hid', 'serial', 'usb'];
  report.permissionRequests = rec.permissionRequest
    ? await Promise.all(permissions.map((p) => new Promise((done) => rec.permissionRequest(win.webContents, p, done, { requestingUrl: 'app://localdls/' }))))
    : null;
  report.permissionChecks = rec.permissionCheck ? permissions.map((p) => rec.permissionCheck(win.webContents, p, 'app://localdls', {})) : null;
  report.headersReceived = rec.headersReceived
    ? await new Promise((done) => rec.headersReceived({ url: EVIL, responseHeaders: { 'Content-Security-Policy': ["script-src 'unsafe-inline' *"], 'X-Other': ['1'] } }, done))
    : null;

  const app = rec.protocolHandlers.get('app');
  const get = async (url) => {
    const r = await app(new Request(url));
    return { status: r.status, csp: r.headers.get('content-security-policy'), nosniff: r.headers.get('x-content-type-options'), body: r.status === 200 ? (await r.text()).slice(0, 120) : '' };
  };
  report.appProtocol = app
    ? {
        index: await get('app://localdls/index.html'),
        root: await get('app://localdls/'),
        traversal: await get('app://localdls/..%2fmain%2findex.js'),
        traversalDots: await get('app://localdls/../main/index.js'),
        otherHost: await get('app://attacker/index.html'),
        missing: await get('app://localdls/no-such-file.js'),
      }
    : null;

  const call = (channel, url) => rec.ipc.get(channel)({ senderFrame: url === null ? null : { url, isDestroyed: () => false } });
  const channels = [...rec.ipc.keys()];
  const refusedFrom = async (url) => (await Promise.all(channels.map((c) => call(c, url)))).filter((r) => r && r.ok === false && /did not come from the LocalDLS window/.test(r.error?.message ?? '')).length;
  report.ipc = {
    channels,
    refusedFromAttacker: await refusedFrom(EVIL),
    refusedFromFile: await refusedFrom('file:///tmp/page.html'),
    refusedFromLookalike: await refusedFrom('app://localdls.attacker/'),
    refusedWithoutFrame: await refusedFrom(null),
    fromApp: await call('localdls:getStatus', 'app://localdls/index.html'),
  };
  return report;
}
