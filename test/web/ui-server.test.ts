/** The web UI bridge over real sockets: who may connect, what may be sent, and that a valid call works. */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { LocalDlsApiHost } from '../../src/main/bridge/api-host';
import { startUiServer, UiNotBuiltError, type UiServer } from '../../src/main/bridge/ui-server';
import { LIMITS, WS_MAX_REQUEST_BYTES, type WireEvent, type WireResponse } from '../../src/shared/api';
import { FlowHarness } from '../support/handler';
import { tempDirs } from '../support/tmp';
import { apiOver, interaction } from './api-harness';

const newDir = tempDirs();
let renderer: string;
beforeAll(() => {
  renderer = mkdtempSync(join(tmpdir(), 'localdls-ui-'));
  mkdirSync(join(renderer, 'assets'));
  writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>LocalDLS</title>');
  writeFileSync(join(renderer, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(join(renderer, 'assets', 'mount-DqV0gw_a.js'), 'console.log(2)');
  writeFileSync(join(renderer, 'assets', 'index-BStOobd1.css'), 'body{}');
  mkdirSync(join(renderer, 'assets', 'sub'));
  writeFileSync(join(renderer, 'assets', 'sub', 'x-12345678.js'), 'console.log(3)');
  // A build from a minute ago; fresh-12345678.js is being written now.
  const aMinuteAgo = new Date(Date.now() - 60_000);
  for (const f of ['mount-DqV0gw_a.js', 'index-BStOobd1.css']) utimesSync(join(renderer, 'assets', f), aMinuteAgo, aMinuteAgo);
  writeFileSync(join(renderer, 'assets', 'fresh-12345678.js'), 'console.log(4)');
});
afterAll(() => rmSync(renderer, { recursive: true, force: true }));

const running: { server: UiServer; api: LocalDlsApiHost; h: FlowHarness }[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) {
    await r.server.close();
    r.api.close();
    r.h.close();
  }
});

async function start(options: { maxConnections?: number; timeouts?: { headersMs: number; requestMs: number } } = {}) {
  const h = new FlowHarness(newDir());
  const api = apiOver(h);
  const server = await startUiServer({ api, port: 0, rendererDir: renderer, token: 'test-token-1234567890', ...options });
  running.push({ server, api, h });
  return { h, api, server, origin: `http://127.0.0.1:${server.port}`, ws: `ws://127.0.0.1:${server.port}/api` };
}

/** Opens a socket; resolves with it once open, or with the HTTP status the handshake was refused with. */
function connect(url: string, origin: string | undefined, headers: Record<string, string> = {}): Promise<WebSocket | number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { ...(origin ? { origin } : {}), headers });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('error', reject);
  });
}

function nextMessage(ws: WebSocket, pick: (m: WireResponse | WireEvent) => boolean = () => true): Promise<WireResponse | WireEvent> {
  return new Promise((resolve) => {
    const on = (data: WebSocket.RawData) => {
      const m = JSON.parse(data.toString()) as WireResponse | WireEvent;
      if (pick(m)) {
        ws.off('message', on);
        resolve(m);
      }
    };
    ws.on('message', on);
  });
}

const closed = (ws: WebSocket) => new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));

function get(port: number, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('web UI server', () => {
  it('listens on 127.0.0.1 only and prints the page address with its token', async () => {
    const { server } = await start();
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=test-token-1234567890`);
    const random = await startUiServer({ api: running[0]!.api, port: 0, rendererDir: renderer });
    expect(random.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await random.close();
  });

  it('refuses a socket without the token or with a wrong one', async () => {
    const { ws, origin } = await start();
    expect(await connect(ws, origin)).toBe(401);
    expect(await connect(`${ws}?token=wrong`, origin)).toBe(401);
    expect(await connect(`${ws}?token=test-token-123456789`, origin)).toBe(401);
  });

  it('refuses another origin, a missing origin and a foreign Host (DNS rebinding)', async () => {
    const { ws, origin, server } = await start();
    const url = `${ws}?token=test-token-1234567890`;
    expect(await connect(url, 'http://evil.example')).toBe(403);
    expect(await connect(url, `http://127.0.0.1:${server.port + 1}`)).toBe(403);
    expect(await connect(url, undefined)).toBe(403);
    expect(await connect(url, 'http://evil.example', { Host: `evil.example:${server.port}` })).toBe(421);
    const ok = await connect(url, origin);
    expect(ok).toBeInstanceOf(WebSocket);
    (ok as WebSocket).close();
  });

  it('answers a valid call and pushes live events', async () => {
    const { ws, origin, h } = await start();
    const socket = (await connect(`${ws}?token=test-token-1234567890`, origin)) as WebSocket;
    socket.send(JSON.stringify({ id: 1, method: 'getStatus', args: [] }));
    const answer = (await nextMessage(socket)) as WireResponse;
    expect(answer).toMatchObject({ id: 1, ok: true, result: { dataDir: '/data', exchangeCount: 0 } });

    const event = nextMessage(socket, (m) => 'event' in m && m.event === 'exchanges');
    interaction(h);
    const e = (await event) as { event: string; data: { action: string }[] };
    expect(e.data.map((x) => x.action)).toEqual(['ReadAllItems', 'CleanUp']);

    socket.send(JSON.stringify({ id: 2, method: 'listExchanges', args: [{ reason: 'reply-to' }, { limit: 10 }] }));
    expect(await nextMessage(socket, (m) => 'id' in m && m.id === 2)).toMatchObject({ ok: true, result: { matched: 1, total: 2 } });
    socket.close();
  });

  it('bridges the actions: a queued job comes back with its id, its change arrives as an event, bad specs are refused with the validator\'s words', async () => {
    const { ws, origin, h } = await start();
    interaction(h);
    const socket = (await connect(`${ws}?token=test-token-1234567890`, origin)) as WebSocket;
    const event = nextMessage(socket, (m) => 'event' in m && m.event === 'jobsChanged');
    socket.send(JSON.stringify({ id: 1, method: 'addJob', args: [['00:1a:e8:00:00:01'], { kind: 'write', items: [{ name: 'sntp-addr', index: 0, value: 'ntp.example' }] }] }));
    const answer = (await nextMessage(socket, (m) => 'id' in m && m.id === 1)) as WireResponse & { result: { jobs: { id: number; mac: string }[] } };
    expect(answer).toMatchObject({ ok: true, result: { jobs: [{ mac: '00:1A:E8:00:00:01', kind: 'WriteItems', state: 'queued' }], notes: [] } });
    const e = (await event) as { event: string; data: { id: number }[] };
    expect(e.data.map((j) => j.id)).toEqual([answer.result.jobs[0]!.id]);

    const cases: [string, unknown[], string][] = [
      ['addJob', [['00:1A:E8:00:00:01'], { kind: 'write', items: [{ name: 'a b', value: '1' }] }], 'addJob: spec.items[0].name "a b" is not an item name (a letter, then letters, digits, - _ .)'],
      ['addJob', [['00:1A:E8:00:00:01'], { kind: 'firmware', version: '1', url: 'https://x/fw' }], 'addJob: version "1" is not a firmware version like 3.5.12.0'],
      ['listJobs', [{ mac: 'x' }], 'listJobs: filter.mac "x" is not a MAC address (e.g. 00:1A:E8:00:00:01)'],
      ['cancelJob', ['1'], 'cancelJob: id must be a whole number ≥ 0'],
      ['contactNow', [[]], 'contactNow: macs must name at least one device'],
      ['applyProfile', ['../x', ['00:1A:E8:00:00:01']], 'applyProfile: name must be letters, digits, . _ - (up to 64)'],
      ['startBootstrap', [['00:1A:E8:00:00:01'], { pin: 'auto' }], 'startBootstrap: options.maxPinRetries must be a whole number ≥ 0'],
      ['bootstrapPinSheet', ['r1', 'xml'], 'bootstrapPinSheet: format must be one of csv, html'],
      ['itemCatalogue', [1], 'itemCatalogue: this call takes no arguments'],
    ];
    let id = 10;
    for (const [method, args, message] of cases) {
      socket.send(JSON.stringify({ id: ++id, method, args }));
      // (A refused MAC or id also carries texts for the UI's language: test/renderer/api-error.test.ts.)
      expect(await nextMessage(socket, (m) => 'id' in m && m.id === id)).toMatchObject({ id, ok: false, error: { code: 'bad-argument', message } });
    }
    socket.send(JSON.stringify({ id: 99, method: 'cancelJob', args: [answer.result.jobs[0]!.id] }));
    expect(await nextMessage(socket, (m) => 'id' in m && m.id === 99)).toMatchObject({ ok: true, result: { state: 'cancelled' } });
    socket.close();
  });

  it('answers bad arguments and unknown methods with an error, and closes on malformed messages', async () => {
    const { ws, origin } = await start();
    const url = `${ws}?token=test-token-1234567890`;
    const socket = (await connect(url, origin)) as WebSocket;
    socket.send(JSON.stringify({ id: 1, method: 'getExchange', args: ['1; DROP TABLE exchanges'] }));
    expect(await nextMessage(socket)).toEqual({ id: 1, ok: false, error: { code: 'bad-argument', message: 'getExchange: id must be a whole number ≥ 0', texts: [{ key: 'badArgument', params: { argument: 'id', value: '1; DROP TABLE exchanges' } }] } });
    socket.send(JSON.stringify({ id: 2, method: 'constructor', args: [] }));
    expect(await nextMessage(socket)).toMatchObject({ id: 2, ok: false, error: { code: 'bad-argument', message: 'unknown method "constructor"' } });
    socket.send(JSON.stringify({ id: 3, method: 'getExchange', args: [12345] }));
    expect(await nextMessage(socket)).toMatchObject({ id: 3, ok: false, error: { code: 'not-found' } });
    socket.send('not json');
    expect(await closed(socket)).toBe(1007);

    const binary = (await connect(url, origin)) as WebSocket;
    binary.send(Buffer.from([1, 2, 3]));
    expect(await closed(binary)).toBe(1003);
  });

  it('closes a socket that sends an oversized message (1009) before parsing it', async () => {
    const { ws, origin } = await start();
    const socket = (await connect(`${ws}?token=test-token-1234567890`, origin)) as WebSocket;
    const done = closed(socket);
    socket.send(JSON.stringify({ id: 1, method: 'listExchanges', args: [{ text: 'x'.repeat(WS_MAX_REQUEST_BYTES) }, { limit: 1 }] }));
    expect(await done).toBe(1009);
  });

  it('takes a call naming as many devices as one command may (a selection of a whole big site)', async () => {
    const { ws, origin } = await start();
    const socket = (await connect(`${ws}?token=test-token-1234567890`, origin)) as WebSocket;
    const macs = Array.from({ length: LIMITS.macs }, (_, i) => `02:00:00:${[(i >> 16) & 255, (i >> 8) & 255, i & 255].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':')}`);
    const answer = nextMessage(socket, (m) => 'id' in m && m.id === 7);
    socket.send(JSON.stringify({ id: 7, method: 'addJob', args: [macs, { kind: 'restart' }] }));
    // Answered (none of those phones exists), not cut off.
    expect(await answer).toMatchObject({ id: 7, ok: false, error: { code: 'not-found', message: expect.stringContaining('no device 02:00:00:00:00:00') as unknown } });
    socket.close();
  });

  it('closes a connection that never sends its request, or never finishes it (a WebSocket upgrade included), with 408', async () => {
    const { server } = await start({ timeouts: { headersMs: 300, requestMs: 600 } });
    const hang = (sent: string) =>
      new Promise<string>((resolve) => {
        let got = '';
        const socket = netConnect(server.port, '127.0.0.1', () => sent && socket.write(sent));
        socket.on('data', (d) => (got += d.toString()));
        socket.on('error', () => undefined);
        socket.on('close', () => resolve(got.split('\r\n')[0]!));
      });
    const upgrade = `GET /api?token=test-token-1234567890 HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nOrigin: http://127.0.0.1:${server.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`;
    // The socket's 'close' is the assertion: without the timeouts these stay open (the test times out).
    expect(await Promise.all([hang(''), hang(upgrade), hang('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n')])).toEqual(Array(3).fill('HTTP/1.1 408 Request Timeout'));
  });

  it('limits connections', async () => {
    const { ws, origin } = await start({ maxConnections: 2 });
    const url = `${ws}?token=test-token-1234567890`;
    const a = (await connect(url, origin)) as WebSocket;
    const b = (await connect(url, origin)) as WebSocket;
    expect(await connect(url, origin)).toBe(503);
    a.close();
    b.close();
  });

  it('serves the built UI with security headers, nothing outside it, GET/HEAD only', async () => {
    const { server } = await start();
    const page = await get(server.port, '/?token=test-token-1234567890');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>LocalDLS</title>');
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).toContain(`connect-src 'self' ws://127.0.0.1:${server.port}`);
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect((await get(server.port, '/assets/app.js')).headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect((await get(server.port, '/../../../../etc/passwd')).status).toBe(404);
    expect((await get(server.port, '/%2e%2e/%2e%2e/etc/passwd')).status).toBe(404);
    expect((await get(server.port, '/assets/%00x')).status).toBe(400);
    expect((await get(server.port, '/missing.js')).status).toBe(404);
    expect((await get(server.port, '/', {}, 'POST')).status).toBe(405);
    expect((await get(server.port, '/', { Host: 'attacker.example' })).status).toBe(421);
    expect((await get(server.port, '/api')).status).toBe(426);
  });

  it('lets the browser keep the hashed scripts and styles for good, and nothing else', async () => {
    const { server } = await start();
    const immutable = 'public, max-age=31536000, immutable';
    for (const path of ['/assets/mount-DqV0gw_a.js', '/assets/index-BStOobd1.css']) {
      const r = await get(server.port, path);
      expect(r.status, path).toBe(200);
      expect(r.headers['cache-control'], path).toBe(immutable);
      // The other security headers stay.
      expect(r.headers['x-content-type-options'], path).toBe('nosniff');
      expect((await get(server.port, path, {}, 'HEAD')).headers['cache-control'], `HEAD ${path}`).toBe(immutable);
    }
    // The page names the current build's files and its address carries the token; a name without
    // a content hash may change in place; a file written seconds ago may be a build still writing
    // it; a miss, a refusal and a nested path are not kept either.
    for (const path of ['/', '/index.html', '/?token=test-token-1234567890', '/assets/app.js', '/assets/fresh-12345678.js', '/assets/sub/x-12345678.js', '/assets/missing-12345678.js', '/assets/mount-DqV0gw_a.js.map', '/assets/%2e%2e/index.html']) {
      const r = await get(server.port, path);
      expect(r.headers['cache-control'], `${path} (${r.status})`).toBe('no-store');
    }
    expect((await get(server.port, '/assets/missing-12345678.js')).status).toBe(404);
    expect((await get(server.port, '/assets/mount-DqV0gw_a.js', {}, 'POST')).headers['cache-control']).toBe('no-store');
    expect((await get(server.port, '/assets/mount-DqV0gw_a.js', { Host: 'attacker.example' })).headers['cache-control']).toBe('no-store');
  });

  it('says how to build the UI when it is missing', async () => {
    const h = new FlowHarness(newDir());
    const api = apiOver(h);
    await expect(startUiServer({ api, rendererDir: join(renderer, 'nope') })).rejects.toThrow(UiNotBuiltError);
    await expect(startUiServer({ api, rendererDir: join(renderer, 'nope') })).rejects.toThrow(/run `npm run build`/);
    api.close();
    h.close();
  });
});
