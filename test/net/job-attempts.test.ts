/**
 * A job's five attempts over real sockets: a phone that takes a WriteItems and starts over without
 * answering it (it rebooted, or a confused client on its address) gets it at most five times; the
 * sixth start-over finds the job failed, and the phone's next interactions go on without it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Service } from '../../src/main/app/service';
import { noAnswerNote } from '../../src/shared/job-notes';
import { post } from '../support/https-client';
import { message, startUpItems } from '../support/messages';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();
const services: Service[] = [];
afterEach(async () => {
  for (const s of services.splice(0)) await s.stop();
});

const MAC = '00:1A:E8:00:07:01';

describe('attempts of a job whose phone starts over', () => {
  it('sent five times at most, then failed with the no-answer note; the phone is served on', async () => {
    const service = new Service({ dataDir: newDir(), host: '127.0.0.1', port: 0, autoContact: false });
    services.push(service);
    const { port } = await service.start();
    const solicited = async () => {
      const r = await post(port, message({ reason: 'solicited', items: startUpItems(MAC, { 'configuration-changed-flag': 'false' }) }));
      expect(r.status).toBe(200);
      return /<Action>([^<]+)<\/Action>/.exec(r.body)?.[1];
    };
    // Known to the service: its first contact was read completely.
    expect(await solicited()).toBe('ReadAllItems');
    const job = service.store.jobs.add({ mac: MAC, kind: 'WriteItems', items: [{ name: 'sntp-addr', value: 'ntp.attempts.example' }] }, Date.now());
    for (let attempt = 1; attempt <= 5; attempt++) {
      expect(await solicited(), `attempt ${attempt}`).toBe('WriteItems');
      expect(service.store.jobs.get(job.id)).toMatchObject({ state: 'sent', attempts: attempt });
    }
    expect(await solicited()).toBe('CleanUp');
    expect(service.store.jobs.get(job.id)).toMatchObject({ state: 'failed', attempts: 5, error: noAnswerNote(5) });
    // A job queued after it still goes out, and the failed one stays failed.
    const next = service.store.jobs.add({ mac: MAC, kind: 'WriteItems', items: [{ name: 'sntp-addr', value: 'ntp2.attempts.example' }] }, Date.now());
    expect(await solicited()).toBe('WriteItems');
    expect(service.store.jobs.get(next.id)).toMatchObject({ state: 'sent', attempts: 1 });
    expect(service.store.jobs.get(job.id)).toMatchObject({ state: 'failed', attempts: 5 });
  });
});
