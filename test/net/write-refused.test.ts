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
});
