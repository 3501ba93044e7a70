/**
 * Canonical XML built by the codec: DLSMessage (service -> phone) and WorkpointMessage (phone
 * simulator), checked with an independent XML parser and by round trips through the codec.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import {
  ACTIONS,
  DLS_NAMESPACE,
  REASONS_FOR_CONTACT,
  buildDLSMessage,
  buildWorkpointMessage,
  parseDLSMessage,
  parseWorkpointMessage,
  type Action,
  type DLSMessage,
  type Item,
  type WorkpointMessage,
} from '../../src/main/wpi';
import { NONCE_HEX32, NONCE_LOWER23, wpm } from './helpers';

/** An independent reading of the built XML: namespace prefixes and entity decoding left as is. */
const raw = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  attributesGroupName: '@',
  removeNSPrefix: false,
  processEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  ignoreDeclaration: true,
  isArray: (name) => name === 'Item',
});

type RawItem = { '@': Record<string, string>; '#text'?: string } | string;
type RawMessage = { '@': Record<string, string>; Action?: string; ReasonForContact?: unknown; ItemList?: { Item?: RawItem[] } | '' };

function rawMessage(xml: string, root: 'DLSMessage' | 'WorkpointMessage'): { rootAttrs: Record<string, string>; message: RawMessage } {
  expect(XMLValidator.validate(xml)).toBe(true);
  const doc = raw.parse(xml) as Record<string, { '@': Record<string, string>; Message: RawMessage }>;
  expect(Object.keys(doc)).toEqual([root]);
  return { rootAttrs: doc[root]['@'], message: doc[root].Message };
}

function rawItemAttrs(xml: string, root: 'DLSMessage' | 'WorkpointMessage'): Record<string, string>[] {
  const list = rawMessage(xml, root).message.ItemList;
  if (!list || !list.Item) return [];
  return list.Item.map((i) => (typeof i === 'string' ? {} : i['@']));
}

const SPECIALS = `a<b>c&d"e'f`;

describe('buildDLSMessage: envelope', () => {
  const xml = buildDLSMessage({ nonce: NONCE_HEX32, action: 'ReadAllItems', items: [] });

  it('starts with the XML declaration naming UTF-8', () => {
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>')).toBe(true);
  });

  it('has the root DLSMessage in the DLS namespace, unprefixed', () => {
    const { rootAttrs, message } = rawMessage(xml, 'DLSMessage');
    expect(DLS_NAMESPACE).toBe('http://www.siemens.com/DLS');
    expect(rootAttrs.xmlns).toBe('http://www.siemens.com/DLS');
    expect(message).toBeDefined();
    expect(message.Action).toBe('ReadAllItems');
  });

  it('contains exactly one root element and one Message', () => {
    expect(xml.match(/<DLSMessage[\s>]/g)).toHaveLength(1);
    expect(xml.match(/<Message[\s>]/g)).toHaveLength(1);
  });

  it.each([NONCE_HEX32, NONCE_LOWER23, 'A'.repeat(256), 'x-y_z.1~2:3/4'])('echoes nonce %s byte for byte', (nonce) => {
    const out = buildDLSMessage({ nonce, action: 'CleanUp', items: [] });
    const bytes = Buffer.from(out, 'utf8');
    const needle = Buffer.from(`nonce="${nonce}"`, 'utf8');
    expect(bytes.indexOf(needle)).toBeGreaterThan(0);
    expect(rawMessage(out, 'DLSMessage').message['@'].nonce).toBe(nonce);
    expect(parseDLSMessage(out).nonce).toBe(nonce);
  });

  it('echoes the nonce of the phone message it answers', () => {
    for (const nonce of [NONCE_HEX32, NONCE_LOWER23]) {
      const phone = parseWorkpointMessage(wpm('<ReasonForContact>start-up</ReasonForContact><ItemList/>', `nonce="${nonce}" maxItems="-1"`));
      const reply = buildDLSMessage({ nonce: phone.nonce, action: 'ReadAllItems', items: [] });
      expect(reply).toContain(` nonce="${nonce}"`);
    }
  });

  it.each([...ACTIONS])('writes Action %s as the element text', (action) => {
    const out = buildDLSMessage({ nonce: NONCE_HEX32, action, items: [] });
    expect(out).toContain(`<Action>${action}</Action>`);
    expect(rawMessage(out, 'DLSMessage').message.Action).toBe(action);
    expect(parseDLSMessage(out)).toEqual({ nonce: NONCE_HEX32, action, items: [] });
  });

  it('writes an empty item list as <ItemList/>', () => {
    expect(xml).toMatch(/<ItemList\s*\/>/);
    expect(xml).not.toContain('<Item ');
    expect(parseDLSMessage(xml).items).toEqual([]);
  });
});

describe('buildDLSMessage: items', () => {
  it('writes index only where set, including index 0', () => {
    const items: Item[] = [
      { name: 'mac-addr', value: '' },
      { name: 'dls-server-ca', index: 0, value: 'AAAA' },
      { name: 'dls-server-ca', index: 1, value: 'BBBB' },
      { name: 'Canonical-lookup-local-code', index: 6, value: '89' },
    ];
    const out = buildDLSMessage({ nonce: NONCE_HEX32, action: 'WriteItems', items });
    const attrs = rawItemAttrs(out, 'DLSMessage');
    expect(attrs.map((a) => a.name)).toEqual(['mac-addr', 'dls-server-ca', 'dls-server-ca', 'Canonical-lookup-local-code']);
    expect(attrs.map((a) => a.index)).toEqual([undefined, '0', '1', '6']);
    expect(out).toContain('index="0"');
    expect(parseDLSMessage(out).items).toEqual(items);
  });

  it('never writes a status attribute towards the phone', () => {
    const out = buildDLSMessage({ nonce: NONCE_HEX32, action: 'WriteItems', items: [{ name: 'a', value: 'b', status: 'failed' }] });
    expect(out).not.toContain('status=');
    expect(parseDLSMessage(out).items).toEqual([{ name: 'a', value: 'b' }]);
  });

  it('escapes <, >, & and quotes in values and names', () => {
    const out = buildDLSMessage({ nonce: NONCE_HEX32, action: 'WriteItems', items: [{ name: `odd${SPECIALS}`, value: SPECIALS }] });
    expect(XMLValidator.validate(out)).toBe(true);
    expect(out).not.toContain(SPECIALS);
    expect(out).not.toContain('<b>');
    const list = rawMessage(out, 'DLSMessage').message.ItemList;
    const item = list && list.Item ? list.Item[0] : undefined;
    expect(typeof item).toBe('object');
    const text = typeof item === 'object' ? (item['#text'] ?? '') : '';
    expect(text).not.toMatch(/[<>"']/);
    expect(text).not.toMatch(/&(?!(amp|lt|gt|quot|apos);)/);
    expect(text).toContain('&lt;');
    expect(text).toContain('&amp;');
  });

  const values = [
    SPECIALS,
    '<Item name="injected">x</Item>',
    '</ItemList></Message></DLSMessage>',
    ']]>',
    '&amp; stays literal',
    '&#65; stays literal',
    'Tom & Jerry <tj@example.com>',
    'Logo for OpenStage 80.png',
    'Müller Straße ÄÖÜ äöü ß € 😀',
    '/media/',
    'https://dls.example.com:18443/files/a b.png?x=1&y=2',
    'multi\nline\nvalue',
    '0',
    '-1',
    'false',
  ];
  it.each(values)('round-trips value %j through parseDLSMessage', (value) => {
    const msg: DLSMessage = { nonce: NONCE_LOWER23, action: 'WriteItems', items: [{ name: 'x', value }, { name: 'y', index: 0, value }] };
    const out = buildDLSMessage(msg);
    expect(XMLValidator.validate(out)).toBe(true);
    expect(parseDLSMessage(out)).toEqual(msg);
    expect(parseDLSMessage(Buffer.from(out, 'utf8'))).toEqual(msg);
  });

  it('round-trips a name with XML specials', () => {
    const msg: DLSMessage = { nonce: NONCE_HEX32, action: 'ReadItems', items: [{ name: SPECIALS, value: '' }] };
    expect(parseDLSMessage(buildDLSMessage(msg))).toEqual(msg);
  });

  it('round-trips a tab and a line feed in a name (written as references: a literal one reads back as a space)', () => {
    const msg: DLSMessage = { nonce: NONCE_HEX32, action: 'ReadItems', items: [{ name: 'user-\npwd\tx', value: 'line one\nline\ttwo' }] };
    const out = buildDLSMessage(msg);
    expect(out).toContain('name="user-&#10;pwd&#9;x"');
    // In text a line feed stays as written (PEM values keep their lines).
    expect(out).toContain('>line one\nline\ttwo<');
    expect(parseDLSMessage(out)).toEqual(msg);
  });

  it('encodes non-ASCII text as UTF-8 bytes', () => {
    const out = buildDLSMessage({ nonce: NONCE_HEX32, action: 'WriteItems', items: [{ name: 'display-id-unicode', value: 'ü€' }] });
    const bytes = Buffer.from(out, 'utf8');
    expect(bytes.includes(Buffer.from([0xc3, 0xbc, 0xe2, 0x82, 0xac]))).toBe(true);
  });

  it('round-trips a realistic file deployment with two indexed groups', () => {
    const items: Item[] = [1, 2].flatMap((index) => [
      { name: 'file-server', index, value: '192.168.1.150' },
      { name: 'file-port', index, value: '21' },
      { name: 'file-username', index, value: 'ftp' },
      { name: 'file-pwd', index, value: 's3cr&t<>' },
      { name: 'file-path', index, value: '/media/' },
      { name: 'file-name', index, value: `Logo for OpenStage 80 (${index}).png` },
      { name: 'file-type', index, value: 'LOGO' },
      { name: 'file-action', index, value: 'deploy' },
    ]);
    const msg: DLSMessage = { nonce: NONCE_HEX32, action: 'FileDeployment', items };
    expect(parseDLSMessage(buildDLSMessage(msg))).toEqual(msg);
  });
});

describe('buildWorkpointMessage', () => {
  const sampleItems: Item[] = [
    { name: 'mac-addr', value: '00:01:E3:24:77:0B' },
    { name: 'gigabit-ethernet', value: '', status: 'failed' },
    { name: 'device-type', value: 'OpenStage 40', status: 'read only' },
    { name: 'ldap-server-address', index: 0, value: `ldap ${SPECIALS}` },
    { name: 'file-deployment-status', index: 2, value: 'ok' },
  ];

  it('starts with the XML declaration and has the root WorkpointMessage in the DLS namespace', () => {
    const out = buildWorkpointMessage({ nonce: NONCE_HEX32, reason: 'start-up', items: [] });
    expect(out.startsWith('<?xml version="1.0" encoding="UTF-8"?>')).toBe(true);
    expect(rawMessage(out, 'WorkpointMessage').rootAttrs.xmlns).toBe(DLS_NAMESPACE);
  });

  it.each([...REASONS_FOR_CONTACT])('round-trips reason %s', (reason) => {
    const minimal: WorkpointMessage = { nonce: NONCE_LOWER23, reason, items: [] };
    expect(parseWorkpointMessage(buildWorkpointMessage(minimal))).toEqual(minimal);

    const full: WorkpointMessage = { nonce: NONCE_HEX32, maxItems: -1, fragment: 'final', reason, items: sampleItems };
    expect(parseWorkpointMessage(buildWorkpointMessage(full))).toEqual(full);
  });

  it.each(
    ACTIONS.flatMap((action) =>
      (['accepted', 'failed', 'busy'] as const).map((status) => [action, status] as [Action, string]),
    ),
  )('round-trips reply-to action=%s status=%s', (action, status) => {
    const msg: WorkpointMessage = { nonce: NONCE_HEX32, maxItems: 5, fragment: 'next', reason: 'reply-to', action, status, items: sampleItems };
    expect(parseWorkpointMessage(buildWorkpointMessage(msg))).toEqual(msg);
  });

  it('writes index and status only where set, index 0 included', () => {
    const out = buildWorkpointMessage({ nonce: NONCE_HEX32, reason: 'status', items: sampleItems });
    const attrs = rawItemAttrs(out, 'WorkpointMessage');
    expect(attrs.map((a) => a.index)).toEqual([undefined, undefined, undefined, '0', '2']);
    expect(attrs.map((a) => a.status)).toEqual([undefined, 'failed', 'read only', undefined, undefined]);
  });

  it('writes maxItems and fragment on Message and omits them when unset', () => {
    const withBoth = rawMessage(buildWorkpointMessage({ nonce: 'n', maxItems: -1, fragment: 'next', reason: 'reply-to', items: [] }), 'WorkpointMessage');
    expect(withBoth.message['@']).toMatchObject({ nonce: 'n', maxItems: '-1', fragment: 'next' });
    const without = rawMessage(buildWorkpointMessage({ nonce: 'n', reason: 'start-up', items: [] }), 'WorkpointMessage');
    expect(without.message['@']).toEqual({ nonce: 'n' });
  });

  it('round-trips action and status with XML specials', () => {
    const msg: WorkpointMessage = { nonce: 'n', reason: 'reply-to', action: `Act\t${SPECIALS}`, status: `st&tus\n<x>`, items: [{ name: 'a\nb', value: '', status: 'x\ty' }] };
    const out = buildWorkpointMessage(msg);
    expect(XMLValidator.validate(out)).toBe(true);
    expect(parseWorkpointMessage(out)).toEqual(msg);
  });

  it('writes <ItemList/> for no items unless omitItemList is set', () => {
    const busy: WorkpointMessage = { nonce: '0A8D', maxItems: -1, fragment: 'final', reason: 'reply-to', action: 'WriteItems', status: 'busy', items: [] };
    const withList = buildWorkpointMessage(busy);
    expect(withList).toMatch(/<ItemList\s*\/>/);
    const withoutList = buildWorkpointMessage(busy, { omitItemList: true });
    expect(withoutList).not.toContain('ItemList');
    expect(rawMessage(withoutList, 'WorkpointMessage').message.ItemList).toBeUndefined();
    expect(parseWorkpointMessage(withoutList)).toEqual(busy);
    expect(buildWorkpointMessage(busy, { omitItemList: false })).toMatch(/<ItemList\s*\/>/);
  });

  it('still writes the items when omitItemList is set but there are items', () => {
    const msg: WorkpointMessage = { nonce: 'n', reason: 'reply-to', action: 'ReadItems', status: 'accepted', items: sampleItems };
    const out = buildWorkpointMessage(msg, { omitItemList: true });
    expect(out).toContain('<ItemList>');
    expect(parseWorkpointMessage(out)).toEqual(msg);
  });
});
