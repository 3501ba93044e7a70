import { afterEach, describe, expect, it } from 'vitest';
import { Service } from '../../src/main/app/service';
import { parseDLSMessage } from '../../src/main/wpi';
import { WPI_REFUSALS } from '../../src/shared/wpi-refusals';
import { tempDirs } from '../support/tmp';
import { message, startUpItems } from '../support/messages';
import { post, rawTls } from '../support/https-client';
import { withRawDb } from '../support/raw-db';

const newDir = tempDirs();
const running: Service[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop();
});

async function start(dataDir = newDir(), limits = {}) {
  const service = new Service({ dataDir, host: '127.0.0.1', port: 0, limits });
  running.push(service);
  const { port } = await service.start();
  return { service, port, dataDir };
}

const MAC = '00:1A:E8:11:22:33';

describe('Default-Mode listener over a real socket', () => {
  it('takes a phone from start-up through a fragmented ReadAllItems reply to CleanUp, all stored', async () => {
    const { service, port } = await start();
    const startUp = message({ reason: 'start-up', items: startUpItems(MAC) });
    const r1 = await post(port, startUp);
    expect(r1.status).toBe(200);
    expect(r1.headers['content-type']).toMatch(/^text\/xml/);
    expect(r1.headers['content-length']).toBe(String(Buffer.byteLength(r1.body)));
    expect(r1.headers['transfer-encoding']).toBeUndefined();
    const a1 = parseDLSMessage(r1.body);
    expect(a1.action).toBe('ReadAllItems');
    expect(r1.body).toContain(`nonce="${/nonce="([^"]+)"/.exec(startUp)![1]}"`);
    const setCookie = String(r1.headers['set-cookie']);
    expect(setCookie).toMatch(/^JSESSIONID=[0-9A-F]{32}; Path=\/DeploymentService; Secure$/);
    // Phones send the cookie back with its attributes attached.
    const cookie = `${setCookie.split(';')[0]}; path=/DeploymentService; secure`;

    const r2 = await post(port, message({ reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', fragment: 'next', items: [{ name: 'ldap-server-address', index: 1, value: 'ldap.example' }] }), { headers: { Cookie: cookie } });
    expect(parseDLSMessage(r2.body).action).toBe('GetNextFragment');
    const r3 = await post(port, message({ reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', fragment: 'final', items: [{ name: 'function-key-def', index: 0, value: '3' }] }), { headers: { Cookie: cookie } });
    expect(parseDLSMessage(r3.body).action).toBe('CleanUp');

    const store = service.store;
    const exchanges = store.exchanges({ mac: MAC, newestFirst: false });
    expect(exchanges.map((x) => x.action)).toEqual(['ReadAllItems', 'GetNextFragment', 'CleanUp']);
    expect(new Set(exchanges.map((x) => x.interactionId)).size).toBe(1);
    expect(exchanges.every((x) => x.tlsProtocol?.startsWith('TLSv1.'))).toBe(true);
    const interaction = store.interaction(exchanges[0]!.interactionId!);
    expect(interaction).toMatchObject({ mac: MAC, reason: 'start-up', endReason: 'CleanUp' });
    expect(store.items(MAC)).toEqual([
      expect.objectContaining({ name: 'function-key-def', index: 0, value: '3' }),
      expect.objectContaining({ name: 'ldap-server-address', index: 1, value: 'ldap.example' }),
    ]);
    expect(store.device(MAC)).toMatchObject({ mac: MAC, state: 'idle', deviceType: 'OpenStage 60', lastAddress: '127.0.0.1' });
    // Raw bytes are the truth: the stored request is byte for byte what was sent.
    expect(Buffer.from(store.exchange(exchanges[0]!.id)!.requestBody).toString('utf8')).toBe(startUp);
  });

  it('keeps a large inventory reply byte for byte, compressed at rest', async () => {
    const { service, port, dataDir } = await start();
    const r1 = await post(port, message({ reason: 'start-up', items: startUpItems(MAC) }));
    const cookie = String(r1.headers['set-cookie']).split(';')[0]!;
    const items = Array.from({ length: 320 }, (_, i) => ({ name: `item-${i % 40}`, index: i, value: `välue ${i} ${'x'.repeat(i % 17)}` }));
    const reply = message({ reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', fragment: 'final', items });
    expect(Buffer.byteLength(reply)).toBeGreaterThan(15_000);
    const r2 = await post(port, reply, { headers: { Cookie: cookie } });
    expect(parseDLSMessage(r2.body).action).toBe('CleanUp');
    const [summary] = service.store.exchanges({ mac: MAC, limit: 1 });
    const stored = service.store.exchange(summary!.id)!;
    expect(Buffer.from(stored.requestBody).equals(Buffer.from(reply))).toBe(true);
    expect(Buffer.from(stored.responseBody).toString('utf8')).toBe(r2.body);
    expect(summary!.requestBytes).toBe(Buffer.byteLength(reply));
    const row = withRawDb(dataDir, (db) => db.prepare('SELECT request_encoding AS e, length(request_body) AS n FROM exchanges WHERE id = ?').get(summary!.id)) as { e: string; n: number };
    expect(row.e).toBe('deflate-raw');
    expect(row.n).toBeLessThan(Buffer.byteLength(reply) / 3);
  });

  it('answers invalid requests with 400 and a one-line reason, records them, and keeps serving', async () => {
    const { service, port } = await start();
    const cases: [string, RegExp][] = [
      ['not xml at all', /not well-formed XML/],
      ['<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><WorkpointMessage/>', /DOCTYPE/],
      ['<DLSMessage><Message nonce="1"><Action>CleanUp</Action></Message></DLSMessage>', /expected WorkpointMessage/],
      ['<WorkpointMessage><Message><ReasonForContact>start-up</ReasonForContact></Message></WorkpointMessage>', /no nonce/],
      ['<WorkpointMessage><Message nonce="1"><ReasonForContact>reboot</ReasonForContact></Message></WorkpointMessage>', /unknown ReasonForContact/],
      ['<WorkpointMessage><Message nonce="1"><ReasonForContact>start-up</ReasonForContact></Message></WorkpointMessage>', /without a mac-addr/],
      ['', /empty body/],
    ];
    for (const [body, reason] of cases) {
      const r = await post(port, body);
      expect(r.status).toBe(400);
      expect(r.headers['content-type']).toMatch(/^text\/plain/);
      expect(r.body).toMatch(reason);
      expect(r.body.trim().split('\n')).toHaveLength(1);
      expect(r.body).not.toContain('<');
    }
    const invalidUtf8 = Buffer.concat([Buffer.from('<WorkpointMessage>'), Buffer.from([0xff, 0xfe]), Buffer.from('</WorkpointMessage>')]);
    expect((await post(port, invalidUtf8)).body).toMatch(/UTF-8/);
    const recorded = service.store.exchanges({ limit: 100 });
    expect(recorded).toHaveLength(cases.length + 1);
    expect(recorded.every((x) => x.httpStatus === 400 && x.error)).toBe(true);
    // Recorded in the codec's own words, which the UI reads back (shared/wpi-refusals.ts); the
    // engine's refusal (no mac-addr) is not one of them.
    expect(recorded.map((x) => WPI_REFUSALS.parse(x.error!)?.key ?? null).reverse()).toEqual(['notXmlAtLine', 'doctype', 'wrongRoot', 'noNonce', 'unknownReason', null, 'empty', 'notUtf8']);
    // A phone is still served normally afterwards.
    const ok = await post(port, message({ reason: 'start-up', items: startUpItems(MAC) }));
    expect(parseDLSMessage(ok.body).action).toBe('ReadAllItems');
  });

  it('refuses wrong paths (404), wrong methods (405) and oversized bodies (413)', async () => {
    const { service, port } = await start(newDir(), { maxBodyBytes: 4096 });
    expect((await post(port, message({ reason: 'start-up' }), { path: '/' })).status).toBe(404);
    const get = await post(port, '', { method: 'GET' });
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe('POST');
    const big = await post(port, 'x'.repeat(10000));
    expect(big.status).toBe(413);
    expect(big.body).toMatch(/exceeds the limit of 4096/);
    const statuses = service.store.exchanges({ newestFirst: false }).map((x) => x.httpStatus);
    expect(statuses).toEqual([404, 405, 413]);
    // Any path under /DeploymentService/ is served.
    const other = await post(port, message({ reason: 'start-up', items: startUpItems(MAC) }), { path: '/DeploymentService/Other' });
    expect(other.status).toBe(200);
  });

  it('refuses a streamed (chunked) body as soon as it passes the limit', async () => {
    const { service, port } = await start(newDir(), { maxBodyBytes: 4096 });
    const https = await import('node:https');
    const status = await new Promise<number>((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port, path: '/DeploymentService/LoginService', method: 'POST', rejectUnauthorized: false, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write('x'.repeat(3000));
      req.write('x'.repeat(3000));
      req.end();
    });
    expect(status).toBe(413);
    expect(service.store.exchanges()[0]).toMatchObject({ httpStatus: 413 });
  });

  it('drops a client that sends its headers too slowly', async () => {
    const { port } = await start(newDir(), { headersTimeoutMs: 300, requestTimeoutMs: 600 });
    const tls = await import('node:tls');
    const reply = await new Promise<string>((resolve) => {
      const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => s.write('POST /DeploymentService/LoginService HTTP/1.1\r\nHost: x\r\n'));
      let data = '';
      s.on('data', (d) => (data += d.toString()));
      s.on('close', () => resolve(data));
      s.on('error', () => resolve(data));
    });
    expect(reply).toMatch(/^HTTP\/1.1 408/);
  });

  it('closes plain HTTP on the TLS port without disturbing the service', async () => {
    const { port } = await start();
    const net = await import('node:net');
    const answer = await new Promise<string>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => s.write('POST /DeploymentService/LoginService HTTP/1.1\r\nHost: x\r\n\r\n'));
      let data = '';
      s.on('data', (d) => (data += d.toString('latin1')));
      s.on('close', () => resolve(data));
      s.on('error', () => resolve(data));
    });
    expect(answer).not.toContain('DLSMessage');
    expect((await post(port, message({ reason: 'start-up', items: startUpItems(MAC) }))).status).toBe(200);
  });

  it('keeps its data and its TLS identity across a restart', async () => {
    const dataDir = newDir();
    const first = await start(dataDir);
    await post(first.port, message({ reason: 'start-up', items: startUpItems(MAC) }));
    const cert1 = await peerCert(first.port);
    await first.service.stop();
    running.splice(running.indexOf(first.service), 1);

    const second = await start(dataDir);
    expect(second.service.store.device(MAC)?.mac).toBe(MAC);
    expect(second.service.store.exchangeCount()).toBe(1);
    expect(await peerCert(second.port)).toBe(cert1);
    // Now a known device: unchanged configuration means no new read (manual p.34).
    const r = await post(second.port, message({ reason: 'start-up', items: startUpItems(MAC, { 'configuration-changed-flag': 'false' }) }));
    expect(parseDLSMessage(r.body).action).toBe('CleanUp');
  });

  it('tells which port is taken when it cannot bind', async () => {
    const { port } = await start();
    const clash = new Service({ dataDir: newDir(), host: '127.0.0.1', port });
    await expect(clash.start()).rejects.toThrow(new RegExp(`port ${port} on 127.0.0.1 is in use by another program`));
    await clash.stop();
  });

  it('answers 500 without acting when the exchange cannot be recorded, and stays up', async () => {
    const errors: Error[] = [];
    const service = new Service({ dataDir: newDir(), host: '127.0.0.1', port: 0, onError: (e) => errors.push(e) });
    const { port } = await service.start();
    service.store.close(); // every write now fails
    const r = await post(port, message({ reason: 'start-up', items: startUpItems(MAC) }));
    expect(r.status).toBe(500);
    expect(r.body).toMatch(/exchange not recorded/);
    expect(errors).toHaveLength(1);
    expect((await post(port, 'junk')).status).toBe(500);
    await service.stop();
  });

  it('answers raw TLS garbage by closing, nothing recorded', async () => {
    const { service, port } = await start();
    await rawTls(port, 'GARBAGE\r\n\r\n');
    expect(service.store.exchangeCount()).toBe(0);
  });
});

async function peerCert(port: number): Promise<string> {
  const tls = await import('node:tls');
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve(s.getPeerCertificate().fingerprint256);
      s.end();
    });
    s.on('error', reject);
  });
}
