/**
 * What is masked: the catalogue's secret flag, not "pwd" in a name. Flags and counters of the
 * password family are shown; passwords and communities are masked and can be revealed; a phone's
 * private key and the PIN's TAN are never stored, so they are marked as such and not revealable.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { LocalDlsApiHost } from '../../src/main/bridge/api-host';
import { CATALOGUE } from '../../src/shared/catalogue';
import { isSecretItem, MASK } from '../../src/shared/secrets';
import { FlowHarness } from '../support/handler';
import { startUpItems } from '../support/messages';
import { tempDirs } from '../support/tmp';
import { apiOver, MAC, PEER } from '../web/api-harness';

const newDir = tempDirs();
const open: { h: FlowHarness; api: LocalDlsApiHost }[] = [];
afterEach(async () => {
  for (const { h, api } of open.splice(0)) {
    await api.close();
    h.close();
  }
});

describe('secret items', () => {
  it('follows the catalogue flag: password flags, counters and fault times are not secrets', () => {
    for (const name of ['fault-report-admin-pwd', 'fault-time-user-pwd', 'admin-pwd-status', 'pwd-retries', 'pwd-min-reset-period', 'pwd-suspended-duration', 'user-pwd-history', 'user-pwd-expiry', 'max-pin-retries', 'mobility-password-on-logoff']) {
      expect(isSecretItem(name), name).toBe(false);
    }
    for (const name of ['user-pwd', 'admin-pwd', 'sip-pwd', 'line-sip-pwd', 'send-url-passwd', 'snmp-trap-pwd', 'restart-password', 'dls-client-certificate', 'bootstrapping-tan', 'SIP-PWD']) {
      expect(isSecretItem(name), name).toBe(true);
    }
    // No flag or number is ever a secret.
    expect(CATALOGUE.filter((c) => c.secret && ['bool', 'int', 'enum', 'datetime'].includes(c.type)).map((c) => c.name)).toEqual([]);
  });

  it('names the catalogue does not know: secret when they end in a password word, not when they only contain one', () => {
    expect(isSecretItem('acme-pwd')).toBe(true);
    expect(isSecretItem('acme-password-unicode')).toBe(true);
    expect(isSecretItem('acme-pwd-enabled')).toBe(false);
    expect(isSecretItem('acme-password-policy')).toBe(false);
  });

  it('shows flags, masks passwords with reveal, and offers no reveal for a private key that was never stored', async () => {
    const h = new FlowHarness(newDir());
    const api = apiOver(h);
    open.push({ h, api });
    const cert = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----';
    h.say(PEER, {
      reason: 'start-up',
      items: [...startUpItems(MAC), { name: 'fault-report-admin-pwd', value: 'true' }, { name: 'sip-pwd', value: 'sip-secret-1' }, { name: 'dls-client-certificate', value: cert }],
    });
    const [x] = (await api.listExchanges({}, { limit: 1 })).exchanges;
    const d = await api.getExchange(x!.id);
    const at = (name: string) => d.request.items.findIndex((i) => i.name === name);
    const flag = d.request.items[at('fault-report-admin-pwd')]!;
    expect(flag).toMatchObject({ value: 'true', secret: false });
    const sip = d.request.items[at('sip-pwd')]!;
    expect(sip).toMatchObject({ value: MASK, secret: true });
    expect(sip.notStored).toBeUndefined();
    expect(await api.revealExchangeItem(x!.id, 'request', at('sip-pwd'))).toBe('sip-secret-1');
    const key = d.request.items[at('dls-client-certificate')]!;
    expect(key).toMatchObject({ value: MASK, secret: true, notStored: true });
    await expect(api.revealExchangeItem(x!.id, 'request', at('dls-client-certificate'))).rejects.toThrow(/dls-client-certificate is not kept/);

    // The same on the device's items.
    const device = await api.getDevice(MAC);
    expect(device.items.find((i) => i.name === 'dls-client-certificate')).toMatchObject({ notStored: true });
    expect(device.items.find((i) => i.name === 'fault-report-admin-pwd')).toMatchObject({ value: 'true', secret: false });
    await expect(api.revealDeviceItem(MAC, 'dls-client-certificate', null)).rejects.toThrow(/nothing to reveal/);
    expect(await api.revealDeviceItem(MAC, 'sip-pwd', null)).toBe('sip-secret-1');
  });
});
