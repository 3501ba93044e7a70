/**
 * Everything the codec refuses: each case asserts the WpiError code and that the message is one
 * line naming the problem.
 */
import { describe, expect, it } from 'vitest';
import { WpiError, buildWorkpointMessage, parseDLSMessage, parseWorkpointMessage } from '../../src/main/wpi';
import { catchWpi, dlsm, expectRefusal, wpm } from './helpers';

const RFC = '<ReasonForContact>start-up</ReasonForContact>';
const items = (xml: string) => wpm(`${RFC}<ItemList>${xml}</ItemList>`);

describe('empty and undecodable bodies', () => {
  it.each([
    ['empty string', ''],
    ['empty Buffer', Buffer.alloc(0)],
    ['empty Uint8Array', new Uint8Array(0)],
    ['whitespace string', '  \r\n\t '],
    ['whitespace bytes', Buffer.from('\n\n   \n')],
  ])('refuses an %s as empty', (_label, body) => {
    expectRefusal(() => parseWorkpointMessage(body), 'empty', /empty/);
    expectRefusal(() => parseDLSMessage(body), 'empty', /empty/);
  });

  it.each([
    ['a lone 0xFF byte', [0xff]],
    ['Latin-1 encoded ü', [...Buffer.from('<WorkpointMessage><Message nonce="a">M'), 0xfc, ...Buffer.from('ller</Message></WorkpointMessage>')]],
    ['an overlong encoding of /', [0x3c, 0xc0, 0xaf, 0x3e]],
    ['a truncated 3-byte sequence', [0x3c, 0x61, 0x3e, 0xe2, 0x82]],
    ['an encoded UTF-16 surrogate', [0x3c, 0x61, 0x3e, 0xed, 0xa0, 0x80]],
    ['UTF-16LE text', [...Buffer.from('<a>x</a>', 'utf16le'), 0x00, 0xd8]],
  ])('refuses %s as not UTF-8', (_label, bytes) => {
    expectRefusal(() => parseWorkpointMessage(Uint8Array.from(bytes)), 'not-utf8', /UTF-8/);
  });

  it('refuses a whole Latin-1 encoded message even though it declares its encoding', () => {
    const latin1 = Buffer.from(
      '<?xml version="1.0" encoding="ISO-8859-1"?>' + wpm(`${RFC}<ItemList><Item name="display-id">Müller</Item></ItemList>`).replace(/^<\?xml[^>]*>/, ''),
      'latin1',
    );
    expectRefusal(() => parseWorkpointMessage(latin1), 'not-utf8', /UTF-8/);
  });
});

describe('not XML', () => {
  it.each([
    ['plain text', 'hello world'],
    ['JSON', '{"nonce":"abc","reason":"start-up"}'],
    ['an HTTP request line', 'GET /DeploymentService/LoginService HTTP/1.1'],
    ['a form body', 'nonce=abc&reason=start-up'],
    ['a bare XML declaration', '<?xml version="1.0" encoding="UTF-8"?>'],
  ])('refuses %s', (_label, body) => {
    expectRefusal(() => parseWorkpointMessage(body), 'not-xml', /XML/);
  });

  it.each([
    ['an unclosed root', '<WorkpointMessage><Message nonce="a"><ReasonForContact>start-up</ReasonForContact></Message>'],
    ['mismatched tags', '<WorkpointMessage><Message nonce="a"></ReasonForContact></WorkpointMessage>'],
    ['a truncated document', wpm(RFC).slice(0, 120)],
    ['an unquoted attribute', '<WorkpointMessage><Message nonce=abc><ReasonForContact>start-up</ReasonForContact></Message></WorkpointMessage>'],
    ['a repeated attribute', '<WorkpointMessage><Message nonce="a" nonce="b"><ReasonForContact>start-up</ReasonForContact></Message></WorkpointMessage>'],
    ['a bare ampersand in a value', items('<Item name="a">Tom & Jerry</Item>')],
    ['the manual p.64 typo <Item ... index="1"</Item>', items('<Item name="dls-server-ca" index="1"</Item>')],
    ['the manual p.54 typo </Item', items('<Item name="file-name">x</Item')],
    ['HTML with a void element', '<html><body>Login<br></body></html>'],
  ])('refuses %s as not well-formed', (_label, body) => {
    expectRefusal(() => parseWorkpointMessage(body), 'not-xml', /not well-formed XML/);
  });
});

describe('DTDs and entity declarations', () => {
  const billionLaughs = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<WorkpointMessage><Message nonce="a"><ReasonForContact>start-up</ReasonForContact>
<ItemList><Item name="x">&lol3;</Item></ItemList></Message></WorkpointMessage>`;

  it.each([
    ['billion laughs', billionLaughs],
    ['an external entity (XXE)', '<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>' + items('<Item name="x">&xxe;</Item>')],
    ['a plain DOCTYPE', '<!DOCTYPE WorkpointMessage>' + wpm(RFC).replace(/^<\?xml[^>]*>/, '')],
    ['a lower-case doctype (HTML page)', '<!doctype html><html><head><title>Login</title></head><body></body></html>'],
    ['an ENTITY declaration without DOCTYPE', '<!ENTITY x "y">' + wpm(RFC)],
  ])('refuses %s', (_label, body) => {
    expectRefusal(() => parseWorkpointMessage(body), 'doctype', /DOCTYPE|entity/i);
    expectRefusal(() => parseDLSMessage(body), 'doctype', /DOCTYPE|entity/i);
  });

  it('refuses billion laughs given as bytes', () => {
    expectRefusal(() => parseWorkpointMessage(Buffer.from(billionLaughs)), 'doctype', /DOCTYPE|entity/i);
  });
});

describe('wrong root', () => {
  it('refuses a DLSMessage given to parseWorkpointMessage', () => {
    expectRefusal(() => parseWorkpointMessage(dlsm('<Action>ReadAllItems</Action>')), 'wrong-root', /DLSMessage.*WorkpointMessage/);
  });

  it('refuses an HTML page (no DOCTYPE) and names its root', () => {
    const html = '<html><head><title>Login</title></head><body><p>Please log in</p></body></html>';
    expectRefusal(() => parseWorkpointMessage(html), 'wrong-root', /html.*WorkpointMessage/);
  });

  it('refuses a root in the wrong case and a SOAP envelope', () => {
    expectRefusal(
      () => parseWorkpointMessage('<workpointmessage><Message nonce="a">' + RFC + '</Message></workpointmessage>'),
      'wrong-root',
      /workpointmessage/,
    );
    expectRefusal(
      () => parseWorkpointMessage('<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body/></soap:Envelope>'),
      'wrong-root',
      /Envelope/,
    );
  });

  it('refuses a second root element after the message', () => {
    const err = catchWpi(() => parseWorkpointMessage(wpm(RFC) + '<extra/>'));
    expect(['wrong-root', 'not-xml']).toContain(err.code);
    expect(err.message).not.toMatch(/[\r\n]/);
  });

  it('clips a very long root name to keep the message short', () => {
    const name = 'R'.repeat(500);
    const err = expectRefusal(() => parseWorkpointMessage(`<${name}/>`), 'wrong-root', /RRRR/);
    expect(err.message.length).toBeLessThan(200);
  });
});

describe('Message', () => {
  it.each([
    ['an empty root', '<WorkpointMessage/>'],
    ['a root with only text', '<WorkpointMessage>start-up</WorkpointMessage>'],
    ['a misspelled Message', `<WorkpointMessage><Messages nonce="a">${RFC}</Messages></WorkpointMessage>`],
    ['ReasonForContact directly under the root', `<WorkpointMessage>${RFC}</WorkpointMessage>`],
  ])('refuses %s as missing Message', (_label, body) => {
    expectRefusal(() => parseWorkpointMessage(body), 'no-message', /Message/);
  });

  it('refuses a DLSMessage without Message', () => {
    expectRefusal(() => parseDLSMessage('<DLSMessage xmlns="http://www.siemens.com/DLS"><Action>CleanUp</Action></DLSMessage>'), 'no-message', /Message/);
  });

  it('refuses a duplicated Message', () => {
    const twice = `<WorkpointMessage><Message nonce="a">${RFC}</Message><Message nonce="b">${RFC}</Message></WorkpointMessage>`;
    expectRefusal(() => parseWorkpointMessage(twice), 'duplicate-element', /Message.*more than once/);
  });

  it('refuses a duplicated ReasonForContact or ItemList', () => {
    expectRefusal(() => parseWorkpointMessage(wpm(RFC + RFC)), 'duplicate-element', /ReasonForContact.*more than once/);
    expectRefusal(() => parseWorkpointMessage(wpm(`${RFC}<ItemList/><ItemList/>`)), 'duplicate-element', /ItemList.*more than once/);
  });
});

describe('nonce', () => {
  it('refuses a missing nonce', () => {
    expectRefusal(() => parseWorkpointMessage(wpm(RFC, 'maxItems="-1"')), 'no-nonce', /nonce/);
  });

  it('reads a reference to an ordinary character in the nonce as that character, as the phone\'s parser does', () => {
    // The phone compares the value it reads back; "ABC" written plainly reads as the same value.
    expect(parseWorkpointMessage(wpm(RFC, 'nonce="&#65;BC"')).nonce).toBe('ABC');
    expect(parseWorkpointMessage(wpm(RFC, 'dls:nonce="&#x41;BC"')).nonce).toBe('ABC');
  });

  it('refuses an empty or whitespace-only nonce', () => {
    expectRefusal(() => parseWorkpointMessage(wpm(RFC, 'nonce="" maxItems="-1"')), 'no-nonce', /nonce/);
    expectRefusal(() => parseWorkpointMessage(wpm(RFC, 'nonce="   " maxItems="-1"')), 'no-nonce', /nonce/);
  });

  it.each([
    ['an escaped ampersand', 'nonce="ab&amp;cd"'],
    ['an escaped less-than', 'nonce="ab&lt;cd"'],
    ['an escaped quote', 'nonce="ab&quot;cd"'],
    ['a raw double quote (single-quoted attribute)', `nonce='ab"cd'`],
    ['a raw apostrophe', `nonce="ab'cd"`],
    ['a raw greater-than', 'nonce="ab>cd"'],
    ['a space', 'nonce="ab cd"'],
    ['a tab', 'nonce="ab&#9;cd"'],
    ['non-ASCII', 'nonce="äbc"'],
    ['257 characters', `nonce="${'A'.repeat(257)}"`],
    ['4096 characters', `nonce="${'f'.repeat(4096)}"`],
  ])('refuses a nonce with %s', (_label, attr) => {
    const err = expectRefusal(() => parseWorkpointMessage(wpm(RFC, attr)), 'bad-nonce', /nonce/);
    // The message must not echo a huge or hostile nonce.
    expect(err.message.length).toBeLessThan(200);
  });

  it('accepts exactly 256 characters', () => {
    expect(parseWorkpointMessage(wpm(RFC, `nonce="${'A'.repeat(256)}"`)).nonce).toHaveLength(256);
  });

  it('applies the same rules to DLSMessage', () => {
    expectRefusal(() => parseDLSMessage(dlsm('<Action>CleanUp</Action>', 'nonce=""')), 'no-nonce', /nonce/);
    expectRefusal(() => parseDLSMessage(dlsm('<Action>CleanUp</Action>', `nonce="${'A'.repeat(257)}"`)), 'bad-nonce', /nonce/);
  });
});

describe('ReasonForContact', () => {
  it('refuses a missing ReasonForContact', () => {
    expectRefusal(() => parseWorkpointMessage(wpm('<ItemList/>')), 'no-reason', /ReasonForContact/);
  });

  it.each(['<ReasonForContact/>', '<ReasonForContact></ReasonForContact>', '<ReasonForContact>\n  \t</ReasonForContact>', '<ReasonForContact action="WriteItems" status="busy"/>'])(
    'refuses an empty ReasonForContact: %s',
    (xml) => {
      expectRefusal(() => parseWorkpointMessage(wpm(xml)), 'no-reason', /ReasonForContact.*empty/);
    },
  );

  it.each(['reboot', 'Start-Up', 'startup', 'start up', 'reply_to', 'REPLY-TO', 'cleanup'])('refuses unknown ReasonForContact %s and quotes it', (reason) => {
    expectRefusal(() => parseWorkpointMessage(wpm(`<ReasonForContact>${reason}</ReasonForContact>`)), 'unknown-reason', new RegExp(`unknown ReasonForContact.*${reason}`));
  });

  it('keeps the message one line and short for a long multi-line reason', () => {
    const reason = 'start-up\n'.repeat(100);
    const err = expectRefusal(() => parseWorkpointMessage(wpm(`<ReasonForContact>${reason}</ReasonForContact>`)), 'unknown-reason', /unknown ReasonForContact/);
    expect(err.message.length).toBeLessThan(200);
  });
});

describe('Item attributes', () => {
  it('refuses an Item without name and says which one', () => {
    expectRefusal(
      () => parseWorkpointMessage(items('<Item name="mac-addr">00:01:E3:24:77:0B</Item><Item index="1">orphan</Item>')),
      'item-without-name',
      /Item 2 .*name/,
    );
  });

  it.each(['<Item name="">v</Item>', '<Item name="   ">v</Item>', '<Item status="failed"/>', '<Item>v</Item>'])('refuses a nameless Item: %s', (xml) => {
    expectRefusal(() => parseWorkpointMessage(items(xml)), 'item-without-name', /name/);
  });

  it('refuses a nameless Item in a DLSMessage too', () => {
    expectRefusal(() => parseDLSMessage(dlsm('<Action>ReadItems</Action><ItemList><Item/></ItemList>')), 'item-without-name', /name/);
  });

  it.each(['-1', '-10', 'abc', '1.5', '1e3', '0x10', '+1', '1 2', 'one', '12345678901'])('refuses index="%s"', (index) => {
    expectRefusal(() => parseWorkpointMessage(items(`<Item name="file-name" index="${index}">x</Item>`)), 'bad-index', /index.*file-name/);
  });

  it('refuses a bad index in a DLSMessage too', () => {
    expectRefusal(() => parseDLSMessage(dlsm('<Action>WriteItems</Action><ItemList><Item name="x" index="-3">v</Item></ItemList>')), 'bad-index', /index/);
  });
});

describe('Message attributes', () => {
  it.each(['last', 'NEXT', 'Final', 'true', '1', ''])('refuses fragment="%s" on Message', (fragment) => {
    expectRefusal(() => parseWorkpointMessage(wpm(RFC, `nonce="a" fragment="${fragment}"`)), 'bad-attribute', /fragment/);
  });

  it('refuses a bad fragment on ReasonForContact', () => {
    expectRefusal(
      () => parseWorkpointMessage(wpm('<ReasonForContact fragment="more">reply-to</ReasonForContact>', 'nonce="a"')),
      'bad-attribute',
      /fragment.*more/,
    );
  });

  it.each(['-2', 'many', '1.5', '', 'unlimited'])('refuses maxItems="%s"', (maxItems) => {
    expectRefusal(() => parseWorkpointMessage(wpm(RFC, `nonce="a" maxItems="${maxItems}"`)), 'bad-attribute', /maxItems/);
  });
});

describe('nesting', () => {
  it.each([100, 5000])('refuses %d levels of nesting inside an Item', (depth) => {
    const deep = items(`<Item name="x">${'<a>'.repeat(depth)}${'</a>'.repeat(depth)}</Item>`);
    expectRefusal(() => parseWorkpointMessage(deep), 'too-deep', /nested|deep/);
  });

  it('refuses thousands of nested roots-like elements given as bytes', () => {
    const deep = Buffer.from(`<WorkpointMessage>${'<Message>'.repeat(3000)}${'</Message>'.repeat(3000)}</WorkpointMessage>`);
    expectRefusal(() => parseWorkpointMessage(deep), 'too-deep', /nested|deep/);
  });

  it('still accepts the normal four or five levels', () => {
    expect(parseWorkpointMessage(items('<Item name="x">v</Item>')).items).toEqual([{ name: 'x', value: 'v' }]);
  });
});

describe('robustness', () => {
  // Deterministic mutations of a valid message: the codec must either parse or refuse with a
  // WpiError whose message is one line; it must never throw anything else.
  it('throws only one-line WpiErrors for mangled messages', () => {
    const base = buildWorkpointMessage({
      nonce: '2253A404241C11D774122654989181BC',
      maxItems: -1,
      fragment: 'final',
      reason: 'reply-to',
      action: 'ReadAllItems',
      status: 'accepted',
      items: [
        { name: 'mac-addr', value: '00:01:E3:24:77:0B' },
        { name: 'file-name', index: 0, value: 'Logo für "80" & <more>' },
        { name: 'gigabit-ethernet', value: '', status: 'failed' },
      ],
    });
    let seed = 20240611;
    const rnd = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
      return seed % n;
    };
    const junk = ['<', '>', '&', '"', "'", '\n', ' ', '/', '=', '<!--', ']]>', '<![CDATA[', '\r\n', '?', '!', '&#0;', '<a>', '</Item>', '<Item>'];
    const outcomes = { parsed: 0, refused: 0 };
    for (let i = 0; i < 3000; i++) {
      let s = base;
      for (let j = 0, k = 1 + rnd(3); j < k; j++) {
        const pos = rnd(s.length);
        const op = rnd(3);
        if (op === 0) s = s.slice(0, pos) + s.slice(pos + 1 + rnd(5));
        else if (op === 1) s = s.slice(0, pos) + junk[rnd(junk.length)] + s.slice(pos);
        else {
          const from = rnd(s.length);
          s = s.slice(0, pos) + s.slice(from, from + rnd(20)) + s.slice(pos);
        }
      }
      for (const parse of [parseWorkpointMessage, parseDLSMessage]) {
        try {
          parse(s);
          outcomes.parsed++;
        } catch (err) {
          if (!(err instanceof WpiError)) throw new Error(`non-WpiError ${String(err)} for ${JSON.stringify(s)}`);
          if (/[\r\n]/.test(err.message)) throw new Error(`multi-line message ${JSON.stringify(err.message)}`);
          outcomes.refused++;
        }
      }
    }
    expect(outcomes.refused).toBeGreaterThan(0);
    expect(outcomes.parsed + outcomes.refused).toBe(6000);
  });
});
