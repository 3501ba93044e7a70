/** Busy in a call, CleanUp send-solicited and the single reconnect (manual p.46, p.56, p.72–76 §3.7.3). */
import { afterEach, describe, expect, it } from 'vitest';
import type { Item } from '../../src/main/wpi';
import { SimulatedPhone, startFleet, type PhoneOptions, type RunningFleet } from '../../src/phone';
import { contactMe, scriptedTransport, startService, type Script, type TestService } from './helpers';

const valueOf = (items: Item[], name: string) => items.find((i) => i.name === name)?.value;
const SNTP: Item = { name: 'sntp-addr', value: '192.0.2.44' };
const SEND_SOLICITED: Item = { name: 'send-solicited', value: 'true' };

/**
 * The manual's service (p.72–76): every first message gets the pending WriteItems; busy →
 * CleanUp + send-solicited (the job stays); accepted → plain CleanUp.
 */
const jobScript: Script = (m) => {
  if (m.reason !== 'reply-to') return { action: 'WriteItems', items: [SNTP] };
  return m.status === 'busy' ? { action: 'CleanUp', items: [SEND_SOLICITED] } : { action: 'CleanUp' };
};

const services: TestService[] = [];
const phones: SimulatedPhone[] = [];
let fleet: RunningFleet | undefined;
afterEach(async () => {
  await fleet?.stop();
  fleet = undefined;
  await Promise.all(phones.splice(0).map((p) => p.stop()));
  await Promise.all(services.splice(0).map((s) => s.close()));
});

async function setUp(script: Script, options: Partial<PhoneOptions> = {}) {
  const svc = await startService(script);
  services.push(svc);
  const phone = new SimulatedPhone({ server: svc.url, mac: '00:1A:E8:00:06:01', contactMePort: 0, contactGapMs: 0, ...options });
  phones.push(phone);
  return { svc, phone };
}

const reasons = (svc: TestService) => svc.requests.map((r) => (r.message.reason === 'reply-to' ? `reply-to ${r.message.action} ${r.message.status}` : r.message.reason));

describe('send-solicited (manual p.72–76)', () => {
  it('makes exactly one solicited connection after the call, even after two send-solicited CleanUps', async () => {
    const { svc, phone } = await setUp(jobScript);
    phone.startCall(3_600_000);
    const startUp = await phone.start();
    expect(startUp).toMatchObject({ ok: true, sendSolicited: true });
    expect(svc.requests[1].body).not.toContain('ItemList'); // busy reply: no ItemList (p.46)
    expect(phone.solicitedPending).toBe(true);

    // A second job during the call: contact-me → solicited → busy → CleanUp + send-solicited.
    const second = phone.next('interaction', (r) => r.trigger === 'contact-me');
    expect((await contactMe(phone.contactMeUri)).status).toBe(204);
    expect((await second)[0]).toMatchObject({ ok: true, sendSolicited: true });
    expect(phone.solicitedPending).toBe(true);

    const reconnect = phone.next('interaction', (r) => r.trigger === 'send-solicited');
    const ended = phone.next('busy-ended');
    phone.endCall();
    expect((await ended)[0]).toEqual({ mac: '00:1A:E8:00:06:01', solicited: true });
    const [result] = await reconnect;
    expect(result).toMatchObject({ ok: true, reason: 'solicited', actions: ['WriteItems', 'CleanUp'] });
    expect(result.sendSolicited).toBeUndefined();
    expect(phone.solicitedPending).toBe(false);
    expect(valueOf([...phone.config.items.values()], 'sntp-addr')).toBe('192.0.2.44');

    await phone.stop();
    expect(reasons(svc)).toEqual([
      'start-up',
      'reply-to WriteItems busy',
      'solicited',
      'reply-to WriteItems busy',
      'solicited',
      'reply-to WriteItems accepted',
    ]);
  });

  it('reconnects when the call timer runs out (fleet: the first K phones are busy)', async () => {
    const svc = await startService(jobScript);
    services.push(svc);
    fleet = await startFleet({ server: svc.url, count: 2, macBase: '00:1A:E8:00:06:10', busyCount: 1, busyForMs: 1500, contactMePort: 0 });
    const [busy, idle] = fleet.phones;
    expect(fleet.startResults.map((r) => r.sendSolicited)).toEqual([true, undefined]);
    expect(idle.busy).toBe(false);
    const [result] = await busy.next('interaction', (r) => r.trigger === 'send-solicited');
    expect(result).toMatchObject({ ok: true, actions: ['WriteItems', 'CleanUp'] });
    const stats = await fleet.stop();
    fleet = undefined;
    expect(stats).toMatchObject({ phones: 2, interactions: 3, ok: 3, failed: 0, busyEnded: 1 });
    const byMac = (mac: string) => svc.requests.filter((r) => r.message.reason !== 'reply-to' && valueOf(r.message.items, 'mac-addr') === mac).map((r) => r.message.reason);
    expect(byMac('00:1A:E8:00:06:10')).toEqual(['start-up', 'solicited']);
    expect(byMac('00:1A:E8:00:06:11')).toEqual(['start-up']);
  });

  it('reconnects at once when the service sends send-solicited to an idle phone (p.75 step 21)', async () => {
    let jobs = 2;
    const { svc, phone } = await setUp((m) => {
      if (m.reason !== 'reply-to') return { action: 'WriteItems', items: [SNTP] };
      return --jobs > 0 ? { action: 'CleanUp', items: [SEND_SOLICITED] } : { action: 'CleanUp' };
    });
    const reconnect = phone.next('interaction', (r) => r.trigger === 'send-solicited');
    await phone.start();
    expect((await reconnect)[0].ok).toBe(true);
    await phone.stop();
    expect(svc.requests.map((r) => r.message.reason)).toEqual(['start-up', 'reply-to', 'solicited', 'reply-to']);
  });

  it('firmware without send-solicited ignores the item: no reconnect after the call', async () => {
    const { svc, phone } = await setUp(jobScript, { sendSolicitedSupported: false });
    phone.startCall(3_600_000);
    expect(await phone.start()).toMatchObject({ ok: true, sendSolicited: true });
    expect(phone.solicitedPending).toBe(false);
    const ended = phone.next('busy-ended');
    phone.endCall();
    expect((await ended)[0].solicited).toBe(false);
    expect(phone.inInteraction).toBe(false);
    await phone.stop();
    expect(reasons(svc)).toEqual(['start-up', 'reply-to WriteItems busy']);
  });

  it('keeps the indication when the reconnect attempt fails (p.72)', async () => {
    const phone = new SimulatedPhone({ server: 'https://127.0.0.1:1', mac: '00:1A:E8:00:06:20' });
    phone.solicitedPending = true;
    const result = await phone.runInteraction('solicited');
    expect(result.ok).toBe(false);
    expect(phone.solicitedPending).toBe(true);
  });

  it('a call-back during the call does not use up the indication; an idle solicited connection does', async () => {
    let now = 0;
    const transport = scriptedTransport(() => ({ action: 'CleanUp' }));
    const phone = new SimulatedPhone({ server: 'https://127.0.0.1:1', mac: '00:1A:E8:00:06:21', transport, now: () => now, busyUntil: 100 });
    phone.solicitedPending = true;
    await phone.runInteraction('solicited');
    expect(phone.solicitedPending).toBe(true);
    now = 200;
    await phone.runInteraction('solicited');
    expect(phone.solicitedPending).toBe(false);
  });

  it('is not persistent: a Restart clears it (p.72)', async () => {
    let restarted = false;
    const { svc, phone } = await setUp(
      (m) => {
        if (m.reason === 'solicited' && !restarted) {
          restarted = true;
          return { action: 'Restart' };
        }
        return jobScript(m, 0);
      },
      { rebootMs: 10 },
    );
    phone.startCall(3_600_000);
    await phone.start();
    expect(phone.solicitedPending).toBe(true);
    const afterReboot = phone.next('interaction', (r) => r.trigger === 'reboot');
    await contactMe(phone.contactMeUri);
    const [startUp] = await afterReboot;
    expect(startUp).toMatchObject({ ok: true, reason: 'start-up' });
    // The reboot ended the call, and the new start-up's WriteItems was accepted.
    expect(phone.busy).toBe(false);
    expect(phone.solicitedPending).toBe(false);
    await phone.stop();
    expect(reasons(svc)).toEqual(['start-up', 'reply-to WriteItems busy', 'solicited', 'start-up', 'reply-to WriteItems accepted']);
  });
});

describe('SoftwareDeployment during a call (manual p.56, p.177)', () => {
  const firmware = (priority: string): Item[] => [
    { name: 'file-https-base-url', value: 'https://127.0.0.1/fw/os60_sip_v3r5.img' },
    { name: 'file-type', value: 'APP' },
    { name: 'file-sw-type', value: 'Siemens SIP' },
    { name: 'file-sw-version', value: '3.5.14.0' },
    { name: 'file-priority', value: priority },
  ];

  it('rejects file-priority=normal with reply-to status="busy" and no ItemList', async () => {
    const transport = scriptedTransport((m) => (m.reason === 'solicited' ? { action: 'SoftwareDeployment', items: firmware('normal') } : { action: 'CleanUp', items: [SEND_SOLICITED] }));
    const phone = new SimulatedPhone({ server: 'https://127.0.0.1:1', mac: '00:1A:E8:00:06:30', transport, busyUntil: Date.now() + 3_600_000 });
    const result = await phone.runInteraction('solicited');
    expect(result).toMatchObject({ ok: true, end: 'CleanUp', sendSolicited: true });
    expect(transport.messages[1]).toMatchObject({ reason: 'reply-to', action: 'SoftwareDeployment', status: 'busy', items: [] });
    expect(transport.sent[1]).not.toContain('ItemList');
    expect(phone.reboots).toBe(0);
    expect(phone.config.identity.softwareVersion).toBe('V3 R5.12.0');
  });

  it('deploys file-priority=immediate anyway: no reply, reboot', async () => {
    const transport = scriptedTransport(() => ({ action: 'SoftwareDeployment', items: firmware('immediate') }));
    const phone = new SimulatedPhone({ server: 'https://127.0.0.1:1', mac: '00:1A:E8:00:06:31', transport, busyUntil: Date.now() + 3_600_000 });
    const result = await phone.runInteraction('solicited');
    expect(result).toMatchObject({ ok: true, end: 'SoftwareDeployment', softwareVersion: 'V3 R5.14.0', exchanges: 1 });
    expect(phone.reboots).toBe(1);
    expect(phone.busy).toBe(false);
  });
});
