/**
 * The two codecs against each other: what the phone writes, the service reads; what the service
 * writes, the phone reads; and both read the manual's documents alike. Each codec has its own
 * tests; this is where a bug that only one side has shows up (a symmetric bug in a shared codec
 * would pass every round trip).
 */
import { describe, expect, it } from 'vitest';
import * as service from '../../src/main/wpi';
import * as phone from '../../src/phone/codec';
import { CATALOGUE, newNonce } from '../../src/phone';
import { DLS_EXAMPLES, P64_AS_PRINTED, P67_AS_PRINTED, unwrap, WPM_EXAMPLES } from './manual-examples';

/** Values that stress escaping, references, line breaks and non-ASCII; none has white space at an end. */
const VALUES = [
  'OpenStage 60',
  '&',
  '<>',
  'a<b>c&d"e\'f',
  'Tom & Jerry <tj@example.com>',
  ']]>',
  '<![CDATA[x]]>',
  '<Item name="mac-addr">00:1A:E8:00:00:99</Item>',
  '&amp;',
  '&lt;tag&gt;',
  '&#13;',
  '&unknown;',
  'Müller, Größe, Ärger, 3 €',
  '😀 𝄞 \ue000',
  'line1\nline2',
  'line1\r\nline2',
  'cr\rhere',
  'tab\there',
  'inner  double  spaces',
  '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----',
  'https://user:p%40ss@10.0.0.1/x?a=1&b=2',
  '0049897223290',
  'x'.repeat(5000),
];

const NAMES = ['e164', 'display-id-unicode', 'a&b', 'x"y', "it's", 'a<b', 'Canonical-lookup-local-code'];

describe('phone writes, service reads', () => {
  it.each(phone.REASONS_FOR_CONTACT.map((r) => [r]))('ReasonForContact %s, with and without maxItems', (reason) => {
    for (const m of [
      { nonce: newNonce(), reason, items: [] },
      { nonce: newNonce(), maxItems: -1, reason, items: [{ name: 'e164', value: '49897223290' }] },
      { nonce: newNonce(), maxItems: 25, fragment: 'final' as const, reason, items: [] },
    ]) {
      expect(service.parseWorkpointMessage(phone.buildWorkpointMessage(m))).toEqual(m);
    }
  });

  const replies = phone.ACTIONS.flatMap((action) => (['accepted', 'failed', 'busy'] as const).map((status) => [action, status] as const));
  it.each(replies)('reply-to action="%s" status="%s", fragments next and final, busy without ItemList', (action, status) => {
    for (const fragment of ['next', 'final'] as const) {
      const m = { nonce: newNonce(), maxItems: -1, fragment, reason: 'reply-to' as const, action, status, items: [{ name: 'sntp-addr', value: 'pool.ntp.org' }] };
      expect(service.parseWorkpointMessage(phone.buildWorkpointMessage(m))).toEqual(m);
    }
    const busy = { nonce: newNonce(), maxItems: -1, fragment: 'final' as const, reason: 'reply-to' as const, action, status, items: [] };
    const xml = phone.buildWorkpointMessage(busy, { omitItemList: true });
    expect(xml).not.toContain('ItemList');
    expect(service.parseWorkpointMessage(xml)).toEqual(busy);
  });

  it('items: every tricky value and name, index 0 and large, every item status (with its spaces)', () => {
    const statuses = ['failed', 'unknown item', 'read only', 'invalid index', 'unexpected item', 'not supported', 'invalid data', 'undefined status'];
    const items: phone.Item[] = [
      ...VALUES.map((value, i) => ({ name: NAMES[i % NAMES.length]!, value })),
      ...statuses.map((status, i) => ({ name: 'dls-server-ca', index: i, value: '', status })),
      { name: 'x', index: 999_999_999, value: 'big' },
    ];
    const m = { nonce: newNonce(), maxItems: -1, fragment: 'final' as const, reason: 'reply-to' as const, action: 'ReadAllItems', status: 'accepted', items };
    const xml = phone.buildWorkpointMessage(m);
    expect(service.parseWorkpointMessage(xml)).toEqual(m);
    expect(service.parseWorkpointMessage(Buffer.from(xml, 'utf8'))).toEqual(m);
  });

  it('attribute values with quotes, angle brackets, tabs and line breaks', () => {
    const m = { nonce: newNonce(), reason: 'reply-to' as const, action: 'Read"All<Items>&', status: 'acc\tepted', items: [{ name: 'a\tb', value: 'v', status: 'read\nonly' }] };
    const read = service.parseWorkpointMessage(phone.buildWorkpointMessage(m));
    expect(read.action).toBe(m.action);
    expect(read.status).toBe(m.status);
    expect(read.items).toEqual(m.items);
  });

  it('white space at the ends of a value is wrapping to both sides: dropped, either way', () => {
    const items = [{ name: 'a', value: '  padded  ' }, { name: 'b', value: '\nwrapped\n' }];
    const fromPhone = service.parseWorkpointMessage(phone.buildWorkpointMessage({ nonce: 'N', reason: 'status', items })).items;
    const fromService = phone.parseDLSMessage(service.buildDLSMessage({ nonce: 'N', action: 'WriteItems', items })).items;
    expect(fromPhone.map((i) => i.value)).toEqual(['padded', 'wrapped']);
    expect(fromService).toEqual(fromPhone);
  });

  it('a whole simulated phone\'s ReadAllItems reply, fragmented by the phone, reads back item for item', async () => {
    const { createPhoneConfig, phoneIdentity, allItems } = await import('../../src/phone');
    const config = createPhoneConfig(phoneIdentity({ mac: '00:1A:E8:00:00:77' }));
    const items = allItems(config);
    const envelope = { maxItems: -1, reason: 'reply-to' as const, action: 'ReadAllItems', status: 'accepted' };
    const lists = phone.fragmentItems({ ...envelope, nonce: newNonce() }, items, { maxBytes: 8 * 1024 });
    expect(lists.length).toBeGreaterThan(2);
    const read = lists.map((list, i) => {
      const xml = phone.buildWorkpointMessage({ ...envelope, nonce: newNonce(), fragment: i < lists.length - 1 ? 'next' : 'final', items: list });
      expect(Buffer.byteLength(xml)).toBeLessThanOrEqual(8 * 1024);
      return service.parseWorkpointMessage(xml);
    });
    expect(read.map((m) => m.fragment)).toEqual([...Array(lists.length - 1).fill('next'), 'final']);
    expect(read.flatMap((m) => m.items)).toEqual(items);
  });
});

describe('service writes, phone reads', () => {
  it.each(phone.ACTIONS.map((a) => [a]))('Action %s, without and with items', (action) => {
    for (const items of [[], [{ name: 'restart-type', value: 'FactoryReset' }, { name: 'dls-server-ca', index: 0, value: 'PEM' }]]) {
      const m = { nonce: newNonce(), action, items };
      expect(phone.parseDLSMessage(service.buildDLSMessage(m))).toEqual(m);
    }
  });

  it('items: every tricky value and name, empty values, index 0', () => {
    const items: service.Item[] = [
      ...VALUES.map((value, i) => ({ name: NAMES[i % NAMES.length]!, value })),
      { name: 'bootstrapping-tan', value: '' },
      { name: 'dls-server-ca', index: 0, value: 'A' },
    ];
    const m = { nonce: newNonce(), action: 'WriteItems' as const, items };
    const xml = service.buildDLSMessage(m);
    expect(phone.parseDLSMessage(xml)).toEqual(m);
    expect(phone.parseDLSMessage(Buffer.from(xml, 'utf8'))).toEqual(m);
  });

  it('nonces as the manual prints them and as long as the service allows', () => {
    for (const nonce of ['2253A404241C11D774122654989181BC', 'ab15234de14f15a667c6f8d', 'A'.repeat(256), 'x-y_z.1~2:3/4']) {
      expect(phone.parseDLSMessage(service.buildDLSMessage({ nonce, action: 'CleanUp', items: [] })).nonce).toBe(nonce);
    }
  });
});

describe('both read the manual\'s documents alike', () => {
  it.each(DLS_EXAMPLES.map((e) => [e.page, e] as const))('DLSMessage %s', (_page, example) => {
    expect(phone.parseDLSMessage(example.xml)).toEqual(service.parseDLSMessage(example.xml));
  });

  it('both refuse p.64 and p.67 as printed', () => {
    for (const printed of [P64_AS_PRINTED, P67_AS_PRINTED]) {
      expect(() => service.parseDLSMessage(printed)).toThrow(service.WpiError);
      expect(() => phone.parseDLSMessage(printed)).toThrow(phone.PhoneCodecError);
    }
  });

  it.each(WPM_EXAMPLES.map((e) => [e.page, e] as const))('WorkpointMessage %s: the service reads the printed one and the phone-built one the same', (_page, example) => {
    const built = phone.buildWorkpointMessage(example.message, { omitItemList: example.omitItemList });
    const printed = service.parseWorkpointMessage(unwrap(example.xml));
    expect(service.parseWorkpointMessage(built)).toEqual(printed);
    expect(printed).toEqual(example.message);
  });
});

describe('seeded random messages, both directions', () => {
  // A small deterministic generator (mulberry32), so a failure names a reproducible case.
  function random(seed: number): () => number {
    let a = seed;
    return () => {
      a = (a + 0x6d2b79f5) | 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  // XML characters of every kind the codecs treat specially; no control characters (not XML).
  const ALPHABET = ['a', 'Z', '0', ' ', '\t', '\n', '\r', '&', '<', '>', '"', "'", ';', '#', ']', 'ü', '€', '😀', '\u00a0', '\ufffd', '&amp;', '&#13;', ']]>', '<!--'];

  function value(rnd: () => number): string {
    let s = '';
    const n = Math.floor(rnd() * 12);
    for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(rnd() * ALPHABET.length)];
    // Both sides trim white space at the ends (the manual's wrapping), so none is generated there.
    return s.replace(/^[\s\u00a0]+|[\s\u00a0]+$/g, '');
  }

  function items(rnd: () => number): phone.Item[] {
    return Array.from({ length: Math.floor(rnd() * 20) }, () => {
      const entry = CATALOGUE[Math.floor(rnd() * CATALOGUE.length)]!;
      const item: phone.Item = { name: entry.name, value: value(rnd) };
      if (entry.indexed) item.index = Math.floor(rnd() * 20);
      return item;
    });
  }

  it('300 phone messages read back by the service, 300 service messages read back by the phone', () => {
    const rnd = random(20261204);
    for (let n = 0; n < 300; n++) {
      const reply = rnd() < 0.5;
      const wpm: phone.WorkpointMessage = {
        nonce: newNonce(),
        maxItems: -1,
        reason: reply ? 'reply-to' : phone.REASONS_FOR_CONTACT[Math.floor(rnd() * phone.REASONS_FOR_CONTACT.length)]!,
        items: items(rnd).map((i) => (rnd() < 0.2 ? { ...i, status: 'invalid data' } : i)),
      };
      if (reply) Object.assign(wpm, { fragment: 'final', action: phone.ACTIONS[Math.floor(rnd() * phone.ACTIONS.length)], status: 'accepted' });
      expect(service.parseWorkpointMessage(phone.buildWorkpointMessage(wpm)), `phone message ${n}`).toEqual(wpm);

      const dlsm = { nonce: newNonce(), action: phone.ACTIONS[Math.floor(rnd() * phone.ACTIONS.length)]!, items: items(rnd) };
      expect(phone.parseDLSMessage(service.buildDLSMessage(dlsm)), `service message ${n}`).toEqual(dlsm);
    }
  });
});

describe('MAC addresses: the phone and the service agree on what is one', () => {
  it.each([
    '00:1a:e8:00:00:01',
    '00-1A-E8-00-00-01',
    '001A.E800.0001',
    '001ae8000001',
    ' 00:1A:E8:00:00:01 ',
    '00:1A-E8.00:00:01',
    '00::1A:E8:00:00:01',
    '00:1A:E8:00:00',
    '00:1A:E8:00:00:0G',
    '00:1A:E8:00:00:01:02',
    '00 1A E8 00 00 01',
    '',
    '::::::',
  ])('%j', (raw) => {
    expect(phone.formatMac(raw)).toBe(service.normalizeMac(raw));
  });
});
