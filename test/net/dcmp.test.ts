import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { Service } from '../../src/main/app/service';
import { tempDirs } from '../support/tmp';
import { message, startUpItems } from '../support/messages';
import { post } from '../support/https-client';

const newDir = tempDirs();
const running: Service[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop();
});

function get(port: number, path: string, method = 'GET'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, agent: false }, (res) => {
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

    const rows = service.store.exchanges({ newestFirst: false }).filter((x) => x.kind === 'dcmp');
    expect(rows.map((r) => r.httpStatus)).toEqual([200, 202, 400, 400, 404, 404, 405]);
    expect(rows[1]).toMatchObject({ listener: 'dcmp', mac, method: 'GET' });
    expect(rows[2]!.error).toMatch(/not a MAC address/);
  });

  it('is off unless a port is given', async () => {
    const service = new Service({ dataDir: newDir(), host: '127.0.0.1', port: 0 });
    running.push(service);
    expect((await service.start()).dcmpPort).toBeUndefined();
  });
});
