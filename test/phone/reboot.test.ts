/** A started phone reboots after Restart, factory reset and firmware, then sends start-up (manual p.50–51, p.56). */
import { afterEach, describe, expect, it } from 'vitest';
import type { Item } from '../../src/main/wpi';
import { SimulatedPhone, type PhoneOptions } from '../../src/phone';
import { contactMe, startService, type Script, type TestService } from './helpers';

const valueOf = (items: Item[], name: string) => items.find((i) => i.name === name)?.value;

const services: TestService[] = [];
const phones: SimulatedPhone[] = [];
afterEach(async () => {
  await Promise.all(phones.splice(0).map((p) => p.stop()));
  await Promise.all(services.splice(0).map((s) => s.close()));
});

/** The first solicited message gets `action`; everything else CleanUp. */
async function setUp(action: { action: 'Restart' | 'SoftwareDeployment'; items?: Item[] }, options: Partial<PhoneOptions> = {}) {
  let sent = false;
  const script: Script = (m) => {
    if (m.reason === 'solicited' && !sent) {
      sent = true;
      return action;
    }
    return { action: 'CleanUp' };
  };
  const svc = await startService(script);
  services.push(svc);
  const phone = new SimulatedPhone({ server: svc.url, mac: '00:1A:E8:00:08:01', contactMePort: 0, contactGapMs: 0, rebootMs: 20, ...options });
  phones.push(phone);
  await phone.start();
  return { svc, phone };
}

describe('reboots of a started phone', () => {
  it('Restart: no reply, then start-up after the reboot delay', async () => {
    const { svc, phone } = await setUp({ action: 'Restart' });
    const rebooting = phone.next('rebooting');
    const startUp = phone.next('interaction', (r) => r.trigger === 'reboot');
    await contactMe(phone.contactMeUri);
    expect((await rebooting)[0]).toEqual({ mac: '00:1A:E8:00:08:01', cause: 'Restart', delayMs: 20 });
    expect((await startUp)[0]).toMatchObject({ ok: true, reason: 'start-up', actions: ['CleanUp'] });
    expect(svc.requests.map((r) => r.message.reason)).toEqual(['start-up', 'solicited', 'start-up']);
    expect(phone.reboots).toBe(1);
    // The listener is back: contact-me works again.
    const again = phone.next('interaction', (r) => r.trigger === 'contact-me');
    expect((await contactMe(phone.contactMeUri)).status).toBe(204);
    expect((await again)[0].ok).toBe(true);
  });

  it('drops contact-me while rebooting (its web server is down)', async () => {
    const { svc, phone } = await setUp({ action: 'Restart' }, { rebootMs: 3_600_000 });
    const rebooting = phone.next('rebooting');
    await contactMe(phone.contactMeUri);
    await rebooting;
    expect(phone.rebooting).toBe(true);
    await expect(contactMe(phone.contactMeUri)).rejects.toThrow(/ECONNRESET|socket hang up/);
    expect(phone.contactMes.at(-1)).toMatchObject({ status: 0, outcome: 'refused', reason: 'phone is rebooting' });
    await phone.stop();
    expect(phone.rebooting).toBe(false);
    expect(svc.requests.map((r) => r.message.reason)).toEqual(['start-up', 'solicited']);
  });

  it('factory reset: initial configuration, configuration-changed-flag true, contact-me-uri still right', async () => {
    const { svc, phone } = await setUp(
      { action: 'Restart', items: [{ name: 'restart-password', value: '124816' }, { name: 'restart-type', value: 'FactoryReset' }] },
      { configurationChanged: false },
    );
    phone.changeLocally([{ name: 'sntp-addr', value: '192.0.2.77' }]);
    const uri = phone.contactMeUri;
    const rebooting = phone.next('rebooting');
    const startUp = phone.next('interaction', (r) => r.trigger === 'reboot');
    await contactMe(uri);
    expect((await rebooting)[0].cause).toBe('FactoryReset');
    await startUp;
    expect(phone.factoryResets).toBe(1);
    const items = [...phone.config.items.values()];
    expect(valueOf(items, 'sntp-addr')).not.toBe('192.0.2.77');
    const last = svc.requests.at(-1)!.message;
    expect(last.reason).toBe('start-up');
    expect(valueOf(last.items, 'configuration-changed-flag')).toBe('true');
    expect(valueOf(last.items, 'contact-me-uri')).toBe(uri);
  });

  it('SoftwareDeployment: reboot, then start-up with the new software-version', async () => {
    const { svc, phone } = await setUp({
      action: 'SoftwareDeployment',
      items: [
        { name: 'file-https-base-url', value: 'https://127.0.0.1/fw/os60.img' },
        { name: 'file-type', value: 'APP' },
        { name: 'file-sw-type', value: 'Siemens SIP' },
        { name: 'file-sw-version', value: '3.5.12.0' },
      ],
    }, { softwareVersion: 'V1 R4.7.0' });
    expect(valueOf(svc.requests[0].message.items, 'software-version')).toBe('V1 R4.7.0');
    const rebooting = phone.next('rebooting');
    const startUp = phone.next('interaction', (r) => r.trigger === 'reboot');
    await contactMe(phone.contactMeUri);
    expect((await rebooting)[0].cause).toBe('SoftwareDeployment');
    await startUp;
    expect(svc.requests.map((r) => r.message.reason)).toEqual(['start-up', 'solicited', 'start-up']);
    expect(valueOf(svc.requests[2].message.items, 'software-version')).toBe('V3 R5.12.0');
  });
});
