import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Service } from '../../src/main/app/service';
import { DcmpListener } from '../../src/main/net/dcmp-listener';
import { tempDirs } from '../support/tmp';
import { message, startUpItems } from '../support/messages';
import { post } from '../support/https-client';

const newDir = tempDirs();
const running: Service[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop();
});

function get(port: number, path: string, method = 'GET', localAddress?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, agent: false, ...(localAddress ? { localAddress } : {}) }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('DCMP polling (plain HTTP, manual p.15, p.24)', () => {
  it('answers 202 when jobs wait, 200 when not, and refuses what is not a poll; every poll recorded', async () => {
    const service = new Service({ dataDir: newDir(), host: '127.0.0.1', port: 0, dcmpPort: 0, autoContact: false });
    running.push(service);
    const { port, dcmpPort } = await service.start();
    expect(dcmpPort).toBeGreaterThan(0);
    const mac = '00:1A:E8:00:00:07';
    await post(port, message({ reason: 'start-up', items: startUpItems(mac, { 'configuration-changed-flag': 'false' }) }));
    // A device seen for the first time is read: finish that so it is idle.
    const poll = (id: string) => get(dcmpPort!, `/dcmp/contact-me?device-id=${id}`);

    expect(await poll(mac)).toEqual({ status: 200, body: 'nothing pending\n' });
    service.store.jobs.add({ mac, kind: 'ReadAllItems', items: [] }, Date.now());
    expect(await poll('00:1a:e8:00:00:07')).toEqual({ status: 202, body: '1 job waiting: connect with solicited\n' });
    expect((await poll('not-a-mac')).status).toBe(400);
    expect((await get(dcmpPort!, '/dcmp/contact-me')).body).toMatch(/device-id is missing/);
    expect(await poll('00:00:00:00:00:99')).toEqual({ status: 404, body: 'unknown device 00:00:00:00:00:99: a phone registers with start-up on the WPI port first\n' });
    expect((await get(dcmpPort!, '/other')).status).toBe(404);
    expect((await get(dcmpPort!, '/dcmp/contact-me?device-id=x', 'POST')).status).toBe(405);

    // Each answered; recorded once per address and answer (the second 400 and 404 held back).
    const rows = service.store.exchanges({ newestFirst: false }).filter((x) => x.kind === 'dcmp');
    expect(rows.map((r) => r.httpStatus)).toEqual([200, 202, 400, 404, 405]);
    expect(rows[1]).toMatchObject({ listener: 'dcmp', mac, method: 'GET' });
    expect(rows[2]!.error).toMatch(/not a MAC address/);
  });

  it('survives what is no URL, never lets a poll move the phone, and bounds what a flood records and holds', async () => {
    const service = new Service({ dataDir: newDir(), host: '127.0.0.1', port: 0, dcmpPort: 0, autoContact: false });
    running.push(service);
    const { port, dcmpPort } = await service.start();
    const mac = '00:1A:E8:00:00:08';
    await post(port, message({ reason: 'start-up', items: startUpItems(mac, { 'configuration-changed-flag': 'false' }) }));
    const before = service.store.device(mac)!;
    // `GET //` and `GET /\` are no URL to Node: they ended the whole service (all its ports).
    for (const target of ['//', '/\\', '//dcmp/contact-me']) {
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = net.connect({ host: '127.0.0.1', port: dcmpPort! }, () => socket.write(`GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`));
        let got = '';
        socket.on('data', (d) => (got += d.toString('latin1')));
        socket.on('close', () => resolve(got));
        socket.on('error', reject);
      });
      expect(answer, target).toMatch(/^HTTP\/1\.1 (400|404) /);
    }
    expect((await post(port, message({ reason: 'start-up', items: startUpItems(mac, { 'configuration-changed-flag': 'false' }) }))).status).toBe(200);
    // A poll from another host naming the phone: answered, but the phone's address and last contact stay.
    const other = await new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: dcmpPort, path: `/dcmp/contact-me?device-id=${mac}`, localAddress: '127.0.0.99', agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });
    expect(other).toBe(200);
    expect(service.store.device(mac)).toMatchObject({ lastAddress: before.lastAddress });
    expect(service.store.exchanges({ limit: 1 })[0]).toMatchObject({ kind: 'dcmp', mac, peerAddress: '127.0.0.99' });
    // A flood of refusals from one address: every one answered, the first recorded, the count said with the next.
    const rowsBefore = service.store.exchangeCount();
    for (let i = 0; i < 200; i++) expect((await get(dcmpPort!, `/junk/${i}`, 'GET', '127.0.0.97')).status).toBe(404);
    expect(service.store.exchangeCount() - rowsBefore).toBe(1);
    expect((await get(dcmpPort!, '/dcmp/contact-me', 'DELETE', '127.0.0.97')).status).toBe(405);
    expect(service.store.exchanges({ limit: 1 })[0]).toMatchObject({ httpStatus: 405, peerAddress: '127.0.0.97', warning: '199 refused requests before this one not recorded (rate limit)' });
  });

  it('caps the connections one address holds, like the WPI listeners', async () => {
    const caps = { maxConnections: 8, maxConnectionsPerAddress: 3, maxPendingPerAddress: 3 };
    const listener = new DcmpListener('127.0.0.1', 0, () => ({ status: 200, text: 'nothing pending' }), () => {}, caps);
    const dcmpPort = await listener.listen();
    try {
      const held = await Promise.all([1, 2, 3].map(() => new Promise<net.Socket>((resolve) => { const s = net.connect({ host: '127.0.0.1', port: dcmpPort }, () => resolve(s)); })));
      await expect.poll(() => listener.connections.of('127.0.0.1').open).toBe(3);
      // A fourth from the same address is closed at once; another address is served.
      const fourth = await new Promise<string>((resolve) => {
        const s = net.connect({ host: '127.0.0.1', port: dcmpPort }, () => s.write('GET /dcmp/contact-me?device-id=00:1A:E8:00:00:01 HTTP/1.1\r\nHost: x\r\n\r\n'));
        let got = '';
        s.on('data', (d) => (got += d.toString()));
        s.on('close', () => resolve(got));
        s.on('error', () => resolve(got));
      });
      expect(fourth).toBe('');
      const elsewhere = await new Promise<number>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: dcmpPort, path: '/dcmp/contact-me?device-id=00:1A:E8:00:00:01', localAddress: '127.0.0.98', agent: false }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
        req.on('error', reject);
        req.end();
      });
      expect(elsewhere).toBe(200);
      for (const s of held) s.destroy();
    } finally {
      await listener.close();
    }
  });

  it('is off unless a port is given', async () => {
    const service = new Service({ dataDir: newDir(), host: '127.0.0.1', port: 0 });
    running.push(service);
    expect((await service.start()).dcmpPort).toBeUndefined();
  });
});
