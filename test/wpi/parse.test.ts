/**
 * Lenient parsing of what phones send (WorkpointMessage) and of DLSMessage, following
 * wpi-protocol.md §3 and the manual's pitfalls (§8).
 */
import { describe, expect, it } from 'vitest';
import {
  ACTIONS,
  ITEM_STATUSES,
  REASONS_FOR_CONTACT,
  REPLY_STATUSES,
  parseDLSMessage,
  parseWorkpointMessage,
  type WorkpointMessage,
} from '../../src/main/wpi';
import { parseXml, type XmlNode } from '../../src/main/wpi/xml';
import { NONCE_HEX32, NONCE_LOWER23, dlsm, expectRefusal, wpm } from './helpers';

// Literal copies of the manual's lists, so a change to the exported constants is noticed.
const REASONS = ['start-up', 'local-changes', 'inventory-changes', 'status', 'solicited', 'reply-to', 'clean-up'];
const ACTION_VALUES = [
  'ReadAllItems',
  'ReadItems',
  'WriteItems',
  'Restart',
  'FileDeployment',
  'SoftwareDeployment',
  'CleanUp',
  'GetNextFragment',
];
const REPLY_STATUS_VALUES = ['accepted', 'failed', 'busy'];
const ITEM_STATUS_VALUES = [
  'failed',
  'unknown item',
  'read only',
  'invalid index',
  'unexpected item',
  'not supported',
  'invalid data',
  'undefined status',
];

const rfc = (reason: string, attrs = '') => `<ReasonForContact${attrs}>${reason}</ReasonForContact>`;

describe('exported value lists match the manual', () => {
  it('lists every ReasonForContact, Action, reply status and item status', () => {
    expect([...REASONS_FOR_CONTACT]).toEqual(REASONS);
    expect([...ACTIONS]).toEqual(ACTION_VALUES);
    expect([...REPLY_STATUSES]).toEqual(REPLY_STATUS_VALUES);
    expect([...ITEM_STATUSES]).toEqual(ITEM_STATUS_VALUES);
  });
});

describe('parseWorkpointMessage: ReasonForContact', () => {
  it.each(REASONS)('accepts %s', (reason) => {
    const m = parseWorkpointMessage(wpm(`${rfc(reason)}<ItemList/>`));
    expect(m.reason).toBe(reason);
    expect(m.nonce).toBe(NONCE_HEX32);
    expect(m.maxItems).toBe(-1);
    expect(m.items).toEqual([]);
    expect(m.action).toBeUndefined();
    expect(m.status).toBeUndefined();
    expect(m.fragment).toBeUndefined();
  });

  const combos = ACTION_VALUES.flatMap((action) => REPLY_STATUS_VALUES.map((status) => [action, status] as const));
  it.each(combos)('reads reply-to action="%s" status="%s"', (action, status) => {
    const m = parseWorkpointMessage(wpm(`${rfc('reply-to', ` action="${action}" status="${status}"`)}<ItemList/>`));
    expect(m.reason).toBe('reply-to');
    expect(m.action).toBe(action);
    expect(m.status).toBe(status);
  });

  it('keeps an action or status it does not know as sent (lenient)', () => {
    const m = parseWorkpointMessage(wpm(rfc('reply-to', ' action="SomeFutureAction" status="pending"')));
    expect(m.action).toBe('SomeFutureAction');
    expect(m.status).toBe('pending');
  });

  it('trims whitespace around the reason and its attributes', () => {
    const m = parseWorkpointMessage(wpm(rfc('\n      reply-to\n   ', ' action=" WriteItems " status="\taccepted "')));
    expect(m.reason).toBe('reply-to');
    expect(m.action).toBe('WriteItems');
    expect(m.status).toBe('accepted');
  });
});

describe('parseWorkpointMessage: items', () => {
  it.each(ITEM_STATUS_VALUES)('keeps item status "%s" exactly, spaces included', (status) => {
    const m = parseWorkpointMessage(
      wpm(`${rfc('reply-to', ' action="WriteItems" status="accepted"')}<ItemList><Item name="device-type" status="${status}">x</Item></ItemList>`),
    );
    expect(m.items).toEqual([{ name: 'device-type', value: 'x', status }]);
  });

  it('keeps an unknown item status as sent', () => {
    const m = parseWorkpointMessage(wpm(`${rfc('status')}<ItemList><Item name="a" status="read-only">x</Item></ItemList>`));
    expect(m.items[0].status).toBe('read-only');
  });

  it('keeps index="0" as the number 0 and leaves a missing index undefined', () => {
    const m = parseWorkpointMessage(
      wpm(
        `${rfc('solicited')}<ItemList>` +
          '<Item name="dls-server-ca" index="0">A</Item>' +
          '<Item name="dls-server-ca" index="1">B</Item>' +
          '<Item name="mac-addr">00:01:E3:24:77:0B</Item>' +
          '</ItemList>',
      ),
    );
    expect(m.items).toHaveLength(3);
    expect(m.items[0].index).toBe(0);
    expect(m.items[0].index).not.toBeUndefined();
    expect(m.items[1].index).toBe(1);
    expect(m.items[2].index).toBeUndefined();
    expect(Object.prototype.hasOwnProperty.call(m.items[2], 'index')).toBe(false);
  });

  it('reads larger and whitespace-padded indexes as integers', () => {
    const m = parseWorkpointMessage(
      wpm(`${rfc('status')}<ItemList><Item name="Canonical-lookup-local-code" index=" 6 ">89</Item><Item name="x" index="123456">y</Item></ItemList>`),
    );
    expect(m.items.map((i) => i.index)).toEqual([6, 123456]);
  });

  it('keeps values as strings (no number or boolean coercion)', () => {
    const m = parseWorkpointMessage(
      wpm(`${rfc('start-up')}<ItemList><Item name="e164">0049897223290</Item><Item name="mobility-enabled">false</Item><Item name="x">1e3</Item></ItemList>`),
    );
    expect(m.items.map((i) => i.value)).toEqual(['0049897223290', 'false', '1e3']);
  });

  it('takes CDATA as written and normalises attribute whitespace as XML does (both were decoded wrongly before)', () => {
    const m = parseWorkpointMessage(
      wpm(`${rfc('start-up')}<ItemList><Item name="a"><![CDATA[x &amp; <y>]]></Item><Item name="b\n" status="\tok">v</Item></ItemList>`),
    );
    expect(m.items[0]).toEqual({ name: 'a', value: 'x &amp; <y>' });
    // A literal newline or tab in an attribute value is a space (XML 1.0 §3.3.3); names and statuses are trimmed.
    expect(m.items[1]).toEqual({ name: 'b', value: 'v', status: 'ok' });
  });

  it('reads an empty or self-closing Item as the empty value', () => {
    const m = parseWorkpointMessage(
      wpm(`${rfc('start-up')}<ItemList><Item name="gigabit-ethernet" status="failed"></Item><Item name="user-pwd-unicode" status="failed"/></ItemList>`),
    );
    expect(m.items).toEqual([
      { name: 'gigabit-ethernet', value: '', status: 'failed' },
      { name: 'user-pwd-unicode', value: '', status: 'failed' },
    ]);
  });

  it('keeps repeated item names (multi-instance items) in document order', () => {
    const m = parseWorkpointMessage(
      wpm(`${rfc('status')}<ItemList><Item name="file-deployment-status" index="2">failed</Item><Item name="file-deployment-status" index="1">ok</Item></ItemList>`),
    );
    expect(m.items).toEqual([
      { name: 'file-deployment-status', index: 2, value: 'failed' },
      { name: 'file-deployment-status', index: 1, value: 'ok' },
    ]);
  });

  it('trims whitespace and newlines around values, as in the wrapped PDF examples', () => {
    const m = parseWorkpointMessage(
      wpm(
        `${rfc('start-up')}\n<ItemList>\n` +
          '  <Item name="device-type">\n      OpenStage 60\n  </Item>\n' +
          '  <Item name="mac-addr">\t00:01:E3:24:77:0B \r\n</Item>\n' +
          '  <Item name="contact-me-uri">\n    http://192.168.1.103:8085/contact_dls.html/\n    ContactDLS\n  </Item>\n' +
          '  <Item name=" part-number " status=" failed ">   </Item>\n' +
          '</ItemList>',
      ),
    );
    expect(m.items[0]).toEqual({ name: 'device-type', value: 'OpenStage 60' });
    expect(m.items[1]).toEqual({ name: 'mac-addr', value: '00:01:E3:24:77:0B' });
    const uri = m.items[2].value;
    expect(uri.startsWith('http://192.168.1.103:8085/contact_dls.html/')).toBe(true);
    expect(uri.endsWith('ContactDLS')).toBe(true);
    expect(uri).toBe(uri.trim());
    expect(m.items[3]).toEqual({ name: 'part-number', value: '', status: 'failed' });
  });

  it('decodes XML entities and character references in values, once', () => {
    const m = parseWorkpointMessage(
      wpm(
        `${rfc('status')}<ItemList>` +
          '<Item name="a">&amp;&lt;&gt;&quot;&apos;&#39;&#x41;&#65;</Item>' +
          '<Item name="b">Tom &amp; Jerry &lt;tj@example.com&gt;</Item>' +
          '<Item name="c">&amp;lt;</Item>' +
          '<Item name="d">&#xE4;&#246;&#x20AC;&#x1F600;</Item>' +
          '</ItemList>',
      ),
    );
    expect(m.items.map((i) => i.value)).toEqual(['&<>"\'\'AA', 'Tom & Jerry <tj@example.com>', '&lt;', 'äö€😀']);
  });

  it('decodes entities in attribute values (name, status, action)', () => {
    const m = parseWorkpointMessage(
      wpm(`${rfc('reply-to', ' action="Write&#73;tems" status="accepted"')}<ItemList><Item name="a&amp;b" status="x &lt;y&gt;">v</Item></ItemList>`),
    );
    expect(m.action).toBe('WriteItems');
    expect(m.items).toEqual([{ name: 'a&b', value: 'v', status: 'x <y>' }]);
  });

  it('decodes entities in the ReasonForContact text', () => {
    expect(parseWorkpointMessage(wpm(rfc('reply&#45;to'))).reason).toBe('reply-to');
  });
});

describe('parseWorkpointMessage: Message attributes', () => {
  it.each([
    ['-1', -1],
    ['5', 5],
    ['0', 0],
    [' 20 ', 20],
  ])('reads maxItems="%s" as %d', (raw, expected) => {
    expect(parseWorkpointMessage(wpm(rfc('start-up'), `nonce="N" maxItems="${raw}"`)).maxItems).toBe(expected);
  });

  it('leaves maxItems undefined when absent', () => {
    expect(parseWorkpointMessage(wpm(rfc('start-up'), 'nonce="N"')).maxItems).toBeUndefined();
  });

  it.each(['next', 'final'] as const)('reads fragment="%s" on Message', (fragment) => {
    const m = parseWorkpointMessage(wpm(rfc('reply-to', ' action="ReadAllItems" status="accepted"'), `nonce="N" maxItems="-1" fragment="${fragment}"`));
    expect(m.fragment).toBe(fragment);
  });

  it.each(['next', 'final'] as const)('reads fragment="%s" on ReasonForContact (as the p.29 table says)', (fragment) => {
    const m = parseWorkpointMessage(wpm(rfc('reply-to', ` action="ReadAllItems" status="accepted" fragment="${fragment}"`), 'nonce="N"'));
    expect(m.fragment).toBe(fragment);
  });

  it('prefers fragment on Message over fragment on ReasonForContact', () => {
    const m = parseWorkpointMessage(wpm(rfc('reply-to', ' fragment="final"'), 'nonce="N" fragment="next"'));
    expect(m.fragment).toBe('next');
  });

  it('trims the fragment value and leaves it undefined when absent', () => {
    expect(parseWorkpointMessage(wpm(rfc('reply-to'), 'nonce="N" fragment=" final "')).fragment).toBe('final');
    expect(parseWorkpointMessage(wpm(rfc('reply-to'), 'nonce="N"')).fragment).toBeUndefined();
  });

  it('accepts attributes in any order on Message, ReasonForContact and Item', () => {
    const expected: WorkpointMessage = {
      nonce: NONCE_LOWER23,
      maxItems: -1,
      fragment: 'final',
      reason: 'reply-to',
      action: 'ReadItems',
      status: 'accepted',
      items: [{ name: 'ldap-server-address', index: 1, value: 'ldap.example.com', status: 'failed' }],
    };
    const a = wpm(
      `${rfc('reply-to', ' action="ReadItems" status="accepted"')}<ItemList><Item name="ldap-server-address" index="1" status="failed">ldap.example.com</Item></ItemList>`,
      `nonce="${NONCE_LOWER23}" maxItems="-1" fragment="final"`,
    );
    const b = wpm(
      `${rfc('reply-to', ' status="accepted" action="ReadItems"')}<ItemList><Item status="failed" index="1" name="ldap-server-address">ldap.example.com</Item></ItemList>`,
      `fragment="final" maxItems="-1" nonce="${NONCE_LOWER23}"`,
    );
    expect(parseWorkpointMessage(a)).toEqual(expected);
    expect(parseWorkpointMessage(b)).toEqual(expected);
  });

  it.each([NONCE_HEX32, NONCE_LOWER23, 'x', 'A'.repeat(256), 'a-b_c.d~e:f/g+h=i!#$%()*,;?@[]^`{|}']) (
    'keeps nonce %s exactly as sent',
    (nonce) => {
      expect(parseWorkpointMessage(wpm(rfc('start-up'), `nonce="${nonce}"`)).nonce).toBe(nonce);
    },
  );
});

describe('parseWorkpointMessage: ItemList', () => {
  it('reads an empty <ItemList/> and <ItemList></ItemList> as no items', () => {
    expect(parseWorkpointMessage(wpm(`${rfc('reply-to', ' action="WriteItems" status="accepted"')}<ItemList/>`)).items).toEqual([]);
    expect(parseWorkpointMessage(wpm(`${rfc('reply-to')}<ItemList>\n   \n</ItemList>`)).items).toEqual([]);
  });

  it('accepts a busy reply without ItemList', () => {
    const m = parseWorkpointMessage(wpm(rfc('reply-to', ' action="WriteItems" status="busy"'), 'nonce="0A8D" maxItems="-1" fragment="final"'));
    expect(m).toEqual({ nonce: '0A8D', maxItems: -1, fragment: 'final', reason: 'reply-to', action: 'WriteItems', status: 'busy', items: [] });
  });

  it('reads a single Item as a one-element list', () => {
    expect(parseWorkpointMessage(wpm(`${rfc('clean-up')}<ItemList><Item name="cleanup-reason">password retries exceeded</Item></ItemList>`)).items).toEqual([
      { name: 'cleanup-reason', value: 'password retries exceeded' },
    ]);
  });
});

describe('parseWorkpointMessage: namespaces', () => {
  const body = `<Message nonce="${NONCE_HEX32}" maxItems="-1"><ReasonForContact>start-up</ReasonForContact><ItemList><Item name="mac-addr">00:01:E3:24:77:0B</Item></ItemList></Message>`;
  const expected: WorkpointMessage = {
    nonce: NONCE_HEX32,
    maxItems: -1,
    reason: 'start-up',
    items: [{ name: 'mac-addr', value: '00:01:E3:24:77:0B' }],
  };

  it('accepts the default DLS namespace', () => {
    expect(parseWorkpointMessage(`<WorkpointMessage xmlns="http://www.siemens.com/DLS">${body}</WorkpointMessage>`)).toEqual(expected);
  });

  it('accepts the namespace declarations in the opposite order (as some examples print them)', () => {
    expect(
      parseWorkpointMessage(
        `<WorkpointMessage xsi:schemaLocation="http://www.siemens.com/DLS" xmlns="http://www.siemens.com/DLS" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">${body}</WorkpointMessage>`,
      ),
    ).toEqual(expected);
  });

  it('accepts a prefixed namespace', () => {
    const prefixed =
      '<x:WorkpointMessage xmlns:x="http://www.siemens.com/DLS">' +
      `<x:Message nonce="${NONCE_HEX32}" maxItems="-1"><x:ReasonForContact>start-up</x:ReasonForContact>` +
      '<x:ItemList><x:Item name="mac-addr">00:01:E3:24:77:0B</x:Item></x:ItemList></x:Message></x:WorkpointMessage>';
    expect(parseWorkpointMessage(prefixed)).toEqual(expected);
  });

  it('accepts the wrong p.34 namespace http://mydomain/provisioning', () => {
    expect(
      parseWorkpointMessage(
        `<WorkpointMessage xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://mydomain/provisioning" xsi:schemaLocation="http://mydomain/provisioning">${body}</WorkpointMessage>`,
      ),
    ).toEqual(expected);
  });

  it('accepts no namespace at all', () => {
    expect(parseWorkpointMessage(`<WorkpointMessage>${body}</WorkpointMessage>`)).toEqual(expected);
  });

  it('accepts a document without XML declaration, with comments, and with a BOM', () => {
    expect(parseWorkpointMessage(`<!-- from phone -->\n<WorkpointMessage>${body}</WorkpointMessage>\n`)).toEqual(expected);
    expect(parseWorkpointMessage(`\uFEFF<?xml version="1.0" encoding="UTF-8"?><WorkpointMessage>${body}</WorkpointMessage>`)).toEqual(expected);
    const bomBytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`<WorkpointMessage>${body}</WorkpointMessage>`)]);
    expect(parseWorkpointMessage(bomBytes)).toEqual(expected);
  });
});

describe('parseWorkpointMessage: realistic messages', () => {
  // In the spirit of the start-up example, manual p.33.
  const startUp = `<?xml version="1.0" encoding="UTF-8"?>
<WorkpointMessage xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xmlns="http://www.siemens.com/DLS" xsi:schemaLocation="http://www.siemens.com/DLS">
  <Message nonce="2253A404241C11D774122654989181BC" maxItems="-1">
    <ReasonForContact>start-up</ReasonForContact>
    <ItemList>
      <Item name="device-type">OpenStage 60</Item>
      <Item name="related-device-type">OpenStage 60</Item>
      <Item name="software-type">Siemens SIP</Item>
      <Item name="related-software-type">Siemens SIP</Item>
      <Item name="contact-me-uri">
        http://192.168.1.103:8085/contact_dls.html/ContactDLS
      </Item>
      <Item name="mac-addr">00:01:E3:24:77:0B</Item>
      <Item name="software-version">V1 R4.9.0</Item>
      <Item name="related-software-version">V1 R4.9.0</Item>
      <Item name="gigabit-ethernet" status="failed"></Item>
      <Item name="configuration-changed-flag">false</Item>
      <Item name="part-number">S30817-S7403-A101-015</Item>
      <Item name="sip-mobility-state">0</Item>
      <Item name="e164">49897223290</Item>
      <Item name="user-pwd">123456</Item>
      <Item name="user-pwd-unicode" status="failed"/>
      <Item name="basic-e164">49897223290</Item>
      <Item name="mobility-enabled">false</Item>
    </ItemList>
  </Message>
</WorkpointMessage>
`;

  it('parses a start-up message with the minimum items and failed items', () => {
    expect(parseWorkpointMessage(startUp)).toEqual({
      nonce: '2253A404241C11D774122654989181BC',
      maxItems: -1,
      reason: 'start-up',
      items: [
        { name: 'device-type', value: 'OpenStage 60' },
        { name: 'related-device-type', value: 'OpenStage 60' },
        { name: 'software-type', value: 'Siemens SIP' },
        { name: 'related-software-type', value: 'Siemens SIP' },
        { name: 'contact-me-uri', value: 'http://192.168.1.103:8085/contact_dls.html/ContactDLS' },
        { name: 'mac-addr', value: '00:01:E3:24:77:0B' },
        { name: 'software-version', value: 'V1 R4.9.0' },
        { name: 'related-software-version', value: 'V1 R4.9.0' },
        { name: 'gigabit-ethernet', value: '', status: 'failed' },
        { name: 'configuration-changed-flag', value: 'false' },
        { name: 'part-number', value: 'S30817-S7403-A101-015' },
        { name: 'sip-mobility-state', value: '0' },
        { name: 'e164', value: '49897223290' },
        { name: 'user-pwd', value: '123456' },
        { name: 'user-pwd-unicode', value: '', status: 'failed' },
        { name: 'basic-e164', value: '49897223290' },
        { name: 'mobility-enabled', value: 'false' },
      ],
    });
  });

  it('gives the same result for a Buffer, a Uint8Array and a string', () => {
    const fromString = parseWorkpointMessage(startUp);
    expect(parseWorkpointMessage(Buffer.from(startUp, 'utf8'))).toEqual(fromString);
    expect(parseWorkpointMessage(new TextEncoder().encode(startUp))).toEqual(fromString);
  });

  it('parses a status message after file deployment with indexed items', () => {
    const m = parseWorkpointMessage(
      wpm(
        `${rfc('status')}<ItemList>` +
          '<Item name="file-deployment-status" index="1">ok</Item>' +
          '<Item name="file-deployment-date" index="1">10:06:2008</Item>' +
          '<Item name="file-deployment-time" index="1">15:35:52</Item>' +
          '<Item name="file-deployment-name" index="1">Logo for OpenStage 80.png</Item>' +
          '<Item name="file-deployment-type" index="1">LOGO</Item>' +
          '</ItemList>',
        'nonce="B015E7F2" maxItems="-1" fragment="final"',
      ),
    );
    expect(m.reason).toBe('status');
    expect(m.fragment).toBe('final');
    expect(m.items.every((i) => i.index === 1)).toBe(true);
    expect(m.items[3].value).toBe('Logo for OpenStage 80.png');
  });

  it('parses an accepted reply with per-item errors (manual p.78–83)', () => {
    const m = parseWorkpointMessage(
      wpm(
        `${rfc('reply-to', ' status="accepted" action="WriteItems"')}<ItemList>` +
          '<Item name="socketed-headset-mode" status="unknown item"></Item>' +
          '<Item name="device-type" status="read only">OpenStage 40</Item>' +
          '<Item name="Canonical-lookup-local-code" index="6" status="invalid index">89</Item>' +
          '</ItemList>',
        'nonce="71E7AB" maxItems="-1" fragment="final"',
      ),
    );
    expect(m.items).toEqual([
      { name: 'socketed-headset-mode', value: '', status: 'unknown item' },
      { name: 'device-type', value: 'OpenStage 40', status: 'read only' },
      { name: 'Canonical-lookup-local-code', index: 6, value: '89', status: 'invalid index' },
    ]);
  });

  it('decodes UTF-8 umlauts and other non-ASCII text from bytes and strings alike', () => {
    const text = 'Müller, Größe, Ärger, Öl, Übung, 3 €, 😀';
    const doc = wpm(`${rfc('local-changes')}<ItemList><Item name="display-id-unicode">${text}</Item></ItemList>`);
    expect(parseWorkpointMessage(doc).items[0].value).toBe(text);
    expect(parseWorkpointMessage(Buffer.from(doc, 'utf8')).items[0].value).toBe(text);
  });
});

describe('parseDLSMessage', () => {
  it.each(ACTION_VALUES)('accepts Action %s', (action) => {
    const m = parseDLSMessage(dlsm(`<Action>${action}</Action><ItemList/>`));
    expect(m).toEqual({ nonce: NONCE_HEX32, action, items: [] });
  });

  it('reads a ReadItems request with empty item values and indexes', () => {
    const m = parseDLSMessage(
      dlsm('<Action>\n  ReadItems\n</Action><ItemList><Item name="wbm-server-certificate-info"></Item><Item name="dls-server-ca" index="0"/></ItemList>', `nonce="${NONCE_LOWER23}"`),
    );
    expect(m).toEqual({
      nonce: NONCE_LOWER23,
      action: 'ReadItems',
      items: [
        { name: 'wbm-server-certificate-info', value: '' },
        { name: 'dls-server-ca', index: 0, value: '' },
      ],
    });
  });

  it('accepts a DLSMessage without ItemList (e.g. GetNextFragment)', () => {
    expect(parseDLSMessage(dlsm('<Action>GetNextFragment</Action>')).items).toEqual([]);
  });

  it('reads a CleanUp with send-solicited and a factory reset Restart', () => {
    expect(parseDLSMessage(dlsm('<Action>CleanUp</Action><ItemList><Item name="send-solicited">true</Item></ItemList>')).items).toEqual([
      { name: 'send-solicited', value: 'true' },
    ]);
    expect(
      parseDLSMessage(dlsm('<Action>Restart</Action><ItemList><Item name="restart-password">124816</Item><Item name="restart-type">FactoryReset</Item></ItemList>'))
        .items,
    ).toEqual([
      { name: 'restart-password', value: '124816' },
      { name: 'restart-type', value: 'FactoryReset' },
    ]);
  });

  it.each(['Reboot', 'readallitems', 'Read All Items', 'WriteItem'])('refuses unknown Action %s', (action) => {
    expectRefusal(() => parseDLSMessage(dlsm(`<Action>${action}</Action>`)), 'unknown-action', /unknown Action/);
  });

  it('refuses a missing or empty Action', () => {
    expectRefusal(() => parseDLSMessage(dlsm('<ItemList/>')), 'no-action', /Action/);
    expectRefusal(() => parseDLSMessage(dlsm('<Action/><ItemList/>')), 'no-action', /Action/);
    expectRefusal(() => parseDLSMessage(dlsm('<Action>  </Action>')), 'no-action', /Action/);
  });

  it('refuses a duplicated Action', () => {
    expectRefusal(() => parseDLSMessage(dlsm('<Action>Restart</Action><Action>CleanUp</Action>')), 'duplicate-element', /Action.*more than once/);
  });

  it('refuses a DLSMessage without nonce', () => {
    expectRefusal(() => parseDLSMessage(dlsm('<Action>CleanUp</Action>', 'id="x"')), 'no-nonce', /nonce/);
  });

  it('refuses a WorkpointMessage', () => {
    expectRefusal(() => parseDLSMessage(wpm(rfc('start-up'))), 'wrong-root', /WorkpointMessage.*DLSMessage/);
  });
});

describe('names that are also JavaScript property names', () => {
  it('reads elements and attributes called __proto__, constructor or toString as names: nothing inherited, nothing polluted', () => {
    const m = parseWorkpointMessage(
      wpm(
        `<__proto__ polluted="yes"><constructor/></__proto__><toString>x</toString>${rfc('status', ' __proto__="a" constructor="b"')}` +
          `<ItemList><Item name="constructor" __proto__="p">v1</Item><Item name="__proto__" hasOwnProperty="h">v2</Item><Item name="toString">v3</Item></ItemList>`,
      ),
    );
    expect(m.reason).toBe('status');
    expect(m.action).toBeUndefined();
    expect(m.items).toEqual([
      { name: 'constructor', value: 'v1' },
      { name: '__proto__', value: 'v2' },
      { name: 'toString', value: 'v3' },
    ]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('keeps each as an element of its own in the tree: an own property, one node, never a prototype or an inherited value', () => {
    // With plain objects, parent.__proto__ = node would replace the parent's prototype (and lose the
    // element), and constructor, toString… would read as already present, so the element would
    // become a list [inherited function, node].
    const r = parseXml('<r><__proto__ a="1"/><constructor/><toString/><valueOf>v</valueOf><hasOwnProperty/></r>').r as XmlNode;
    const names = ['__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty'];
    expect(Object.keys(r)).toEqual([...names, '#text']);
    for (const name of names) expect(Array.isArray(r[name]) || typeof r[name] !== 'object', name).toBe(false);
    expect({ ...(r['__proto__'] as XmlNode)['@'] }).toEqual({ a: '1' });
    expect((r.valueOf as unknown as XmlNode)['#text']).toBe('v');
    expect(Object.getPrototypeOf(Object.getPrototypeOf(r))).toBeNull();
    expectRefusal(() => parseWorkpointMessage(`<__proto__><WorkpointMessage/></__proto__>`), 'wrong-root', /root element is __proto__/);
    expectRefusal(() => parseWorkpointMessage(wpm(`<__proto__>${rfc('status')}</__proto__>`)), 'no-reason', /no ReasonForContact/);
  });
});
