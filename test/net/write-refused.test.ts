/**
 * A write the phone refuses item by item, over real sockets with the simulated phone: its reply-to
 * says status="accepted" and marks each item it did not take (manual p.82–83). The job fails; the
 * exchange is an error ("errors only", `traffic --errors`), though the reply's status is accepted.
 * A write it takes whole, and a start-up marking items it cannot provide, are not.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Service } from '../../src/main/app/service';
import { phoneMain, SimulatedPhone } from '../../src/phone';
import { runCli } from '../support/cli';
import { post, type RawResponse } from '../support/https-client';
import { message, startUpItems } from '../support/messages';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();
const services: Service[] = [];
afterEach(async () => {
  for (const s of services.splice(0)) await s.stop();
});

const MAC = '00:1A:E8:00:09:01';

describe('a write the phone refuses item by item', () => {
  it('fails the job, and its reply is an error in the store and the CLI; a write taken whole is not', async () => {
    const dataDir = newDir();
    const service = new Service({ dataDir, host: '127.0.0.1', port: 0, autoContact: false });
    services.push(service);
    const { port } = await service.start();
    const phone = new SimulatedPhone({ server: `https://127.0.0.1:${port}`, mac: MAC, writeStatus: { 'sntp-addr': 'invalid data' } });
    expect((await phone.runInteraction()).ok).toBe(true);
    const jobs = service.store.jobs;
    const refused = jobs.add({ mac: MAC, kind: 'WriteItems', items: [{ name: 'sntp-addr', value: 'not a host' }, { name: 'no-such-item', value: '1' }, { name: 'e164', value: '4989700' }] }, Date.now());
    expect((await phone.runInteraction('solicited')).end).toBe('CleanUp');
    expect(jobs.get(refused.id)).toMatchObject({ state: 'failed', error: 'the phone refused 2 items: sntp-addr: invalid data, no-such-item: unknown item' });
    const taken = jobs.add({ mac: MAC, kind: 'WriteItems', items: [{ name: 'e164', value: '4989701' }] }, Date.now());
    expect((await phone.runInteraction('solicited')).end).toBe('CleanUp');
    expect(jobs.get(taken.id)).toMatchObject({ state: 'done' });

    const writes = service.store.listExchanges({ device: MAC, reason: 'reply-to' }, { limit: 50 }).exchanges.filter((x) => x.replyAction === 'WriteItems');
    expect(writes.map((x) => [x.replyStatus, x.refusedItems])).toEqual([['accepted', 2], ['accepted', 0]]);
    const errors = service.store.listExchanges({ device: MAC, errorsOnly: true }, { limit: 50 });
    expect(errors.exchanges.map((x) => x.id)).toEqual([writes[0]!.id]);
    expect(errors.matched).toBe(1);
    // The start-up marked items it cannot provide (gigabit-ethernet, status failed): not an error.
    const startUp = service.store.listExchanges({ device: MAC, reason: 'start-up' }, { limit: 5 }).exchanges[0]!;
    expect(startUp.refusedItems).toBe(0);

    // The command line, on the same store while the service runs.
    const cli = await runCli(['traffic', '--data-dir', dataDir, '--errors']);
    expect(cli.code).toBe(0);
    const lines = cli.stdout.trim().split('\n').filter((l) => /^\s*\d+ /.test(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('reply-to WriteItems/accepted -> CleanUp');
    expect(lines[0]).toContain('! the phone refused 2 items of the write');
    const json = await runCli(['traffic', '--data-dir', dataDir, '--errors', '--json']);
    expect(json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { refusedItems?: number }).map((x) => x.refusedItems)).toEqual([2]);
  });

  it('`localdls phone --refuse NAME=STATUS` makes the simulated phone refuse that item: the job fails with the status, the reply is an error', async () => {
    const service = new Service({ dataDir: newDir(), host: '127.0.0.1', port: 0, autoContact: false });
    services.push(service);
    const { port } = await service.start();
    const phone = (...args: string[]) => phoneMain(['--server', `https://127.0.0.1:${port}`, '--mac-base', MAC, ...args], () => undefined, () => undefined);
    expect(await phone()).toBe(0);
    const job = service.store.jobs.add({ mac: MAC, kind: 'WriteItems', items: [{ name: 'sntp-addr', value: 'ntp.example' }, { name: 'e164', value: '4989700' }] }, Date.now());
    expect(await phone('--reason', 'solicited', '--refuse', 'sntp-addr=invalid data', '--refuse', 'e164 = not supported')).toBe(0);
    expect(service.store.jobs.get(job.id)).toMatchObject({ state: 'failed', error: 'the phone refused 2 items: sntp-addr: invalid data, e164: not supported' });
    expect(service.store.listExchanges({ device: MAC, errorsOnly: true }, { limit: 10 }).exchanges.map((x) => [x.replyAction, x.replyStatus, x.refusedItems])).toEqual([['WriteItems', 'accepted', 2]]);
  });

  it('counts what the service took as refused, not what the text says: not a busy reply, nor one the service refused; a reply without its action, and one in fragments (on its last)', async () => {
    const service = new Service({ dataDir: newDir(), host: '127.0.0.1', port: 0, autoContact: false });
    services.push(service);
    const { port } = await service.start();
    const mac = '00:1A:E8:00:09:02';
    const cookie = (r: RawResponse) => String(r.headers['set-cookie'] ?? '').split(';')[0]!;
    const send = (m: Parameters<typeof message>[0], withCookie?: string, localAddress?: string) =>
      post(port, message(m), { ...(withCookie ? { headers: { Cookie: withCookie } } : {}), ...(localAddress ? { localAddress } : {}) });
    const hello = await send({ reason: 'start-up', items: startUpItems(mac) });
    expect((await send({ reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', items: startUpItems(mac) }, cookie(hello))).body).toContain('CleanUp');
    const solicited = async () => {
      const r = await send({ reason: 'solicited', items: startUpItems(mac, { 'configuration-changed-flag': 'false' }) });
      expect(r.body).toContain('<Action>WriteItems</Action>');
      return cookie(r);
    };
    const refused = [{ name: 'sntp-addr', value: '', status: 'invalid data' }, { name: 'e164', value: '', status: 'read only' }];
    const last = () => service.store.listExchanges({ device: mac }, { limit: 1 }).exchanges[0]!;
    const job = service.store.jobs.add({ mac, kind: 'WriteItems', items: [{ name: 'sntp-addr', value: 'ntp.example' }, { name: 'e164', value: '4989700' }] }, Date.now());

    // Busy, with item statuses: nothing was refused, the job waits for the call to end.
    expect((await send({ reason: 'reply-to', action: 'WriteItems', status: 'busy', items: refused }, await solicited())).status).toBe(200);
    expect([last().replyStatus, last().refusedItems]).toEqual(['busy', 0]);
    expect(service.store.jobs.get(job.id)!.state).toBe('waiting-busy');
    // Another host, without the cookie: refused by the service (403), and no item counted as the phone's.
    const forged = await send({ reason: 'reply-to', action: 'WriteItems', status: 'accepted', items: refused }, undefined, '127.0.0.2');
    expect(forged.status).toBe(403);
    const stored = service.store.listExchanges({ device: '127.0.0.2' }, { limit: 1 }).exchanges[0]!;
    expect([stored.httpStatus, stored.mac, stored.refusedItems]).toEqual([403, null, 0]);
    // The phone's reply without its action attribute: the service takes it as the write's.
    const withoutAction = await solicited();
    const replied = message({ reason: 'reply-to', status: 'accepted', items: refused });
    expect((await post(port, replied, { headers: { Cookie: withoutAction } })).status).toBe(200);
    expect([last().replyAction, last().refusedItems]).toEqual([null, 2]);
    expect(service.store.jobs.get(job.id)).toMatchObject({ state: 'failed', error: 'the phone refused 2 items: sntp-addr: invalid data, e164: read only' });
    // The same reply again, with the same cookie, after the CleanUp: no interaction takes it (403),
    // nothing more is counted as the phone's, and the job stays as it was.
    const failedJob = service.store.jobs.get(job.id);
    const again = await post(port, replied, { headers: { Cookie: withoutAction } });
    expect(again.status).toBe(403);
    const repeated = service.store.listExchanges({}, { limit: 1 }).exchanges[0]!;
    expect([repeated.httpStatus, repeated.mac, repeated.refusedItems]).toEqual([403, null, 0]);
    expect(service.store.jobs.get(job.id)).toEqual(failedJob);
    // In two fragments: counted once, on the last, where the service decides.
    const second = service.store.jobs.add({ mac, kind: 'WriteItems', items: [{ name: 'sntp-addr', value: 'ntp.example' }, { name: 'e164', value: '4989700' }] }, Date.now());
    const c = await solicited();
    expect((await send({ reason: 'reply-to', action: 'WriteItems', status: 'accepted', fragment: 'next', items: refused.slice(0, 1) }, c)).body).toContain('GetNextFragment');
    expect((await send({ reason: 'reply-to', action: 'WriteItems', status: 'accepted', fragment: 'final', items: refused.slice(1) }, c)).body).toContain('CleanUp');
    const [next, final] = service.store.listExchanges({ device: mac }, { limit: 2 }).exchanges;
    expect([next!.fragment, next!.refusedItems, final!.fragment, final!.refusedItems]).toEqual(['next', 0, 'final', 2]);
    expect(service.store.jobs.get(second.id)).toMatchObject({ state: 'failed' });
    expect(service.store.listExchanges({ device: mac, errorsOnly: true }, { limit: 10 }).exchanges.map((x) => [x.replyAction, x.fragment, x.refusedItems])).toEqual([[null, null, 2], ['WriteItems', 'final', 2]]);
  });
});
