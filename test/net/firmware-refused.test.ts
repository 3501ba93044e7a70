/**
 * A firmware deployment the phone refuses, over real sockets with the simulated phone: normal
 * priority during a call is rejected with reply-to status="busy" (manual p.56), an image it cannot
 * get with status="failed" (p.29). The service takes the reply in the same interaction (it used to
 * close the interaction on sending and refuse the reply with 403, the job left "sent" for an hour).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Service } from '../../src/main/app/service';
import { SimulatedPhone } from '../../src/phone';
import { post } from '../support/https-client';
import { message } from '../support/messages';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();
const services: Service[] = [];
afterEach(async () => {
  for (const s of services.splice(0)) await s.stop();
});

const MAC = '00:1A:E8:00:08:01';
const firmware = (priority: 'normal' | 'immediate') => [
  { name: 'file-https-base-url', value: 'https://files.example/fw-3.6.bin' }, { name: 'file-type', value: 'APP' }, { name: 'file-sw-type', value: 'Siemens SIP' },
  { name: 'file-sw-version', value: '3.6.0.0' }, { name: 'file-priority', value: priority },
];

describe('SoftwareDeployment refused by the phone', () => {
  it('busy in a call: the job waits for the callback; a download that fails: the job fails; neither reply is refused', async () => {
    const service = new Service({ dataDir: newDir(), host: '127.0.0.1', port: 0, autoContact: false });
    services.push(service);
    const { port } = await service.start();
    let now = 1_000;
    const phone = new SimulatedPhone({ server: `https://127.0.0.1:${port}`, mac: MAC, now: () => now, failFiles: ['fw-3.6.bin'] });
    expect((await phone.runInteraction()).ok).toBe(true);
    const jobs = service.store.jobs;
    // In a call until t=5000: the normal-priority image is rejected.
    phone.busyUntil = 5_000;
    const busy = jobs.add({ mac: MAC, kind: 'SoftwareDeployment', items: firmware('normal'), expect: { 'software-version': 'V3 R6.0.0' } }, Date.now());
    const first = await phone.runInteraction('solicited');
    expect(first.ok).toBe(true);
    expect(first.end).toBe('CleanUp');
    expect(jobs.get(busy.id)).toMatchObject({ state: 'waiting-busy', attempts: 1, unanswered: 0 });
    // Out of the call it calls back; the download fails.
    now = 6_000;
    const second = await phone.runInteraction('solicited');
    expect(second.end).toBe('CleanUp');
    expect(jobs.get(busy.id)).toMatchObject({ state: 'failed', attempts: 2, error: 'the phone refused SoftwareDeployment (status failed)' });
    // The service answered every message of the phone: no refusal, nothing counted as an error.
    const refused = service.store.listExchanges({ device: MAC, errorsOnly: true }, { limit: 50 }).exchanges;
    expect(refused.map((x) => `${x.reason} ${x.replyAction ?? ''}/${x.replyStatus ?? ''} ${x.httpStatus}`)).toEqual([`reply-to SoftwareDeployment/failed 200`]);
    expect(service.store.listExchanges({ device: MAC, status: 'busy' }, { limit: 50 }).exchanges.map((x) => x.httpStatus)).toEqual([200]);
  });

  it('while the interaction waits for the refusal, another host cannot refuse for the phone: no cookie, another address → 403, the job still waits for the start-up', async () => {
    const service = new Service({ dataDir: newDir(), host: '127.0.0.1', port: 0, autoContact: false });
    services.push(service);
    const { port } = await service.start();
    const phone = new SimulatedPhone({ server: `https://127.0.0.1:${port}`, mac: MAC, ipAddress: '127.0.8.1', bindIpAddress: true });
    expect((await phone.runInteraction()).ok).toBe(true);
    const job = service.store.jobs.add({ mac: MAC, kind: 'SoftwareDeployment', items: firmware('immediate'), expect: { 'software-version': 'V3 R6.0.0' } }, Date.now());
    // Taken: the phone reboots without a word; the interaction stays open.
    expect((await phone.runInteraction('solicited')).end).toBe('SoftwareDeployment');
    expect(service.store.device(MAC)?.state).toBe('in-interaction');
    for (const status of ['failed', 'busy']) {
      const forged = await post(port, message({ reason: 'reply-to', action: 'SoftwareDeployment', status: status as 'failed' | 'busy' }), { localAddress: '127.0.0.2' });
      expect(forged.status, status).toBe(403);
    }
    expect(service.store.jobs.get(job.id)).toMatchObject({ state: 'sent', attempts: 1 });
    // The same reply again later from the phone's own address after its start-up: the interaction is over.
    expect((await phone.runInteraction()).ok).toBe(true);
    expect(service.store.jobs.get(job.id)).toMatchObject({ state: 'done' });
    const late = await post(port, message({ reason: 'reply-to', action: 'SoftwareDeployment', status: 'failed' }), { localAddress: '127.0.8.1' });
    expect(late.status).not.toBe(200);
    expect(service.store.jobs.get(job.id)).toMatchObject({ state: 'done' });
  });
});
