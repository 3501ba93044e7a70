/** The words of the desktop app's start-up dialogs and its environment settings (issue 17). */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { desktopListen, devRendererUrl } from '../../src/main/shell/config';
import { headerCspFor, APP_CSP } from '../../src/main/shell/csp';
import { linuxPortOwner, portOwner } from '../../src/main/shell/port-owner';
import { explainFatalError, explainStartupError } from '../../src/main/shell/startup-errors';

const ctx = { dataDir: '/home/u/.config/LocalDLS/data', databaseFile: '/home/u/.config/LocalDLS/data/localdls.sqlite', packaged: true };
const err = (message: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(message), extra);

describe('start-up dialogs', () => {
  it('port in use: which port, which program, what to do, in the app’s terms (not the CLI’s --port)', () => {
    const d = explainStartupError(err('Default-Mode port 18443 on 0.0.0.0 is in use by another program: choose another port (--port) or stop that program', { code: 'EADDRINUSE', port: 18443, host: '0.0.0.0' }), { ...ctx, portOwner: { pid: 4242, name: 'java' } });
    expect(d.title).toBe('LocalDLS cannot listen for phones');
    expect(d.message).toMatch(/^Port 18443 on 0\.0\.0\.0 is in use by java \(process 4242\)\./);
    expect(d.message).toMatch(/LOCALDLS_PORT/);
    expect(d.message).not.toMatch(/--port/);
    expect(explainStartupError(err('x', { code: 'EADDRINUSE', port: 18444 }), ctx).message).toMatch(/^Port 18444 is in use by another program/);
  });

  it('another service on the same data folder: which process, what to do, in the app’s terms', () => {
    const d = explainStartupError(err(`another LocalDLS service (process 777) is running on the data folder ${ctx.dataDir}: stop it first, or give this one another --data-dir`), ctx);
    expect(d).toEqual({ title: 'LocalDLS is already running', message: `Another LocalDLS service (process 777) is using the data folder ${ctx.dataDir}.\n\nQuit it (another copy of the app, or localdls serve in a terminal) and start LocalDLS again.` });
    expect(explainStartupError(err(`another LocalDLS service is running on the data folder ${ctx.dataDir}: stop it first`), ctx).message).toMatch(/^Another LocalDLS service is using/);
  });

  it('damaged or locked database, broken native module, keys, unwritable folder, anything else', () => {
    expect(explainStartupError(err('file is not a database', { code: 'SQLITE_NOTADB' }), ctx)).toEqual({ title: 'LocalDLS cannot open its database', message: expect.stringContaining(`The database ${ctx.databaseFile} is damaged (file is not a database)`) as string });
    expect(explainStartupError(err('database is locked', { code: 'SQLITE_BUSY' }), ctx).message).toMatch(/in use by another process/);
    const dl = explainStartupError(err("The module '/opt/LocalDLS/resources/app.asar.unpacked/native/x/better_sqlite3.node' was compiled against a different Node.js version using NODE_MODULE_VERSION 115"), { ...ctx, nativeBinding: '/opt/x.node' });
    expect(dl).toMatchObject({ title: 'LocalDLS cannot load its database engine', message: expect.stringMatching(/The SQLite module \/opt\/x\.node could not be loaded: .*NODE_MODULE_VERSION.*install LocalDLS again/s) as string });
    expect(explainStartupError(err('invalid ELF header', { code: 'ERR_DLOPEN_FAILED' }), { ...ctx, packaged: false }).message).toMatch(/node scripts\/electron-native\.mjs/);
    expect(explainStartupError(err('the key passphrase does not open the keys in /x/pki (wrong passphrase?)'), ctx)).toMatchObject({ title: 'LocalDLS cannot open its keys' });
    expect(explainStartupError(err("EACCES: permission denied, mkdir '/x'", { code: 'EACCES' }), ctx).message).toMatch(/check that this folder is writable/);
    expect(explainStartupError('something odd', ctx)).toEqual({ title: 'LocalDLS could not start', message: `something odd\n\nLocalDLS keeps its data in ${ctx.dataDir}.` });
  });

  it('fatal errors after start-up: an internal error says the service was stopped; known causes keep their own words', () => {
    expect(explainFatalError(new TypeError('x is undefined'), ctx)).toMatchObject({ title: 'LocalDLS stopped after an internal error', message: expect.stringMatching(/^x is undefined\n\nThe service was stopped/) as string });
    expect(explainFatalError(err('database disk image is malformed', { code: 'SQLITE_CORRUPT' }), ctx).title).toBe('LocalDLS cannot open its database');
  });
});

describe('the environment the app reads', () => {
  it('LOCALDLS_HOST / LOCALDLS_PORT / LOCALDLS_SECURE_PORT, with defaults; bad ports named', () => {
    expect(desktopListen({})).toEqual({ host: '0.0.0.0', port: 18443, securePort: 18444 });
    expect(desktopListen({ LOCALDLS_HOST: '192.0.2.5', LOCALDLS_PORT: '0', LOCALDLS_SECURE_PORT: ' 28444 ' })).toEqual({ host: '192.0.2.5', port: 0, securePort: 28444 });
    for (const bad of ['-1', '65536', '18443x', '1e3', '0x50']) expect(() => desktopListen({ LOCALDLS_SECURE_PORT: bad }), bad).toThrow(/^LOCALDLS_SECURE_PORT=".*" is not a port/);
  });

  it('ELECTRON_RENDERER_URL: never when packaged; from the sources only http(s) on this machine', () => {
    expect(devRendererUrl({ ELECTRON_RENDERER_URL: 'http://localhost:5173' }, true)).toBeNull();
    expect(devRendererUrl({}, false)).toBeNull();
    expect(devRendererUrl({ ELECTRON_RENDERER_URL: 'http://localhost:5173' }, false)).toBe('http://localhost:5173/');
    expect(devRendererUrl({ ELECTRON_RENDERER_URL: 'http://127.0.0.1:5173/x' }, false)).toBe('http://127.0.0.1:5173/x');
    expect(devRendererUrl({ ELECTRON_RENDERER_URL: 'http://[::1]:5173/' }, false)).toBe('http://[::1]:5173/');
    for (const bad of ['https://attacker.example/', 'http://localhost.attacker.example:5173/', 'http://127.0.0.1.nip.io/', 'file:///tmp/x.html', 'javascript:alert(1)', 'http://10.0.0.1:5173/']) {
      expect(() => devRendererUrl({ ELECTRON_RENDERER_URL: bad }, false), bad).toThrow(/ELECTRON_RENDERER_URL/);
    }
    expect(() => devRendererUrl({ ELECTRON_RENDERER_URL: 'not a url' }, false)).toThrow(/is not a URL/);
  });

  it('the header CSP is left off only for the dev server’s own origin, and only when there is one', () => {
    expect(headerCspFor('http://localhost:5173/src/main.tsx', 'http://localhost:5173/')).toBeNull();
    expect(headerCspFor('http://localhost:5174/', 'http://localhost:5173/')).toBe(APP_CSP);
    expect(headerCspFor('https://localhost:5173/', 'http://localhost:5173/')).toBe(APP_CSP);
    expect(headerCspFor('http://localhost:5173/', null)).toBe(APP_CSP);
    expect(headerCspFor('garbage', 'http://localhost:5173/')).toBe(APP_CSP);
  });
});

describe.runIf(process.platform === 'linux')('which program holds a port (Linux, /proc)', () => {
  it('finds this process for a port it listens on; nothing for a free port', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as net.AddressInfo).port;
    try {
      expect(linuxPortOwner(port)).toEqual({ pid: process.pid, name: 'node' });
      expect(await portOwner(port)).toEqual({ pid: process.pid, name: 'node' });
    } finally {
      server.close();
    }
    expect(linuxPortOwner(port)).toBeNull();
    expect(linuxPortOwner(port, '/nonexistent')).toBeNull();
  });
});
