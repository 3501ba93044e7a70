/** DCMP polling (manual p.15 §1.4.4.3, p.24; wiki DCMP) against a scripted HTTP endpoint on 127.0.0.1. */
import { afterEach, describe, expect, it } from 'vitest';
import { dcmpPollUrl, SimulatedPhone } from '../../src/phone';
import { startDcmp, startService, type DcmpServer, type TestService } from './helpers';

let service: TestService | undefined;
let dcmp: DcmpServer | undefined;
let phone: SimulatedPhone | undefined;
afterEach(async () => {
  await phone?.stop();
  await service?.close();
  await dcmp?.close();
  phone = service = dcmp = undefined;
});

describe('DCMP polling', () => {
  it('202 Accepted opens a solicited interaction; 200 OK does nothing', async () => {
    service = await startService(() => ({ action: 'CleanUp' }));
    // poll 0 → 202, then 200 forever
    dcmp = await startDcmp((i) => (i === 0 ? 202 : 200));
    phone = new SimulatedPhone({ server: service.url, mac: '00:1a:e8:00:09:01', dcmpUrl: dcmp.url, pollIntervalMs: 20, contactMePort: 0, ipAddress: '127.0.9.1', bindIpAddress: true });
    const solicited = phone.next('interaction', (r) => r.trigger === 'dcmp');
    const quiet = phone.next('poll', (p) => p.outcome === 'nothing');
    await phone.start();

    expect((await solicited)[0]).toMatchObject({ ok: true, reason: 'solicited' });
    const [nothing] = await quiet;
    expect(nothing).toMatchObject({ status: 200, outcome: 'nothing' });
    expect(nothing.solicited).toBeUndefined();
    await phone.stop();

    expect(dcmp.requests[0]).toEqual({ method: 'GET', url: '/dcmp/contact-me?device-id=00:1A:E8:00:09:01', remoteAddress: '127.0.9.1' });
    expect(phone.polls[0]).toMatchObject({ status: 202, outcome: 'pending', solicited: true });
    expect(phone.polls.filter((p) => p.outcome === 'pending')).toHaveLength(1);
    expect(service.requests.map((r) => r.message.reason)).toEqual(['start-up', 'solicited']);
  });

  it('reports an unexpected answer or an unreachable DCMP as an error and keeps polling', async () => {
    service = await startService(() => ({ action: 'CleanUp' }));
    dcmp = await startDcmp(() => 404);
    phone = new SimulatedPhone({ server: service.url, mac: '00:1A:E8:00:09:02', dcmpUrl: dcmp.url, pollIntervalMs: 20, contactMe: false });
    const second = phone.next('poll', () => phone!.polls.length === 2);
    await phone.start();
    await second;
    expect(phone.polls.map((p) => [p.outcome, p.error])).toEqual([
      ['error', 'HTTP 404'],
      ['error', 'HTTP 404'],
    ]);
    expect(service.requests).toHaveLength(1);
  });

  it('appends contact-me?device-id=MAC to the DCMP URL, which must be http://', async () => {
    expect(dcmpPollUrl('http://127.0.0.1:8080/dcmp/', '0A:E8:F3:00:42:91')).toBe('http://127.0.0.1:8080/dcmp/contact-me?device-id=0A:E8:F3:00:42:91');
    expect(dcmpPollUrl('http://127.0.0.1:8080/dcmp', '0A:E8:F3:00:42:91')).toBe('http://127.0.0.1:8080/dcmp/contact-me?device-id=0A:E8:F3:00:42:91');
    const https = new SimulatedPhone({ server: 'https://127.0.0.1:1', mac: '00:1A:E8:00:09:03', dcmpUrl: 'https://127.0.0.1/dcmp/', contactMe: false });
    await expect(https.start()).rejects.toThrow(/DCMP URL must be http:\/\//);
    expect(https.started).toBe(false);
  });
});
