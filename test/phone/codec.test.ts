/**
 * The phone's own codec (src/phone/codec.ts) against the manual's examples: it reads every
 * printed DLSMessage the way the manual means it and writes the printed WorkpointMessages, down to
 * the element and attribute order of the pages it follows. Then what a hostile or broken service
 * sends instead.
 */
import { describe, expect, it } from 'vitest';
import {
  ACTIONS,
  buildWorkpointMessage,
  formatMac,
  fragmentItems,
  MAX_MESSAGE_BYTES,
  parseDLSMessage,
  PhoneCodecError,
  REASONS_FOR_CONTACT,
  type Item,
  type PhoneCodecErrorCode,
} from '../../src/phone/codec';
import { newNonce } from '../../src/phone';
import { canonical, DLS_EXAMPLES, P64_AS_PRINTED, P67_AS_PRINTED, unwrap, WPM_EXAMPLES } from './manual-examples';

function refusal(input: string | Uint8Array, code: PhoneCodecErrorCode, names: RegExp): PhoneCodecError {
  let err: unknown;
  try {
    parseDLSMessage(input);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(PhoneCodecError);
  const e = err as PhoneCodecError;
  expect(e.code).toBe(code);
  expect(e.message).not.toMatch(/[\r\n]/);
  expect(e.message.length).toBeLessThan(300);
  expect(e.message).toMatch(names);
  return e;
}

const dls = (inner: string, nonce = 'N1') => `<DLSMessage xmlns="http://www.siemens.com/DLS"><Message nonce="${nonce}">${inner}</Message></DLSMessage>`;
const withItems = (items: string, action = 'WriteItems') => dls(`<Action>${action}</Action><ItemList>${items}</ItemList>`);

describe('the manual lists', () => {
  it('has the eight Actions of p.30–31 and the seven reasons of p.28–29, p.83', () => {
    expect([...ACTIONS]).toEqual(['ReadAllItems', 'ReadItems', 'WriteItems', 'Restart', 'FileDeployment', 'SoftwareDeployment', 'CleanUp', 'GetNextFragment']);
    expect([...REASONS_FOR_CONTACT]).toEqual(['start-up', 'local-changes', 'inventory-changes', 'status', 'solicited', 'reply-to', 'clean-up']);
  });
});

describe('reading the manual DLSMessage examples', () => {
  it.each(DLS_EXAMPLES.map((e) => [e.page, e] as const))('%s', (_page, example) => {
    expect(parseDLSMessage(example.xml)).toEqual(example.expected);
    // The same bytes, as they arrive, with the declaration a service writes.
    const bytes = Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n${example.xml}\n`, 'utf8');
    expect(parseDLSMessage(bytes)).toEqual(example.expected);
  });

  it('refuses p.64 and p.67 as printed: not XML (wpi-protocol.md §8.7)', () => {
    refusal(P64_AS_PRINTED, 'not-xml', /not well-formed XML/);
    refusal(P67_AS_PRINTED, 'not-xml', /not well-formed XML/);
  });
});

describe('writing the manual WorkpointMessage examples', () => {
  it.each(WPM_EXAMPLES.map((e) => [e.page, e] as const))('%s', (_page, example) => {
    const built = buildWorkpointMessage(example.message, { omitItemList: example.omitItemList });
    const sorted = example.order === 'any-order';
    expect(canonical(built, sorted)).toEqual(canonical(example.xml, sorted));
  });

  it('writes the declaration real phones send, then the root with the namespaces in the manual\'s order', () => {
    const xml = buildWorkpointMessage({ nonce: 'A1', reason: 'start-up', items: [] });
    expect(xml.startsWith('<?xml version="1.0" encoding="utf-8"?>\n<WorkpointMessage xsi:schemaLocation="http://www.siemens.com/DLS" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://www.siemens.com/DLS">\n')).toBe(true);
    expect(xml.endsWith('</Message>\n</WorkpointMessage>')).toBe(true);
  });

  it('orders Message nonce, maxItems, fragment and ReasonForContact status, action as p.46, p.76–83 do', () => {
    const xml = buildWorkpointMessage({ nonce: 'N', maxItems: -1, fragment: 'next', reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', items: [{ name: 'e164', value: '1' }] });
    expect(xml).toContain('\n<Message nonce="N" maxItems="-1" fragment="next">\n<ReasonForContact status="accepted" action="ReadAllItems">reply-to</ReasonForContact>\n<ItemList>\n<Item name="e164">1</Item>\n</ItemList>\n');
  });

  it('writes item status, name, index in that order (p.81) and index 0 (p.64)', () => {
    const xml = buildWorkpointMessage({ nonce: 'N', reason: 'reply-to', items: [{ name: 'dls-server-ca', index: 0, value: '', status: 'invalid data' }] });
    expect(xml).toContain('<Item status="invalid data" name="dls-server-ca" index="0"/>');
  });

  it('escapes what XML needs and nothing else', () => {
    const xml = buildWorkpointMessage({ nonce: 'N', reason: 'status', action: 'a"b<c&d', items: [{ name: 'x&y', value: 'Tom & Jerry <t@j> ]]> "q" \'a\' ü\r' }] });
    expect(xml).toContain(' action="a&quot;b&lt;c&amp;d"');
    expect(xml).toContain('<Item name="x&amp;y">Tom &amp; Jerry &lt;t@j&gt; ]]&gt; "q" \'a\' ü&#13;</Item>');
  });

  it('refuses to write a character XML cannot carry, naming the item', () => {
    for (const value of ['a\u0001b', 'a\u001fb', '\ufffe', 'x\ud800']) {
      expect(() => buildWorkpointMessage({ nonce: 'N', reason: 'status', items: [{ name: 'display-id', value }] })).toThrow(/item display-id: U\+[0-9A-F]{4} cannot be sent in XML/);
    }
    expect(buildWorkpointMessage({ nonce: 'N', reason: 'status', items: [{ name: 'e', value: '😀\t\n' }] })).toContain('😀');
  });
});

describe('reading: what phones tolerate', () => {
  it('reads a prefixed namespace, attributes in any order, comments and a BOM', () => {
    const xml = '\uFEFF<?xml version="1.0"?><!-- hi --><d:DLSMessage xmlns:d="http://www.siemens.com/DLS"><d:Message nonce="N2"><d:Action>ReadItems</d:Action><d:ItemList><d:Item index="3" name="ldap-server-address"/><!-- c --></d:ItemList></d:Message></d:DLSMessage>';
    expect(parseDLSMessage(xml)).toEqual({ nonce: 'N2', action: 'ReadItems', items: [{ name: 'ldap-server-address', index: 3, value: '' }] });
    expect(parseDLSMessage(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(dls('<Action>CleanUp</Action>'))])).action).toBe('CleanUp');
  });

  it('reads no ItemList, an empty one, and ignores a status the service should not send', () => {
    expect(parseDLSMessage(dls('<Action>CleanUp</Action>')).items).toEqual([]);
    expect(parseDLSMessage(dls('<Action>CleanUp</Action><ItemList/>')).items).toEqual([]);
    expect(parseDLSMessage(withItems('<Item name="a" status="failed" type="x">1</Item>')).items).toEqual([{ name: 'a', value: '1' }]);
  });

  it('resolves the predefined entities and character references once, in values and attributes', () => {
    const m = parseDLSMessage(withItems('<Item name="a&amp;b">&lt;&gt;&amp;&quot;&apos;&#65;&#x42;&#x1F600;&amp;lt;</Item>'));
    expect(m.items).toEqual([{ name: 'a&b', value: '<>&"\'AB😀&lt;' }]);
  });

  it('drops literal whitespace at the ends of a value but keeps referenced whitespace and inner breaks', () => {
    const m = parseDLSMessage(withItems('<Item name="a">\n  x\r\n  y \t</Item><Item name="b">&#32;x&#13;</Item><Item name="c">   </Item>'));
    expect(m.items.map((i) => i.value)).toEqual(['x\n  y', ' x\r', '']);
  });

  it('takes CDATA as written, without resolving or trimming it', () => {
    const m = parseDLSMessage(withItems('<Item name="a"> <![CDATA[ <b>&amp; ]]> </Item>'));
    expect(m.items[0]!.value).toBe(' <b>&amp; ');
  });

  it('normalizes line breaks and tabs in attributes as XML does', () => {
    expect(parseDLSMessage(withItems('<Item name="x\ty" index=" 2 ">1</Item>')).items[0]).toEqual({ name: 'x y', index: 2, value: '1' });
  });

  it('reads the nonce as the XML means it (a reference resolved)', () => {
    expect(parseDLSMessage(dls('<Action>CleanUp</Action>', 'A&#66;C')).nonce).toBe('ABC');
  });
});

describe('reading: what a hostile or broken service sends instead', () => {
  it.each([
    ['an empty body', '', 'empty', /empty/],
    ['whitespace only', ' \n ', 'empty', /empty/],
    ['HTML', '<html><body>error</body></html>', 'wrong-root', /root element is html, expected DLSMessage/],
    ['a WorkpointMessage', '<WorkpointMessage><Message nonce="1"><ReasonForContact>start-up</ReasonForContact></Message></WorkpointMessage>', 'wrong-root', /WorkpointMessage/],
    ['two roots', `${dls('<Action>CleanUp</Action>')}<DLSMessage/>`, 'wrong-root', /2 root elements/],
    ['text only', 'hello', 'not-xml', /not well-formed XML/],
    ['no Message', '<DLSMessage/>', 'no-message', /no Message/],
    ['two Messages', `<DLSMessage><Message nonce="1"><Action>CleanUp</Action></Message><Message nonce="2"><Action>Restart</Action></Message></DLSMessage>`, 'duplicate-element', /2 Message/],
    ['no nonce', '<DLSMessage><Message><Action>CleanUp</Action></Message></DLSMessage>', 'no-nonce', /no nonce/],
    ['an empty nonce', dls('<Action>CleanUp</Action>', ''), 'no-nonce', /no nonce/],
    ['no Action', dls('<ItemList/>'), 'no-action', /no Action/],
    ['an empty Action', dls('<Action> </Action>'), 'no-action', /no Action/],
    ['two Actions', dls('<Action>CleanUp</Action><Action>Restart</Action>'), 'duplicate-element', /2 Action/],
    ['an unknown Action', dls('<Action>Dance</Action>'), 'unknown-action', /unknown Action "Dance"/],
    ['a lower-case Action', dls('<Action>cleanup</Action>'), 'unknown-action', /cleanup/],
    ['two ItemLists', dls('<Action>WriteItems</Action><ItemList/><ItemList/>'), 'duplicate-element', /2 ItemList/],
    ['an Item without name', withItems('<Item>1</Item>'), 'item-without-name', /Item 1 has no name/],
    ['an Item with a blank name', withItems('<Item name="a">1</Item><Item name="  ">2</Item>'), 'item-without-name', /Item 2/],
    ['a negative index', withItems('<Item name="a" index="-1">1</Item>'), 'bad-index', /index of a .*"-1"/],
    ['a non-numeric index', withItems('<Item name="a" index="one">1</Item>'), 'bad-index', /"one"/],
    ['a huge index', withItems('<Item name="a" index="99999999999">1</Item>'), 'bad-index', /whole number/],
    ['an element inside a value', withItems('<Item name="a">x<b>y</b></Item>'), 'bad-item', /item a: an element inside a value/],
    ['an undefined entity', withItems('<Item name="a">&nbsp;</Item>'), 'bad-reference', /item a: "&nbsp;" is not an XML reference/],
    ['an undefined entity in a name', withItems('<Item name="&x;">1</Item>'), 'bad-reference', /Item 1/],
    ['a reference to NUL', withItems('<Item name="a">&#0;</Item>'), 'bad-reference', /not allow/],
    ['a reference to a surrogate half', withItems('<Item name="a">&#xD800;</Item>'), 'bad-reference', /not allow/],
    ['a reference beyond Unicode', withItems('<Item name="a">&#x110000;</Item>'), 'bad-reference', /not allow/],
    ['a raw control character', withItems('<Item name="a">x\u0001y</Item>'), 'not-xml', /U\+0001 at offset \d+/],
    ['a DOCTYPE with entities', `<!DOCTYPE DLSMessage [<!ENTITY a "aaaa">]>${withItems('<Item name="a">&a;</Item>')}`, 'doctype', /DOCTYPE/],
    ['an external entity', `<!doctype DLSMessage [<!ENTITY x SYSTEM "file:///etc/passwd">]>${withItems('<Item name="a">&x;</Item>')}`, 'doctype', /DOCTYPE/],
    ['an unclosed element', '<DLSMessage><Message nonce="1"><Action>CleanUp</Action></Message>', 'not-xml', /not well-formed XML/],
    ['a repeated attribute', '<DLSMessage><Message nonce="1" nonce="2"><Action>CleanUp</Action></Message></DLSMessage>', 'not-xml', /repeated/],
    ['hostile nesting', `<DLSMessage><Message nonce="1"><Action>CleanUp</Action><x>${'<a>'.repeat(5000)}${'</a>'.repeat(5000)}</x></Message></DLSMessage>`, 'not-xml', /not well-formed XML/],
  ] as const)('refuses %s', (_what, xml, code, names) => {
    refusal(xml, code, names);
  });

  it('refuses bytes that are not UTF-8', () => {
    const latin1 = Buffer.from(withItems('<Item name="display-id">Müller</Item>'), 'latin1');
    refusal(latin1, 'not-utf8', /not UTF-8/);
  });

  it('keeps a refusal short when the offending input is huge', () => {
    const e = refusal(dls(`<Action>${'X'.repeat(100_000)}</Action>`), 'unknown-action', /unknown Action "X+…"/);
    expect(e.message.length).toBeLessThan(100);
  });
});

describe('fragmenting the phone\'s replies (p.69–70)', () => {
  const items: Item[] = Array.from({ length: 300 }, (_, i) => ({ name: `item-${i}`, index: i % 7 === 0 ? i : undefined, value: 'v'.repeat((i * 37) % 400) }));
  const envelope = { nonce: newNonce(), maxItems: -1, reason: 'reply-to', action: 'ReadAllItems', status: 'accepted' } as const;

  it.each([1_500, 4_096, 8 * 1024, MAX_MESSAGE_BYTES])('keeps every message within %i bytes, and could not have packed tighter', (maxBytes) => {
    const lists = fragmentItems(envelope, items, { maxBytes });
    expect(lists.flat()).toEqual(items);
    const size = (list: Item[]) => Buffer.byteLength(buildWorkpointMessage({ ...envelope, nonce: newNonce(), fragment: 'final', items: list }));
    lists.forEach((list, i) => {
      expect(size(list)).toBeLessThanOrEqual(maxBytes);
      // Greedy: the next message's first item would not have fitted into this one.
      if (i < lists.length - 1) expect(size([...list, lists[i + 1]![0]!])).toBeGreaterThan(maxBytes);
    });
  });

  it('respects maxItems and keeps at least one (possibly empty) list', () => {
    const lists = fragmentItems(envelope, items, { maxItems: 7 });
    expect(lists.every((l) => l.length <= 7)).toBe(true);
    expect(lists.length).toBe(Math.ceil(items.length / 7));
    expect(fragmentItems(envelope, [])).toEqual([[]]);
    expect(fragmentItems(envelope, items.slice(0, 3), { maxItems: -1 })).toEqual([items.slice(0, 3)]);
  });

  it('sends an item larger than the limit alone rather than not at all', () => {
    const big = { name: 'userdata-picture', value: 'Q'.repeat(3000) };
    const lists = fragmentItems(envelope, [items[1]!, big, items[2]!], { maxBytes: 2000 });
    expect(lists).toEqual([[items[1]], [big], [items[2]]]);
  });
});

describe('the MAC address as a phone writes it (p.27, p.33, p.54)', () => {
  it.each([
    ['00:01:e3:25:ea:13', '00:01:E3:25:EA:13'],
    ['00-01-E3-25-EA-13', '00:01:E3:25:EA:13'],
    ['0001.e325.ea13', '00:01:E3:25:EA:13'],
    ['0001e325ea13', '00:01:E3:25:EA:13'],
    [' 00:01:E3:25:EA:13\n', '00:01:E3:25:EA:13'],
  ])('%j → %s', (raw, mac) => expect(formatMac(raw)).toBe(mac));

  it.each(['', '00:01:E3:25:EA', '00:01:E3:25:EA:13:14', '00:01:E3:25:EA:1G', '00 01 E3 25 EA 13', '0x0001e325ea13', '00:01:E3:25:EA:13/'])('refuses %j', (raw) => {
    expect(formatMac(raw)).toBeNull();
  });
});

describe('the fixtures themselves', () => {
  it('undo only the PDF\'s breaks inside tags', () => {
    expect(unwrap('<a x="http://w/\n2001" \ny="1"></\nb>\ntext\n')).toBe('<a x="http://w/2001"  y="1"></b>\ntext\n');
  });
});
