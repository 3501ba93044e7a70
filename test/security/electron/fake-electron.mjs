/**
 * A recording stand-in for the `electron` module (the external boundary), for the built main
 * process (out/main/index.js) run under Node by test/shell/desktop-shell.test.ts and
 * test/security/electron-checklist.test.ts. It behaves like Electron where the shell depends on
 * it: the single-instance lock, app ready, quit with its preventable before-quit / will-quit
 * events, windows and their web contents, the session, the app: protocol, IPC, dialogs.
 *
 * Driven by the environment (FAKE_ELECTRON_*: user data and app path, packaged or not, lock held
 * by another instance) and, once the window has loaded its page, by commands on stdin, one per
 * line ("probe", "second-instance", "quit", "close-window", "throw"), each answered on stdout as
 * "<command> <json>". On exit it writes what it recorded (events, dialogs, windows) as JSON to
 * FAKE_ELECTRON_REPORT.
 *
 * What it cannot show: Chromium actually enforcing anything, BoringSSL, the OS keyring, real
 * window focus; docs/desktop-checklist.md lists those for a machine with Electron.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const env = process.env;
// Electron's process.versions carries its own version; the shell picks its native build by it.
process.versions.electron = env.FAKE_ELECTRON_VERSION ?? '39.0.0';

const rec = {
  events: [],
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
  exitCode: null,
};
const event = (name) => rec.events.push(name);

process.on('exit', (code) => {
  event(`exit ${code}`);
  if (!env.FAKE_ELECTRON_REPORT) return;
  const windows = rec.windows.map((w) => ({ options: { ...w.options }, url: w.url ?? null, calls: w.calls, destroyed: w.destroyed }));
  writeFileSync(env.FAKE_ELECTRON_REPORT, JSON.stringify({ events: rec.events, dialogs: rec.dialogs, windows, channels: [...rec.ipc.keys()], privileged: rec.privileged }));
});

class Emitter {
  constructor() {
    this.handlers = {};
  }
  on(name, fn) {
    (this.handlers[name] ??= []).push(fn);
    return this;
  }
  once(name, fn) {
    const wrapped = (...a) => {
      this.handlers[name] = this.handlers[name].filter((f) => f !== wrapped);
      fn(...a);
    };
    return this.on(name, wrapped);
  }
  /** Calls the handlers with a preventable event; true when one prevented it. */
  emit(name, ...args) {
    const e = { prevented: false, preventDefault() { e.prevented = true; } };
    for (const fn of [...(this.handlers[name] ?? [])]) fn(e, ...args);
    return e.prevented;
  }
}

class WebContents extends Emitter {
  constructor() {
    super();
    this.openHandler = null;
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

let quitting = false;

export const app = {
  isPackaged: env.FAKE_ELECTRON_PACKAGED === '1',
  on(name, fn) {
    (rec.appHandlers[name] ??= []).push(fn);
    return app;
  },
  emit(name, ...args) {
    const e = { prevented: false, preventDefault() { e.prevented = true; } };
    for (const fn of rec.appHandlers[name] ?? []) fn(e, ...args);
    return e.prevented;
  },
  requestSingleInstanceLock() {
    const got = env.FAKE_ELECTRON_LOCK !== 'held';
    event(got ? 'lock acquired' : 'lock held by another instance');
    return got;
  },
  whenReady() {
    event('ready');
    return Promise.resolve();
  },
  getPath: (name) => {
    if (name !== 'userData') throw new Error(`fake electron: getPath(${name}) not modelled`);
    return env.FAKE_ELECTRON_USER_DATA;
  },
  getAppPath: () => env.FAKE_ELECTRON_APP_PATH,
  /** As Electron: before-quit (preventable), windows closed, will-quit (preventable), quit, exit. */
  quit() {
    event('app.quit()');
    if (app.emit('before-quit')) return event('before-quit prevented');
    quitting = true;
    for (const w of [...rec.windows]) if (!w.destroyed) w.close();
    if (app.emit('will-quit')) return event('will-quit prevented');
    app.emit('quit');
    event('quit');
    process.exit(0);
  },
  exit(code) {
    event(`app.exit(${code})`);
    process.exit(code);
  },
};

export class BrowserWindow extends Emitter {
  constructor(options) {
    super();
    this.options = options;
    this.calls = [];
    this.minimized = false;
    this.destroyed = false;
    this.webContents = created(new WebContents());
    rec.windows.push(this);
    event('window created');
  }
  show() {
    this.calls.push('show');
  }
  focus() {
    this.calls.push('focus');
  }
  restore() {
    this.calls.push('restore');
    this.minimized = false;
  }
  isMinimized() {
    return this.minimized;
  }
  isDestroyed() {
    return this.destroyed;
  }
  close() {
    if (this.emit('close')) return;
    this.destroyed = true;
    this.emit('closed');
    this.webContents.emit('destroyed');
    event('window closed');
    if (!quitting && rec.windows.every((w) => w.destroyed)) app.emit('window-all-closed');
  }
  async loadURL(url) {
    this.url = url;
    event(`loadURL ${url}`);
    this.emit('ready-to-show');
    if (rec.windows.length === 1) setImmediate(commands);
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
    event('dialog');
    rec.dialogs.push({ title, message });
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

/** After the page loaded: announce, then run the test's commands from stdin. */
function commands() {
  const say = (name, value) => process.stdout.write(`${name} ${JSON.stringify(value ?? null)}\n`);
  say('loaded', { url: rec.windows[0].url });
  const lines = createInterface({ input: process.stdin });
  lines.on('line', async (line) => {
    const [name, ...args] = line.trim().split(' ');
    try {
      if (name === 'probe') say('probe', await probe());
      else if (name === 'ipc') say('ipc', await ipcFrom(args[0], args[1]));
      else if (name === 'headers') say('headers', await headersFor(args[0]));
      else if (name === 'second-instance') {
        rec.windows[0].minimized = true;
        rec.windows[0].calls.length = 0;
        app.emit('second-instance', ['LocalDLS'], process.cwd());
        say('second-instance', { calls: rec.windows[0].calls });
      } else if (name === 'close-window') rec.windows[0].close();
      else if (name === 'quit') app.quit();
      else if (name === 'throw') setImmediate(() => {
        throw new Error('something broke in the main process');
      });
      else say('error', `unknown command ${name}`);
    } catch (e) {
      say('error', String(e?.stack ?? e));
    }
  });
}

/** An IPC call on `channel` as if from a frame on `url` ("none": no frame). */
function ipcFrom(channel, url) {
  const handler = rec.ipc.get(channel);
  if (!handler) return { missing: channel };
  return handler({ senderFrame: url === 'none' ? null : { url, isDestroyed: () => false } });
}

function headersFor(url) {
  return new Promise((done) => rec.headersReceived({ url, responseHeaders: { 'content-security-policy': ["script-src 'unsafe-inline' *"], 'X-Other': ['1'] } }, done));
}

const EVIL = 'https://attacker.example/';

function fire(contents, name, ...args) {
  const handlers = contents.handlers[name] ?? [];
  return { handlers: handlers.length, prevented: contents.emit(name, ...args) };
}

function windowOpen(contents, url) {
  return contents.openHandler ? contents.openHandler({ url, frameName: '', features: '', disposition: 'new-window', referrer: { url: '', policy: 'default' } }) : null;
}

/** What a hostile page or a stray web contents would try, against what the shell registered. */
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
  report.headersReceived = rec.headersReceived ? await headersFor(EVIL) : null;

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

  const channels = [...rec.ipc.keys()];
  const refusedFrom = async (url) => (await Promise.all(channels.map((c) => ipcFrom(c, url)))).filter((r) => r && r.ok === false && /did not come from the LocalDLS window/.test(r.error?.message ?? '')).length;
  report.ipc = {
    channels,
    refusedFromAttacker: await refusedFrom(EVIL),
    refusedFromFile: await refusedFrom('file:///tmp/page.html'),
    refusedFromLookalike: await refusedFrom('app://localdls.attacker/'),
    refusedWithoutFrame: await refusedFrom('none'),
    fromApp: await ipcFrom('localdls:getStatus', 'app://localdls/index.html'),
  };
  return report;
}
