import { describe, expect, it } from 'vitest';
import { buildWorkpointMessage, parseWorkpointMessage, type Item } from '../../src/main/wpi';
import {
  allItems,
  applyWriteItems,
  CATALOGUE,
  createPhoneConfig,
  DEFAULT_READ_ONLY,
  factoryReset,
  phoneIdentity,
  readItems,
  START_UP_ITEM_NAMES,
  startUpItems,
} from '../../src/phone';

const MAC = '00:1a:e8:12:34:56';
const phone = (options: Parameters<typeof createPhoneConfig>[1] = {}, mac = MAC) => createPhoneConfig(phoneIdentity({ mac }), options);
const value = (items: Item[], name: string, index?: number) => items.find((i) => i.name === name && i.index === index)?.value;
const readAllXml = (items: Item[]) =>
  buildWorkpointMessage({ nonce: 'A'.repeat(32), maxItems: -1, fragment: 'final', reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', items });

describe('catalogue', () => {
  it('is the project copy of wpi-items.tsv', () => {
    expect(CATALOGUE.length).toBeGreaterThan(400);
    expect(new Set(CATALOGUE.map((e) => e.name)).size).toBe(CATALOGUE.length);
    for (const e of CATALOGUE) {
      expect(typeof e.indexed).toBe('boolean');
      expect(['yes', 'no', 'unknown']).toContain(e.readonly);
    }
    expect(CATALOGUE.find((e) => e.name === 'function-key-def')?.indexed).toBe(true);
  });
});

describe('a phone configuration', () => {
  it('has hundreds of items, about 30 kB as a ReadAllItems reply', () => {
    const items = allItems(phone());
    expect(items.length).toBeGreaterThan(400);
    const bytes = Buffer.byteLength(readAllXml(items));
    expect(bytes).toBeGreaterThan(25_000);
    expect(bytes).toBeLessThan(40_000);
    // and it parses back as a phone message
    expect(parseWorkpointMessage(readAllXml(items)).items).toEqual(items);
  });

  it('is deterministic per MAC and differs between MACs', () => {
    expect(allItems(phone())).toEqual(allItems(phone({}, '00:1A:E8:12:34:56')));
    expect(allItems(phone({}, '00:1A:E8:12:34:57'))).not.toEqual(allItems(phone()));
  });

  it('covers the catalogue, with indexed items at several indexes', () => {
    const names = new Set(allItems(phone()).map((i) => i.name));
    const excluded = ['dls-server-ca', 'dls-client-certificate', 'wbm-server-certificate', 'secure-mode-data', 'cleanup-reason', 'send-solicited', 'goto-secure-mode', 'file-server'];
    for (const name of excluded) expect(names.has(name), name).toBe(false);
    const missing = CATALOGUE.filter((e) => !names.has(e.name)).map((e) => e.name);
    expect(missing.length).toBeLessThan(30); // only message parameters, write-only items and certificates
    const items = allItems(phone());
    const indexes = (name: string) => items.filter((i) => i.name === name).map((i) => i.index);
    expect(indexes('function-key-def')).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008]);
    expect(indexes('key-label-unicode')).toHaveLength(16);
    expect(indexes('codec-type')).toEqual([1, 2, 3]);
    expect(indexes('file-deployment-name')).toEqual([1, 2, 3]);
    expect(value(items, 'function-key-def', 1)).toBe('31'); // key 1 is the phone's line
  });

  it('reports the start-up items of the manual, in its order (p.33, p.38)', () => {
    const items = startUpItems(phone());
    expect(items.map((i) => i.name)).toEqual([...START_UP_ITEM_NAMES]);
    expect(value(items, 'mac-addr')).toBe('00:1A:E8:12:34:56');
    expect(value(items, 'device-type')).toBe('OpenStage 60');
    expect(value(items, 'related-device-type')).toBe('OpenStage 60');
    expect(value(items, 'software-type')).toBe('Siemens SIP');
    expect(value(items, 'software-version')).toMatch(/^V\d R\d+\.\d+\.\d+$/);
    expect(value(items, 'part-number')).toMatch(/^S30817-S7403-A10[13]-\d{3}$/);
    expect(value(items, 'contact-me-uri')).toMatch(/^http:\/\/\d+\.\d+\.\d+\.\d+:8085\/contact_dls\.html\/ContactDLS$/);
    expect(value(items, 'configuration-changed-flag')).toBe('true');
    expect(value(items, 'e164')).toBe(value(items, 'basic-e164'));
    for (const name of ['gigabit-ethernet', 'user-pwd-unicode']) {
      expect(items.find((i) => i.name === name)).toEqual({ name, value: '', status: 'failed' });
    }
  });

  it('uses the identity it is given', () => {
    const config = createPhoneConfig(phoneIdentity({ mac: MAC, e164: '4930123', deviceType: 'OpenStage 80', ipAddress: '127.0.0.1', contactMePort: 18085 }));
    const items = startUpItems(config);
    expect(value(items, 'e164')).toBe('4930123');
    expect(value(items, 'part-number')).toMatch(/^S30817-S7404-/);
    expect(value(items, 'contact-me-uri')).toBe('http://127.0.0.1:18085/contact_dls.html/ContactDLS');
    expect(allItems(config).filter((i) => i.name === 'function-key-def')).toHaveLength(18); // 9 keys, 2 levels
  });

  it('reflects configurationChanged in configuration-changed-flag', () => {
    const config = phone({ configurationChanged: false });
    expect(value(startUpItems(config), 'configuration-changed-flag')).toBe('false');
    config.configurationChanged = true;
    expect(value(allItems(config), 'configuration-changed-flag')).toBe('true');
  });
});

describe('ReadItems', () => {
  it('returns values, every instance without index, statuses for unknown names and indexes', () => {
    const config = phone();
    const items = readItems(config, ['e164', { name: 'codec-type' }, { name: 'function-key-def', index: 1001 }, 'socketed-headset-mode', { name: 'codec-type', index: 9 }]);
    expect(items[0]).toEqual({ name: 'e164', value: value(startUpItems(config), 'e164') });
    expect(items.slice(1, 4).map((i) => i.index)).toEqual([1, 2, 3]);
    expect(items[4]).toMatchObject({ name: 'function-key-def', index: 1001 });
    expect(items[5]).toEqual({ name: 'socketed-headset-mode', value: '', status: 'unknown item' });
    expect(items[6]).toEqual({ name: 'codec-type', index: 9, value: '', status: 'invalid index' });
  });
});

describe('applyWriteItems', () => {
  it('applies writable items and reports read-only and unknown ones (manual p.77–83)', () => {
    const config = phone();
    const outcome = applyWriteItems(config, [
      { name: 'sntp-addr', value: '192.0.2.1' },
      { name: 'device-type', value: 'OpenStage 80' },
      { name: 'mac-addr', value: '00:00:00:00:00:00' },
      { name: 'socketed-headset-mode', value: 'true' },
      { name: 'function-key-def', index: 3, value: '59' },
      { name: 'e164', value: '4930999' },
    ]);
    expect(outcome.statuses.map((s) => s.status)).toEqual(['accepted', 'read only', 'read only', 'unknown item', 'accepted', 'accepted']);
    expect(outcome.failed).toEqual([
      { name: 'device-type', value: '', status: 'read only' },
      { name: 'mac-addr', value: '', status: 'read only' },
      { name: 'socketed-headset-mode', value: '', status: 'unknown item' },
    ]);
    const items = allItems(config);
    expect(value(items, 'sntp-addr')).toBe('192.0.2.1');
    expect(value(items, 'function-key-def', 3)).toBe('59');
    expect(value(items, 'device-type')).toBe('OpenStage 60');
    // the service may rewrite e164; the phone then uses it (manual p.27)
    expect(value(startUpItems(config), 'e164')).toBe('4930999');
  });

  it('honours configured read-only, unknown and forced statuses', () => {
    const config = phone({ readOnly: [...DEFAULT_READ_ONLY, 'sntp-addr'], unknown: ['default-locked-function-keys'], writeStatus: { 'reg-addr': 'invalid data' } });
    expect(allItems(config).some((i) => i.name === 'default-locked-function-keys')).toBe(false);
    const { failed } = applyWriteItems(config, [
      { name: 'sntp-addr', value: 'x' },
      { name: 'default-locked-function-keys', value: 'true' },
      { name: 'reg-addr', value: 'x' },
      { name: 'reg-port', value: '5061' },
    ]);
    expect(failed.map((i) => i.status)).toEqual(['read only', 'unknown item', 'invalid data']);
    expect(value(allItems(config), 'reg-port')).toBe('5061');
  });

  it('is undone by a factory reset', () => {
    const config = phone({ configurationChanged: false });
    const before = allItems(config);
    applyWriteItems(config, [{ name: 'sntp-addr', value: '192.0.2.1' }]);
    factoryReset(config);
    expect(config.configurationChanged).toBe(true);
    expect(allItems(config).filter((i) => i.name !== 'configuration-changed-flag')).toEqual(before.filter((i) => i.name !== 'configuration-changed-flag'));
  });
});
