/**
 * Hostile HTTP over real sockets against a real Service (the listener is on a LAN where any host
 * can talk to it). Each attack is answered with a status and a one-line reason (or, where no HTTP
 * is possible, the connection is closed), what the store should show is recorded, and a real
 * phone is served meanwhile. test/net/default-listener.test.ts has the basic refusals; these go
 * further: many slow clients at once, trickled bodies, bodies that are never read, the connection
 * cap, garbage in and out of TLS, every wrong method, odd paths, oversized headers.
 */
import https from 'node:https';
import { describe, expect, it } from 'vitest';
import { message, startUpItems } from '../support/messages';
import { openTcp, openTls, parseAnswer, phoneInteraction, servedFully, sleep, startService, type RawConnection } from './support';

const MAC = '00:1A:E8:33:44:55';
const HEAD = 'POST /DeploymentService/LoginService HTTP/1.1\r\nHost: dls\r\nContent-Type: text/xml\r\n';

describe('slow clients', () => {
  it('cuts 30 Slowloris connections at the headers timeout with 408 and a reason, records it once, and serves a phone meanwhile', async () => {
    const { service, port } = await startService({ headersTimeoutMs: 800, requestTimeoutMs: 1600 });
    const slow: RawConnection[] = await Promise.all(Array.from({ length: 30 }, () => openTls(port)));
    let stop = false;
    // Each one trickles a header line every 100 ms and never ends its headers (bounded: 100 lines).
    const trickle = Promise.all(slow.map(async (c, i) => {
      c.socket.write(HEAD);
      for (let n = 0; n < 100 && !stop && !c.isClosed(); n++) {
        c.socket.write(`X-Slow-${i}-${n}: ${'a'.repeat(10)}\r\n`);
        await sleep(100);
      }
    }));
    const phone = await phoneInteraction(port);
    const ends = await Promise.all(slow.map((c) => c.closed));
    stop = true;
    await trickle;
    expect(servedFully(phone)).toBe(true);
    for (const end of ends) {
      const answer = parseAnswer(end.data);
      expect(answer?.status).toBe(408);
      expect(answer?.headers['content-type']).toMatch(/^text\/plain/);
      expect(answer?.body).toBe('request headers not complete within 800 ms\n');
    }
    // Recorded, but rate-limited: one row per client address and reason, not one per connection.
    const rows = service.store.exchanges({ limit: 1000 }).filter((x) => x.httpStatus === 408);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ peerAddress: '127.0.0.1', error: 'request headers not complete within 800 ms', mac: null });
  });

  it('cuts a request that trickles its body at the request timeout, before the body is complete, and records it', async () => {
    const { service, port } = await startService({ headersTimeoutMs: 1000, requestTimeoutMs: 1500 });
    const c = await openTls(port);
    const body = Buffer.from(message({ reason: 'start-up', items: startUpItems(MAC) }));
    c.socket.write(`${HEAD}Content-Length: ${body.length}\r\n\r\n`);
    let sent = 0;
    // 8 bytes every 100 ms: the whole body would take over a minute (bounded by the body length).
    const trickle = (async () => {
      while (sent < body.length && !c.isClosed()) {
        c.socket.write(body.subarray(sent, sent + 8));
        sent += 8;
        await sleep(100);
      }
    })();
    const phone = await phoneInteraction(port);
    const end = await c.closed;
    await trickle;
    expect(servedFully(phone)).toBe(true);
    expect(sent).toBeLessThan(body.length);
    const answer = parseAnswer(end.data);
    expect(answer?.status).toBe(408);
    expect(answer?.body).toBe('request body not complete within 1500 ms\n');
    // Recorded with what is known of the request; the device it names was never touched.
    const row = service.store.exchanges({ limit: 100 }).find((x) => x.httpStatus === 408);
    expect(row).toMatchObject({ method: 'POST', path: '/DeploymentService/LoginService', error: 'request body not complete within 1500 ms' });
    expect(service.store.device(MAC)).toBeUndefined();
  });
});

describe('oversized bodies', () => {
  it('answers 413 from Content-Length alone, before a single body byte is sent, and does not swallow the body', async () => {
    const { service, port } = await startService({ maxBodyBytes: 64 * 1024 });
    const c = await openTls(port);
    const declared = 1024 * 1024 * 1024;
    c.socket.write(`${HEAD}Content-Length: ${declared}\r\n\r\n`);
    // No body byte yet: the answer can only come from the header.
    while (parseAnswer(c.received()) === null && !c.isClosed()) await sleep(20);
    const answer = parseAnswer(c.received());
    expect(answer?.status).toBe(413);
    expect(answer?.headers.connection).toBe('close');
    expect(answer?.body).toBe(`body of ${declared} bytes exceeds the limit of ${64 * 1024}\n`);
    // Keep sending: the service closes the connection instead of reading the gigabyte (bounded at 256 MB).
    const chunk = Buffer.alloc(256 * 1024, 0x41);
    let written = 0;
    while (!c.isClosed() && written < 256 * 1024 * 1024) {
      const ok = c.socket.write(chunk);
      written += chunk.length;
      if (!ok) await Promise.race([new Promise((r) => c.socket.once('drain', r)), c.closed]);
    }
    await c.closed;
    expect(written).toBeLessThan(256 * 1024 * 1024);
    expect(service.store.exchanges()[0]).toMatchObject({ httpStatus: 413, requestBytes: 0 });
    expect(servedFully(await phoneInteraction(port))).toBe(true);
  });
});

describe('the connection cap', () => {
  it('refuses connections beyond maxConnections from the address holding them, serves a phone from another address meanwhile, closes the idle ones at their timeouts', async () => {
    const { service, port } = await startService({ maxConnections: 8, handshakeTimeoutMs: 3000, headersTimeoutMs: 3000, requestTimeoutMs: 4000 });
    // 4 that never start TLS, 4 that finish the handshake and never send a request.
    const idle = [...(await Promise.all(Array.from({ length: 4 }, () => openTcp(port)))), ...(await Promise.all(Array.from({ length: 4 }, () => openTls(port))))];
    await sleep(100);
    // Beyond the cap: closed at once, without an answer.
    const extra = await Promise.all(Array.from({ length: 6 }, () => openTcp(port)));
    const extraEnds = await Promise.all(extra.map((c) => c.closed));
    expect(extraEnds.every((e) => e.data.length === 0)).toBe(true);
    expect(idle.every((c) => !c.isClosed())).toBe(true);
    // A phone from another address gets in while the cap is taken: 127.0.0.1 holds the most, so it
    // gives up its oldest idle connection (docs/security.md, "Fairness under flood")…
    expect(servedFully(await phoneInteraction(port))).toBe(true);
    // …and the idle connections are closed by the service (dropped, or at the handshake / headers
    // timeout), not by us.
    const idleEnds = await Promise.all(idle.map((c) => c.closed));
    expect(idleEnds.slice(4).every((e) => parseAnswer(e.data)?.status === 408)).toBe(true);
    expect(servedFully(await phoneInteraction(port))).toBe(true);
    const rows = service.store.exchanges({ limit: 100 });
    const kinds = rows.map((x) => `${x.kind}:${x.httpStatus}`);
    expect(kinds).toContain('tls-failure:0');
    expect(kinds).toContain('wpi:408');
    expect(rows.filter((x) => /^connection dropped: listener at its limit of 8 connections: 127\.0\.0\.1 held the most \(8\), one dropped for 127\.0\.4\d\.\d+$/.test(x.error ?? ''))).toHaveLength(1);
  });
});

describe('garbage', () => {
  it('closes a connection that sends random bytes instead of TLS, records the failed handshake, keeps serving', async () => {
    const { service, port } = await startService();
    const c = await openTcp(port);
    c.socket.write(Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 131 + 7) & 0xff)));
    const end = await c.closed;
    expect(end.data.toString('latin1')).not.toMatch(/HTTP|DLSMessage/);
    const failures = service.store.exchanges().filter((x) => x.kind === 'tls-failure');
    expect(failures).toHaveLength(1);
    expect(failures[0]!.error).toMatch(/^TLS handshake failed: /);
    expect(servedFully(await phoneInteraction(port))).toBe(true);
  });

  it('answers plain HTTP on the TLS port by closing, with the hint recorded', async () => {
    const { service, port } = await startService();
    const c = await openTcp(port);
    c.socket.write(`${HEAD}Content-Length: 0\r\n\r\n`);
    const end = await c.closed;
    expect(end.data.toString('latin1')).not.toContain('DLSMessage');
    const [failure] = service.store.exchanges().filter((x) => x.kind === 'tls-failure');
    expect(failure?.warning).toMatch(/did not speak TLS/);
    expect(servedFully(await phoneInteraction(port))).toBe(true);
  });

  it('answers bytes that are not HTTP inside TLS with 400 and one line, then closes', async () => {
    const { port } = await startService();
    const garbages = [
      'GARBAGE\r\n\r\n',
      '\x00\x01\x02\x03\r\n\r\n',
      'POST /DeploymentService/x HTTP/9.9\r\n\r\n',
      `POST ${'/'.repeat(5)} HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n`,
      `${HEAD}Transfer-Encoding: chunked\r\n\r\nzz\r\n`,
      `${HEAD}Content-Length: 5\r\nContent-Length: 6\r\n\r\n`,
    ];
    for (const garbage of garbages) {
      const c = await openTls(port);
      c.socket.write(garbage);
      const answer = parseAnswer((await c.closed).data);
      expect(answer?.status, JSON.stringify(garbage)).toBe(400);
      expect(answer?.headers['content-type']).toMatch(/^text\/plain/);
      expect(answer?.body).toMatch(/^not an HTTP request \([A-Z_]+\)\n$/);
    }
    expect(servedFully(await phoneInteraction(port))).toBe(true);
  });

  it('answers headers beyond the size limit with 431', async () => {
    const { port } = await startService();
    const c = await openTls(port);
    c.socket.write(`${HEAD}X-Big: ${'b'.repeat(20 * 1024)}\r\nContent-Length: 0\r\n\r\n`);
    const answer = parseAnswer((await c.closed).data);
    expect(answer?.status).toBe(431);
    expect(answer?.body).toBe('request headers too large\n');
    expect(servedFully(await phoneInteraction(port))).toBe(true);
  });

  it('answers more than 100 headers with 431, not by dropping the rest (a Cookie past the cut was lost unnoticed); 100 pass', async () => {
    const { service, port } = await startService();
    const body = message({ reason: 'start-up', items: startUpItems(MAC) });
    // Host, Content-Type, Content-Length and Connection, then padding up to `count` headers in all.
    const send = async (count: number) => {
      const c = await openTls(port);
      const padding = Array.from({ length: count - 4 }, (_, i) => `X-Pad-${i}: ${i}\r\n`).join('');
      c.socket.write(`${HEAD}${padding}Connection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      return parseAnswer((await c.closed).data);
    };
    expect((await send(100))?.status).toBe(200);
    const refused = await send(101);
    expect(refused?.status).toBe(431);
    expect(refused?.body).toBe('more than 100 request headers\n');
    const row = service.store.exchanges({})[0]!;
    expect([row.httpStatus, row.error, row.mac]).toEqual([431, 'more than 100 request headers', null]);
    expect(servedFully(await phoneInteraction(port))).toBe(true);
  });
});

describe('wrong methods and paths', () => {
  function request(port: number, method: string, path: string, body = ''): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
    return new Promise((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port, method, path, rejectUnauthorized: false, agent: false, headers: { 'Content-Length': String(Buffer.byteLength(body)) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  it('answers every method but POST with 405 and Allow: POST, each recorded', async () => {
    const { service, port } = await startService();
    const methods = ['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'PROPFIND', 'CONNECTX'];
    for (const method of methods) {
      const r = await request(port, method, '/DeploymentService/LoginService', method === 'GET' ? '' : message({ reason: 'start-up', items: startUpItems(MAC) }));
      expect(r.status, method).toBe(method === 'CONNECTX' ? 400 : 405);
      if (r.status === 405) {
        expect(r.headers.allow).toBe('POST');
        expect(r.body).toBe(`method ${method} not allowed; WPI messages are POSTed\n`);
      }
    }
    expect(service.store.exchanges({ limit: 100 }).filter((x) => x.httpStatus === 405)).toHaveLength(methods.length - 1);
    expect(service.store.device(MAC)).toBeUndefined();
  });

  it('answers paths outside /DeploymentService/ with 404 and a short reason, each recorded', async () => {
    const { service, port } = await startService();
    const paths = ['/', '/DeploymentService', '/deploymentservice/LoginService', '/DEPLOYMENTSERVICE/', '/index.html', '/%2e%2e/DeploymentService/', `/${'x'.repeat(8000)}`, '/?/DeploymentService/'];
    for (const path of paths) {
      const r = await request(port, 'POST', path, message({ reason: 'start-up', items: startUpItems(MAC) }));
      expect(r.status, path.slice(0, 40)).toBe(404);
      expect(r.body.split('\n')).toHaveLength(2);
      expect(r.body.length).toBeLessThan(300);
      expect(r.body).toMatch(/^no WPI service at .*; phones POST to \/DeploymentService\/LoginService\n$/);
    }
    expect(service.store.exchanges({ limit: 100 }).filter((x) => x.httpStatus === 404)).toHaveLength(paths.length);
    expect(service.store.device(MAC)).toBeUndefined();
    expect(servedFully(await phoneInteraction(port))).toBe(true);
  });
});
