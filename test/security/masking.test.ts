/**
 * The one masking rule (src/shared/secrets.ts) against every way XML can carry a value, and the
 * storage rule (src/main/app/redact.ts) that keeps key material and TANs out of the database. Each
 * case is checked against the codec: what the parser reads as a secret value must be masked.
 */
import { XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { isUtf8 } from 'node:buffer';
import { decodeEscaped, encodeEscaped } from '../../src/main/app/escaped-utf8';
import { isNeverStored, mayHoldNeverStored, redactForStorage, redactItemsForStorage } from '../../src/main/app/redact';
import { parseWorkpointMessage } from '../../src/main/wpi';
import { writeItemProblem } from '../../src/shared/item-rules';
import { isSecretItem, MASK, maskItemValue, maskSecretsInXml, maskUrlPasswords } from '../../src/shared/secrets';
import { FlowHarness } from '../support/handler';
import { startUpItems } from '../support/messages';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();
const SECRET = 'S3cr3t-Value';
const wrap = (items: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<WorkpointMessage xmlns="http://www.siemens.com/DLS"><Message nonce="4E4F4E4345" maxItems="-1"><ReasonForContact>start-up</ReasonForContact><ItemList>${items}<Item name="sntp-addr">pool.ntp.org</Item></ItemList></Message></WorkpointMessage>`;

/** Item spellings a parser reads as a secret item with value SECRET. */
const SPELLINGS: [string, string][] = [
  ['plain', `<Item name="user-pwd">${SECRET}</Item>`],
  ['single quotes', `<Item name='user-pwd'>${SECRET}</Item>`],
  ['index before name', `<Item index="1" name="sip-pwd">${SECRET}</Item>`],
  ['spaces around =', `<Item  name = "user-pwd" >${SECRET}</Item>`],
  ['CDATA section', `<Item name="user-pwd"><![CDATA[${SECRET}]]></Item>`],
  ['CDATA holding an end tag', `<Item name="user-pwd"><![CDATA[x</Item>${SECRET}]]></Item>`],
  ['comment inside the value', `<Item name="user-pwd">S3cr<!-- -->3t-Value</Item>`],
  ['comment before the value', `<Item name="user-pwd"><!-- note -->${SECRET}</Item>`],
  ['name as character references', `<Item name="user-&#x70;&#119;d">${SECRET}</Item>`],
  ['name with surrounding blanks', `<Item name=" restart-password ">${SECRET}</Item>`],
  ['name in upper case', `<Item name="USER-PWD">${SECRET}</Item>`],
  ['">" inside another attribute', `<Item status="a>b" name="user-pwd">${SECRET}</Item>`],
  ['namespace prefix on the element', `<d:Item xmlns:d="http://www.siemens.com/DLS" name="user-pwd">${SECRET}</d:Item>`],
  ['namespace prefix on the name', `<Item d:name="user-pwd">${SECRET}</Item>`],
  ['non-ASCII prefixes on the element and the name', `<é:Item xmlns:é="urn:x" é:name="user-pwd">${SECRET}</é:Item>`],
  ['an empty prefix', `<:Item :name="user-pwd">${SECRET}</:Item>`],
  ['a prefix holding U+1680 (a name character to XML, a blank to \\s)', `<a\u1680:Item name="user-pwd">${SECRET}</a\u1680:Item>`],
  ['a prefix holding U+FEFF', `<a\uFEFF:Item name="user-pwd">${SECRET}</a\uFEFF:Item>`],
  ['an Item inside the value', `<Item name="user-pwd"><Item name="e164">1</Item>${SECRET}</Item>`],
  ['an end tag in a CDATA section of an element inside', `<Item name="user-pwd"><b><![CDATA[</Item>]]></b>${SECRET}</Item>`],
  ['an end tag in a comment inside an element inside', `<Item name="user-pwd"><b><!--</Item>--></b>${SECRET}</Item>`],
  ['value with entities', `<Item name="user-pwd">S3cr3t&#45;Value</Item>`],
  ['send-url-passwd', `<Item name="send-url-passwd" index="2">${SECRET}</Item>`],
  ['key container', `<Item name="dls-client-certificate">${SECRET}</Item>`],
  ['PIN status value', `<Item name="cloud-pin-value">${SECRET}</Item>`],
];

describe('maskSecretsInXml', () => {
  for (const [what, item] of SPELLINGS) {
    it(`masks a secret written with ${what}`, () => {
      const xml = wrap(item);
      // The codec reads a secret item here (so a leak would be a real one) …
      const parsed = parseWorkpointMessage(xml).items.filter((i) => isSecretItem(i.name));
      expect(parsed.length).toBe(1);
      expect(parsed[0]!.value).toContain(SECRET);
      // … and the masked text holds nothing of its value, parses, and keeps everything else.
      const masked = maskSecretsInXml(xml);
      expect(masked).not.toContain('S3cr');
      expect(masked).not.toContain('Value');
      const again = parseWorkpointMessage(masked);
      expect(again.items.find((i) => isSecretItem(i.name))?.value).toBe(MASK);
      expect(again.items.find((i) => i.name === 'sntp-addr')?.value).toBe('pool.ntp.org');
    });
  }

  it('a tag with two names (one with a prefix) is refused by the codec, and masked whichever of them is secret', () => {
    for (const item of [
      `<Item name="e164" x:name="user-pwd">${SECRET}</Item>`,
      `<Item x:name="user-pwd" name="e164">${SECRET}</Item>`,
      `<Item é:name="e164" name="user-pwd">${SECRET}</Item>`,
      `<é:Item name="e164" é:name="user-pwd">${SECRET}</é:Item>`,
    ]) {
      expect(() => parseWorkpointMessage(wrap(item)), item).toThrow(/has the attribute name twice/);
      expect(maskSecretsInXml(wrap(item)), item).not.toContain('S3cr');
    }
    // The root's attributes are read by no one: two names there refuse nothing, on either path
    // (a comment sends a message to the general path, wpi/canonical.ts).
    for (const comment of ['', '<!-- general path -->']) {
      const root = wrap('').replace('<WorkpointMessage xmlns="http://www.siemens.com/DLS">', `<WorkpointMessage xmlns="http://www.siemens.com/DLS" xmlns:xsi="urn:x" xsi:schemaLocation="a" schemaLocation="b" name="c" x:name="d">${comment}`);
      expect(parseWorkpointMessage(root).items.map((i) => i.name)).toEqual(['sntp-addr']);
    }
  });

  it('masks broken XML too: an element inside the value, a missing end tag, an unquoted name', () => {
    expect(maskSecretsInXml(`<Item name="user-pwd">a<b>${SECRET}</b>c</Item><Item name="x">keep</Item>`)).toBe(`<Item name="user-pwd">${MASK}</Item><Item name="x">keep</Item>`);
    expect(maskSecretsInXml(`<Item name="user-pwd">${SECRET} and the rest`)).toBe(`<Item name="user-pwd">${MASK}`);
    expect(maskSecretsInXml(`<Item name=user-pwd>${SECRET}</Item>`)).toBe(`<Item name=user-pwd>${MASK}</Item>`);
  });

  it('masks an Item whose name is a reference no parser here resolves (an entity a DTD declares: it could name anything), helper-65', () => {
    const dtd = '<!DOCTYPE W [<!ENTITY p "admin-pwd">]>';
    expect(maskSecretsInXml(`${dtd}<W><Item name="&p;">${SECRET}</Item><Item name="sntp-addr">keep</Item></W>`)).toBe(`${dtd}<W><Item name="&p;">${MASK}</Item><Item name="sntp-addr">keep</Item></W>`);
    // With the never-stored rule too: a body declaring a key material name is stored without the value.
    expect(maskSecretsInXml(`<Item name="&k;">${SECRET}</Item>`, () => false)).toBe(`<Item name="&k;">${MASK}</Item>`);
  });

  it('leaves empty and self-closing secret items, other items and the rest of the text byte for byte', () => {
    const xml = wrap('<Item name="user-pwd"/><Item name="sip-pwd"></Item><Item name="ldap-pwd">  </Item><Item name="user-pwd-status">ok</Item><Items>x</Items>');
    expect(maskSecretsInXml(xml)).toBe(xml);
    expect(maskItemValue('user-pwd-status', 'suspended')).toBe('suspended');
    expect(maskItemValue('max-pin-retries', '3')).toBe('3');
  });
});

describe('passwords inside URLs', () => {
  it('are masked in raw XML and in the file items of jobs; stored as they are', () => {
    const xml = wrap(`<Item name="file-https-base-url">https://user:${SECRET}@files.example/logo.png</Item>`);
    expect(maskSecretsInXml(xml)).toContain(`https://user:${MASK}@files.example/logo.png`);
    expect(maskSecretsInXml(xml)).not.toContain(SECRET);
    expect(maskItemValue('file-https-base-url', `https://user:${SECRET}@files.example/x`)).toBe(`https://user:${MASK}@files.example/x`);
    expect(maskUrlPasswords(`ftp://u:${SECRET}@h/x https://h/x https://only-user@h/`)).toBe(`ftp://u:${MASK}@h/x https://h/x https://only-user@h/`);
    expect(Buffer.from(redactForStorage(Buffer.from(xml))).toString()).toBe(xml);
  });

  it('query values (pre-signed links) are masked too, their names kept; in XML text as well', () => {
    expect(maskUrlPasswords(`https://u:${SECRET}@127.0.0.9/fw.img?token=${SECRET}&v=2#part`)).toBe(`https://u:${MASK}@127.0.0.9/fw.img?token=${MASK}&v=${MASK}#part`);
    expect(maskUrlPasswords(`see ftp://h/x?${SECRET} and https://h/y?a=&b=${SECRET}`)).toBe(`see ftp://h/x?${MASK} and https://h/y?a=&b=${MASK}`);
    expect(maskUrlPasswords('a plain ?x=1 that is no URL, https://h/fw?')).toBe('a plain ?x=1 that is no URL, https://h/fw?');
    const xml = wrap(`<Item name="file-https-base-url">https://files.example/fw.img?X-Amz-Credential=${SECRET}&amp;X-Amz-Signature=${SECRET}</Item>`);
    expect(maskSecretsInXml(xml)).toContain(`https://files.example/fw.img?X-Amz-Credential=${MASK}&amp;X-Amz-Signature=${MASK}<`);
    expect(maskItemValue('file-https-base-url', `https://files.example/fw.img?token=${SECRET}`)).toBe(`https://files.example/fw.img?token=${MASK}`);
  });

  it('are read as a URL parser reads them: the password runs to the last @ and may hold quotes; `\\\\` is `//`; a query value keeps no quote (helper-67)', () => {
    const cases: [string, string][] = [
      ['https://admin:P@ssw0rd@files.example/', `https://admin:${MASK}@files.example/`],
      ['https://admin:@secret@files.example/', `https://admin:${MASK}@files.example/`],
      ["https://o'brien:secret@files.example/", `https://o'brien:${MASK}@files.example/`],
      ["https://admin:pa'ss\"w@files.example/", `https://admin:${MASK}@files.example/`],
      ["https://files.example/fw.img?token=ab'cdef", `https://files.example/fw.img?token=${MASK}`],
      ['https:\\\\admin:secret@files.example/', `https:\\\\admin:${MASK}@files.example/`],
      ['https://user@files.example:8443/x', 'https://user@files.example:8443/x'],
      ['https://u:@h/', 'https://u:@h/'],
    ];
    for (const [url, shown] of cases) {
      // What the WHATWG parser reads as the password and the query is what the mask covers.
      const parsed = new URL(url);
      if (parsed.password) expect(shown, url).not.toContain(decodeURIComponent(parsed.password));
      expect(maskItemValue('file-https-base-url', url), url).toBe(shown);
      expect(maskSecretsInXml(wrap(`<Item name="file-https-base-url">${url}</Item>`)), url).toContain(`>${shown}<`);
    }
    // Any item's URL, not only a file server's: the item table and exports show what the raw view shows.
    expect(maskItemValue('ldap-server-address', `ldap://cn=admin:${SECRET}@ldap.example/?q=${SECRET}`)).toBe(`ldap://cn=admin:${MASK}@ldap.example/?q=${MASK}`);
    expect(writeItemProblem({ name: 'XML-app-server-addr', index: 1, value: `https://u:${MASK}@apps.example/` })?.key).toBe('itemHoldsMask');
    expect(writeItemProblem({ name: 'XML-app-server-addr', index: 1, value: 'https://u:typed@apps.example/' })).toBeNull();
    // A quote that ends an attribute ends the URL in it, and so does the end of a CDATA section (helper-69).
    expect(maskUrlPasswords('<a href="see https://h/x?t=1" b="2">')).toBe(`<a href="see https://h/x?t=${MASK}" b="2">`);
    expect(maskUrlPasswords('<![CDATA[https://h/x?token=abc]]>')).toBe(`<![CDATA[https://h/x?token=${MASK}]]>`);
    // A scheme right after a digit or an underscore is a scheme still.
    expect(maskUrlPasswords(`1https://u:${SECRET}@h/ _https://u:${SECRET}@h/`)).toBe(`1https://u:${MASK}@h/ _https://u:${MASK}@h/`);
    // In an attribute the quote that opened the URL closes it.
    expect(maskUrlPasswords(`<a href="https://u:${SECRET}@h/?t=${SECRET}">`)).toBe(`<a href="https://u:${MASK}@h/?t=${MASK}">`);
  });
});

/** The item value an XML parser reads from `raw` (its text), in a message the codec takes. */
const parsedValue = (xml: string) => parseWorkpointMessage(xml).items.find((i) => i.name === 'XML-app-server-addr')?.value;
const appItem = (raw: string) => wrap(`<Item name="XML-app-server-addr">${raw}</Item>`);

describe('URL credentials WHATWG reads beyond `scheme://`', () => {
  it('a special scheme with any run of slashes and backslashes, none included, and a scheme-relative //: masked in item values, the raw view and free text', () => {
    const special = ['https:u:S3cr3t@h/', 'https:///u:S3cr3t@h/', 'https:/\\u:S3cr3t@h/', 'https:\\/u:S3cr3t@h/', 'https:\\u:S3cr3t@h/', 'HTTP:/u:S3cr3t@h/', 'ftp:u:S3cr3t@h/', 'ws:////u:S3cr3t@h/', 'wss:\\\\u:S3cr3t@h/', 'https:\t//u:S3cr3t@h/'];
    for (const url of special) {
      // What the WHATWG parser reads as the password …
      expect(new URL(url).password, url).toBe('S3cr3t');
      // … is masked in every view, the rest kept.
      const shown = url.replace('S3cr3t', MASK);
      expect(maskItemValue('XML-app-server-addr', url), url).toBe(shown);
      expect(maskUrlPasswords(`see ${url} now`), url).toBe(`see ${shown} now`);
      const masked = maskSecretsInXml(appItem(url));
      expect(masked, url).toContain(`>${shown}<`);
      expect(parsedValue(masked), url).toBe(shown);
    }
    // A scheme-relative URL: a phone resolves it against its server's scheme.
    expect(new URL('//u:S3cr3t@h/', 'https://dls.example/').password).toBe('S3cr3t');
    for (const url of ['//u:S3cr3t@h/x', '\\\\u:S3cr3t@h/x']) {
      expect(maskItemValue('XML-app-server-addr', url), url).toBe(url.replace('S3cr3t', MASK));
      expect(maskSecretsInXml(appItem(url)), url).toContain(`>${url.replace('S3cr3t', MASK)}<`);
    }
    expect(maskUrlPasswords(`<a href="//u:S3cr3t@h/">`)).toBe(`<a href="//u:${MASK}@h/">`);
  });

  it('no URL where WHATWG reads none: file: and other schemes without // (SIP URIs have their own rule), mailto:, e-mail addresses, a // inside a word or path', () => {
    for (const text of ['file:u:S3cr3t@h/', 'ldap:u:S3cr3t@h/', 'mailto:bob:x@example.com', 'bob@example.com', 'a//u:p@h', 'x:/a//u:p@h', 'C:\\dir\\u:p@h']) {
      if (URL.canParse(text)) expect(new URL(text).password, text).toBe('');
      expect(maskItemValue('XML-app-server-addr', text), text).toBe(text);
      expect(maskUrlPasswords(text), text).toBe(text);
      expect(maskSecretsInXml(appItem(text)), text).toBe(appItem(text));
    }
  });
});

describe('SIP URIs with a password in the userinfo (RFC 3261 §19.1.1: deprecated, still written), helper-74', () => {
  const uris: [string, string][] = [
    ['sip:alice:S3cr3t@pbx.example', `sip:alice:${MASK}@pbx.example`],
    ['sips:alice:S3cr3t@pbx.example:5061;transport=tls', `sips:alice:${MASK}@pbx.example:5061;transport=tls`],
    ['SIP:alice:S3cr3t@pbx.example', `SIP:alice:${MASK}@pbx.example`],
    ['sip:+49891234:S3cr3t@pbx.example;user=phone', `sip:+49891234:${MASK}@pbx.example;user=phone`],
    ['sip:alice:S3c@r3t@pbx.example', `sip:alice:${MASK}@pbx.example`],
    ['sip:alice:S3cr3t@[2001:db8::1]:5060', `sip:alice:${MASK}@[2001:db8::1]:5060`],
    ['sip:alice:S3cr3t@pbx.example?Subject=hello', `sip:alice:${MASK}@pbx.example?Subject=hello`],
  ];
  it('masks the password from the user\'s colon to the last @ in free text, item values and the raw view, the user and the host kept; the masked body still parses', () => {
    for (const [uri, shown] of uris) {
      expect(maskUrlPasswords(`From: "Alice" <${uri}>;tag=1`), uri).toBe(`From: "Alice" <${shown}>;tag=1`);
      expect(maskUrlPasswords(`register ${uri} failed`), uri).toBe(`register ${shown} failed`);
      expect(maskUrlPasswords(`<a href="${uri}" b='${uri}'>`), uri).toBe(`<a href="${shown}" b='${shown}'>`);
      expect(maskItemValue('x-note', uri), uri).toBe(shown);
      const masked = maskSecretsInXml(appItem(uri));
      expect(masked, uri).toBe(appItem(shown));
      expect(parsedValue(masked), uri).toBe(shown);
    }
    // Copied back from a view, the mask would become the phone's password.
    expect(writeItemProblem({ name: 'XML-app-server-addr', index: 1, value: `sip:alice:${MASK}@pbx.example` })?.key).toBe('itemHoldsMask');
  });

  it('reads a quote in the password, and a URL in a parameter after it, as for an https URL', () => {
    expect(maskUrlPasswords('<a href="sip:alice:pa"ss@pbx.example" b="1">')).toBe(`<a href="sip:alice:${MASK}@pbx.example" b="1">`);
    expect(maskUrlPasswords('sip:alice:S3cr3t@pbx.example;x=https://h/?token=S3cr3t')).toBe(`sip:alice:${MASK}@pbx.example;x=https://h/?token=${MASK}`);
    expect(maskUrlPasswords('sip:alice@pbx.example;x=https://u:S3cr3t@h/')).toBe(`sip:alice@pbx.example;x=https://u:${MASK}@h/`);
    // A value that starts with a URL ends before another one, a SIP URI included.
    expect(maskItemValue('x-urls', 'https://u:pa ss@h/ sip:alice:S3cr3t@pbx.example')).toBe(`https://u:${MASK}@h/ sip:alice:${MASK}@pbx.example`);
  });

  it('leaves what holds no password: no user, a port, an IPv6 host, an empty password, tel:, mailto:, times, other schemes; a blank ends a SIP URI even where it starts a value', () => {
    const lookAlikes = [
      'sip:alice@pbx.example', 'sip:alice@pbx.example:5060', 'sip:pbx.example:5060', 'sip:pbx.example:5060;transport=tcp', 'sips:[2001:db8::1]:5061', 'sip:[::1]:5060',
      'sip:alice:@pbx.example', 'sip: alice:x@pbx.example', 'sip:', 'tel:+49-89-1234;phone-context=example.com', 'mailto:bob:x@example.com', '10:06:2008',
      'on 10:06:2008 mail bob@example.com', 'fe80::1%eth0', '[2001:db8::1]:5060', 'xsip:alice:x@h', 'gossip:alice:x@h', 'sip:pbx.example:5060 (backup: bob@example.com)',
    ];
    for (const text of lookAlikes) {
      expect(maskUrlPasswords(text), text).toBe(text);
      expect(maskItemValue('x-note', text), text).toBe(text);
      expect(maskSecretsInXml(appItem(text)), text).toBe(appItem(text));
      expect(maskSecretsInXml(wrap(`<Item name="e164" status="${text}">1</Item>`)), text).toBe(wrap(`<Item name="e164" status="${text}">1</Item>`));
    }
  });
});

describe('a typed password holding what ends an authority', () => {
  // A phone's URL item may hold a password typed unencoded; WHATWG ends the authority at `/`, `?`,
  // `#` or `\` and reads no password there, so the safe reading masks to the last @ instead.
  it('is masked from the first `:` after the slashes to the last @, in every view; the masked body still parses', () => {
    for (const password of ['pa/ss', 'pa?ss', 'pa#ss', 'pa\\ss', 'p@a/ss', 'pa/s?s#s\\']) {
      const url = `https://u:${password}@files.example/fw.img`;
      const shown = `https://u:${MASK}@files.example/fw.img`;
      expect(maskItemValue('file-https-base-url', url), url).toBe(shown);
      expect(maskUrlPasswords(url), url).toBe(shown);
      const masked = maskSecretsInXml(appItem(url));
      expect(parsedValue(masked), url).toBe(shown);
    }
    // A query after such a password is still masked; what the password swallowed of one is too.
    expect(maskItemValue('file-https-base-url', 'https://u:pa?ss@h/x?t=1')).toBe(`https://u:${MASK}@h/x?t=${MASK}`);
    expect(maskItemValue('file-https-base-url', 'https://u:pw@h/x?mail=a@b&k=v')).toBe(`https://u:${MASK}@b&k=${MASK}`);
  });

  it('with a blank in free text or a SIP URI, where a blank ends a URL: masked to its @ in the next few words, or up to the blank; a port is no password', () => {
    for (const [text, shown] of [
      ['see ftp://u:pa ss@files.example/fw.img', `see ftp://u:${MASK}@files.example/fw.img`],
      ['see https://u:p a s@h/?k=v then', `see https://u:${MASK}@h/?k=${MASK} then`],
      ['<a href="ftp://u:pa ss@h/">', `<a href="ftp://u:${MASK}@h/">`],
      // No @ within three words of the same line: what comes after the blank cannot be told from prose.
      // (A value that starts with the URL is read whole, as the phone reads it: the test below.)
      ['get ftp://u:pa ss and more', `get ftp://u:${MASK} ss and more`],
      ['x http://u:pw\nnext@line', `x http://u:${MASK}\nnext@line`],
      ['get ftp://u:pa a b c d@h/', `get ftp://u:${MASK} a b c d@h/`],
      // Another URL ends the search: its own password is its own.
      ['get ftp://u:pa https://v:q@h/', `get ftp://u:${MASK} https://v:${MASK}@h/`],
      // An empty user is one (helper-82).
      ['see ftp://:pa ss@files.example/', `see ftp://:${MASK}@files.example/`],
      ['see https://:8443 and a@b', 'see https://:8443 and a@b'],
      // A SIP URI ends at a blank wherever it stands: the same rule.
      ['sip:alice:pa ss@pbx.example', `sip:alice:${MASK}@pbx.example`],
      ['call sip:alice:pa ss@pbx.example;transport=tls now', `call sip:alice:${MASK}@pbx.example;transport=tls now`],
      ['sip:[2001:db8::1]:5060 x@y', 'sip:[2001:db8::1]:5060 x@y'],
      ['sip:pbx.example:5060 bob@x', 'sip:pbx.example:5060 bob@x'],
      ['see https://[::1]:8443 and a@b', 'see https://[::1]:8443 and a@b'],
      // A port, or a port and a path, before the blank: no password begun.
      ['see https://h:80 and bob@x.org', 'see https://h:80 and bob@x.org'],
      ['see https://h:8443/a b@c', 'see https://h:8443/a b@c'],
      ['see https://h: and bob@x.org', 'see https://h: and bob@x.org'],
    ]) {
      expect(maskUrlPasswords(text!), text).toBe(shown);
      expect(maskItemValue('display-id-unicode', text!), text).toBe(shown);
    }
    expect(parsedValue(maskSecretsInXml(appItem('see ftp://u:pa ss@h/x')))).toBe(`see ftp://u:${MASK}@h/x`);
  });

  it('with a blank in free text: a port closed by punctuation, or a bracketed IPv6 host, begins no password (helper-80)', () => {
    for (const text of [
      'see https://dls.example:18443, contact admin@corp.example',
      'DLS at https://10.0.0.5:18443. Mail bob@x.org',
      '(see http://h:8080) bob@x.org',
      "{ server: 'https://127.0.0.1:1', mac: 'x' }",
      '(e.g. `sdlp://192.168.2.19:18443`); optional tag 4',
      'see http://[fe80::1]:8085 now',
      'see http://[2001:db8::1] is the server, ask bob@x.org',
    ]) {
      expect(maskUrlPasswords(text), text).toBe(text);
      expect(maskItemValue('display-id-unicode', text), text).toBe(text);
    }
    // A password is still one, punctuation and all.
    expect(maskUrlPasswords('see ftp://u:pa, ss@h/')).toBe(`see ftp://u:${MASK}@h/`);
    expect(maskUrlPasswords('see ftp://u:pw, and more')).toBe(`see ftp://u:${MASK} and more`);
  });

  it('with a blank: masked where the value is that URL (the phone reads the whole value), not in free text where a blank ends a URL', () => {
    expect(new URL('https://u:pa ss@h/').password).toBe('pa%20ss');
    expect(maskItemValue('file-https-base-url', ' https://u:pa ss@h/x ')).toBe(` https://u:${MASK}@h/x `);
    expect(maskItemValue('file-https-base-url', 'https://u:p@ss w@h/x')).toBe(`https://u:${MASK}@h/x`);
    expect(parsedValue(maskSecretsInXml(appItem('https://u:pa ss@h/x')))).toBe(`https://u:${MASK}@h/x`);
    // Two URLs in one value: each its own, the first ending at the blanks before the second.
    expect(maskItemValue('x-urls', 'https://u:S3cr3t@h/?k=v https://u:S3cr3t@i/')).toBe(`https://u:${MASK}@h/?k=${MASK} https://u:${MASK}@i/`);
  });

  it('leaves URLs without credentials as they are (a query value masked as always)', () => {
    for (const url of ['https://host/path/b@c', 'https://host:8443/path', 'https://user@host:8443/x', 'ldap://ldap.example:389/', 'http://www.siemens.com/DLS']) {
      expect(maskItemValue('XML-app-server-addr', url), url).toBe(url);
      expect(maskSecretsInXml(appItem(url)), url).toBe(appItem(url));
    }
    expect(maskItemValue('XML-app-server-addr', 'https://host/path?a=b@c')).toBe(`https://host/path?a=${MASK}`);
    // An item that is not a URL keeps its address and its colon however they sit.
    expect(maskItemValue('display-id-unicode', 'see https://h:80 and bob@x.org')).toBe('see https://h:80 and bob@x.org');
    // The cost of the safe reading: a port, then an @ in the path, reads as a password.
    expect(maskItemValue('XML-app-server-addr', 'https://h:8443/a@b')).toBe(`https://h:${MASK}@b`);
  });
});

describe('the quote that opened a URL, inside its password', () => {
  it('shows nothing of the password after the quote: the URL runs on to the last @ before its end', () => {
    expect(maskUrlPasswords('<a href="https://u:pa"ss@h/" b="1">')).toBe(`<a href="https://u:${MASK}@h/" b="1">`);
    expect(maskUrlPasswords("<a href='https://u:pa'ss@h/'>")).toBe(`<a href='https://u:${MASK}@h/'>`);
    // A quote that closes a URL without a user part still closes it: what follows is not its password.
    expect(maskUrlPasswords('{"u":"https://h/x","m":"a@b"}')).toBe('{"u":"https://h/x","m":"a@b"}');
    expect(maskUrlPasswords('{"u":"https://u:pw@h/x","m":"a@b"}')).toBe(`{"u":"https://u:${MASK}@h/x","m":"a@b"}`);
  });
});

describe('a reference no XML parser resolves (a surrogate, a control, U+FFFE) leaves a name unread, so its value masked (helper-73)', () => {
  it('masks the value of an Item whose name holds one', () => {
    for (const ref of ['&#xD800;', '&#x1;', '&#xFFFE;', '&#0;']) {
      expect(maskSecretsInXml(wrap(`<Item name="note${ref}">${SECRET}</Item>`)), ref).not.toContain(SECRET);
    }
    expect(maskSecretsInXml(wrap(`<Item name="note&#x41;">${SECRET}</Item>`))).toContain(SECRET); // an A: a name like any other
  });
});

describe('a query in XML text: references are never cut, the masked body still parses (helper-73)', () => {
  const cases: [string, string][] = [
    ['https://h/x?a=1&amp;flag', `https://h/x?a=${MASK}&amp;${MASK}`],
    ['https://h/x?a=1&lt;b&amp;c=2', `https://h/x?a=${MASK}&amp;c=${MASK}`],
    ['https://h/x?a=1&#38;b=2', `https://h/x?a=${MASK}&#38;b=${MASK}`],
    ['https://h/x?a=&amp;&amp;b=x', `https://h/x?a=&amp;&amp;b=${MASK}`],
    ['https://h/x?t=a&quot;b&amp;k=v', `https://h/x?t=${MASK}&amp;k=${MASK}`],
  ];
  for (const [raw, shown] of cases) {
    it(`masks ${raw}`, () => {
      const xml = wrap(`<Item name="file-https-base-url">${raw}</Item>`);
      const masked = maskSecretsInXml(xml);
      expect(masked).toContain(`>${shown}</Item>`);
      expect(XMLValidator.validate(masked)).toBe(true);
    });
  }
});

describe('URLs written with references, CDATA sections or comments (the raw view, as the item table)', () => {
  const forms: [string, string][] = [
    ['https&#58;//u:S3cr3t@h/x', `https&#58;//u:${MASK}@h/x`],
    ['https&#x3A;&#x2F;&#x2f;u:S3cr3t@h/x', `https&#x3A;&#x2F;&#x2f;u:${MASK}@h/x`],
    ['h&#116;tps://u:S3cr3t@h/x', `h&#116;tps://u:${MASK}@h/x`],
    ['https://u:S3cr3t&#64;h/x', `https://u:${MASK}&#64;h/x`],
    ['https://u:S3cr3t&#x40;h/x?t=&#49;&amp;k=S3cr3t', `https://u:${MASK}&#x40;h/x?t=${MASK}&amp;k=${MASK}`],
    ['https://u:S3&amp;cr3t@h/x', `https://u:${MASK}@h/x`],
    ['https://u:<![CDATA[S3cr3t]]>@h/x', `https://u:<![CDATA[${MASK}]]>@h/x`],
    ['https://u:S3<![CDATA[cr3t]]>@h/x', `https://u:${MASK}@h/x`],
    ['<![CDATA[https://u:S3]]>cr3t@h/x', `${MASK}@h/x`],
    ['<![CDATA[https://u:S3<cr3t@h/x]]>', `<![CDATA[https://u:${MASK}@h/x]]>`],
    ['https://u:S3<!-- a comment -->cr3t@h/x', `https://u:${MASK}@h/x`],
    ['https:<!-- -->//u:S3cr3t@h/x', `https:<!-- -->//u:${MASK}@h/x`],
    ['https://u:S3<?pi x?>cr3t@h/x', `https://u:${MASK}@h/x`],
  ];
  for (const [raw, shown] of forms) {
    it(`masks ${raw}`, () => {
      const xml = appItem(raw);
      // The parser reads a URL with credentials here, and the item table masks its password …
      const value = parsedValue(xml)!;
      expect(new URL(value).password).toContain('S3');
      expect(maskItemValue('XML-app-server-addr', value)).not.toContain('S3');
      // … and so does the raw view, keeping the markup: the masked body still parses.
      const masked = maskSecretsInXml(xml);
      expect(masked).toContain(`>${shown}</Item>`);
      expect(masked).not.toMatch(/S3|cr3t/);
      expect(parsedValue(masked)).toContain(MASK);
    });
  }

  it('masks inside attributes and non-XML text as before, and leaves text with references but no credentials byte for byte', () => {
    const plain = wrap('<Item name="XML-app-server-addr">https&#58;//h/x&amp;y</Item><Item name="display-id-unicode">a &lt; b <![CDATA[c > d]]> e</Item>');
    expect(maskSecretsInXml(plain)).toBe(plain);
  });
});

describe('URLs in attribute values written with references (the raw view), helper-74', () => {
  /** An item whose status attribute is `raw` as written (the codec reads the attribute decoded). */
  const withStatus = (raw: string, quote = '"') => wrap(`<Item name="e164" status=${quote}${raw}${quote}>1</Item>`);
  const parsedStatus = (xml: string) => parseWorkpointMessage(xml).items.find((i) => i.name === 'e164')?.status;
  const forms: [string, string][] = [
    ['https://u&#58;S3cr3t@h/x', `https://u&#58;${MASK}@h/x`],
    ['https://u&#x3a;S3cr3t@h/x', `https://u&#x3a;${MASK}@h/x`],
    ['https://u&#58;S3cr3t&#64;h/x', `https://u&#58;${MASK}&#64;h/x`],
    ['https://u&#58;S3&amp;cr3t@h/x?t=S3cr3t&amp;k=v', `https://u&#58;${MASK}@h/x?t=${MASK}&amp;k=${MASK}`],
    ['https://u&#58;S3cr3t&#x40;h/x', `https://u&#58;${MASK}&#x40;h/x`],
    ['see https://u&#58;S3cr3t@h/x now', `see https://u&#58;${MASK}@h/x now`],
    ['sip&#58;alice:S3cr3t@pbx.example', `sip&#58;alice:${MASK}@pbx.example`],
    ['sip:alice&#58;S3cr3t&#64;pbx.example', `sip:alice&#58;${MASK}&#64;pbx.example`],
  ];
  for (const [raw, shown] of forms) {
    it(`masks ${raw}, every other byte kept, the masked body well-formed`, () => {
      for (const quote of ['"', "'"]) {
        const xml = withStatus(raw, quote);
        // The parser reads a URL with credentials in the attribute …
        expect(parsedStatus(xml)).toMatch(/:S3(&amp;)?/);
        expect(maskUrlPasswords(parsedStatus(xml)!)).not.toContain('S3');
        // … and the raw view masks exactly its password and query values, whole references and all.
        const masked = maskSecretsInXml(xml);
        expect(masked).toBe(withStatus(shown, quote));
        expect(XMLValidator.validate(masked)).toBe(true);
        expect(parsedStatus(masked)).not.toContain('S3');
        // What the parser reads of it is what the item table shows of the status.
        expect(parsedStatus(masked)).toBe(maskUrlPasswords(parsedStatus(xml)!));
      }
    });
  }

  it('an attribute and the text beside it, each its own value; every attribute of a tag read', () => {
    const xml = wrap('<Item name="e164" status="https://u&#58;S3cr3t@h/" index="1">https&#58;//u:S3cr3t@h/</Item><Item name="e&#49;64" a="x" status=\'sip&#58;bob:S3cr3t@pbx\'/>');
    const masked = maskSecretsInXml(xml);
    expect(masked).toBe(wrap(`<Item name="e164" status="https://u&#58;${MASK}@h/" index="1">https&#58;//u:${MASK}@h/</Item><Item name="e&#49;64" a="x" status='sip&#58;bob:${MASK}@pbx'/>`));
    expect(XMLValidator.validate(masked)).toBe(true);
  });

  it('leaves attributes with references but no credentials byte for byte, and reads no reference a parser refuses', () => {
    for (const raw of [
      'a &lt; b &#58; c', 'https://h&#58;8443/x', 'https://u&#64;h/x', '10&#58;06&#58;2008 bob@example.com', 'sip&#58;alice@pbx.example', 'sip&#58;pbx.example&#58;5060',
      '[2001&#58;db8::1]&#58;5060', 'mailto&#58;bob:x@example.com', 'tel&#58;+49-89-1234', 'user-&#x70;wd', '&#58;&#58;&#64;',
    ]) {
      expect(maskSecretsInXml(withStatus(raw)), raw).toBe(withStatus(raw));
    }
    // A reference to no XML Char (a control, a surrogate) is no colon: the parser refuses the body, the text is shown as written.
    for (const raw of ['https://u&#x1;S3@h/', 'https://u&#xD800;S3@h/']) expect(maskSecretsInXml(withStatus(raw)), raw).toBe(withStatus(raw));
  });
});

describe('hostile bodies', () => {
  // Each of these took seconds at 256 KiB before (each start searched to the end of the text): one
  // LAN host could stall the service, which masks every stored body for the search index (helper-67).
  // Here 4 MiB of each is masked, right, within the test's time; a quadratic scan would take hours.
  const big = (unit: string, tail = '') => unit.repeat(Math.ceil((4 << 20) / unit.length)) + tail;
  it('tags without an end, URLs without an end, unterminated sections: masked in one pass, what is secret still masked', () => {
    for (const body of [big('<Item '), big('<Item name=x '), big('<Item ', '>'), big('https://a:'), big('"https://a')]) {
      expect(maskSecretsInXml(body)).toHaveLength(body.length);
    }
    // A user and a fragment before a blank, and no @ after it: each fragment masked (a password typed with a blank).
    const fragments = big('https://a:b ');
    expect(maskSecretsInXml(fragments)).toBe(`https://a:${MASK} `.repeat(fragments.length / 'https://a:b '.length));
    // No blank ends it: one URL, its query one value.
    expect(maskSecretsInXml(big('https://a?'))).toBe(`https://a?${MASK}`);
    // helper-69: Items holding only unterminated comments or instructions, and scheme-like words.
    for (const unit of ['<Item name="password"><!--', '<Item name="password"><?']) expect(maskSecretsInXml(big(unit))).toBe(big(unit));
    expect(maskSecretsInXml(big('a.', ` x://u:${SECRET}@h/`)).endsWith(` x://u:${MASK}@h/`)).toBe(true);
    expect(maskItemValue('ldap-server-address', big('a-', '://u:p@h/'))).toHaveLength(big('a-', '://u:p@h/').length + MASK.length - 1);
    const cdata = big('<Item name="admin-pwd"><![CDATA[');
    expect(maskSecretsInXml(cdata)).toBe(`<Item name="admin-pwd">${MASK}`);
    expect(maskSecretsInXml(`<Item name="admin-pwd">${SECRET}${big('<!--')}`)).toBe(`<Item name="admin-pwd">${MASK}`);
    const urls = maskSecretsInXml(big(`https://u:${SECRET}@h/?k=${SECRET} `));
    expect(urls).not.toContain(SECRET);
    expect(urls.startsWith(`https://u:${MASK}@h/?k=${MASK} https://u:${MASK}@h/`)).toBe(true);
  });
});

describe('hostile bodies, for the readings added since (masking gaps)', () => {
  const big = (unit: string, tail = '') => unit.repeat(Math.ceil((4 << 20) / unit.length)) + tail;
  it('special schemes without slashes, scheme-relative URLs, values that are one URL, references, sections, comments and unterminated quotes in tags: 4 MiB masked in one pass', () => {
    const relative = big(' //a:b');
    expect(maskSecretsInXml(relative)).toBe(` //a:${MASK}`.repeat(relative.length / 6 - 1) + ' //a:b');
    for (const body of [big('https:a'), big('//a:'), big('&#58;'), big('<a b="'), big('<a b=\'>"'), big('<![CDATA[a]]>'), big('<!---->https://a:'), big('>https://a x:'), big('"https://a:b"'), big('<I>&#58;'), big('\\\\a'), big('> //')]) {
      expect(maskSecretsInXml(body)).toHaveLength(body.length);
    }
    // Each `//` starting an element's text searched for the next `<` to the end: quadratic (helper-72).
    const pi = big('?> //');
    const n = pi.length / 5;
    expect(maskSecretsInXml(pi)).toBe(`?> ${Array(n).fill(`//?${MASK}`).join(' ').slice(0, -(1 + MASK.length))}`);
    // Each unit masked as it would be alone.
    const units: [string, string][] = [
      ['<I>https://a:<![CDATA[S3cr3t]]>@h/</I>', `<I>https://a:<![CDATA[${MASK}]]>@h/</I>`],
      ['<I>h&#116;tps://u:S3cr3t@h/?k=S3cr3t</I>', `<I>h&#116;tps://u:${MASK}@h/?k=${MASK}</I>`],
      ['<I>https://u:S3cr<!---->3t@h/</I>', `<I>https://u:${MASK}@h/</I>`],
      ['<I>https://u:S3 cr3t@h/</I>', `<I>https://u:${MASK}@h/</I>`],
      ['<I>//u:S3cr3t@h/</I>', `<I>//u:${MASK}@h/</I>`],
      ['<I>https:/\\u:S3cr3t@h/</I>', `<I>https:/\\u:${MASK}@h/</I>`],
      ['"https://u:S3"cr3t@h/" ', `"https://u:${MASK}@h/" `],
    ];
    for (const [unit, masked] of units) expect(maskSecretsInXml(big(unit)), unit).toBe(masked.repeat(big(unit).length / unit.length));
  });
});

describe('hostile bodies, for the readings of helper-74', () => {
  const big = (unit: string, tail = '') => unit.repeat(Math.ceil((4 << 20) / unit.length)) + tail;
  it('SIP URIs without an end, a password or a user: 4 MiB masked in one pass, each unit as it would be alone', () => {
    // Each `sip:a:` of a run without an @ looked for one to the end of the text, unless the last @ is known.
    // (The raw scan of maskSecretsInXml is maskUrlPasswords.)
    for (const body of [big('sip:a:'), big('\'sip:a:"sip:a:'), big('>sip:a:'), big('sip:['), big('sip:a:x"sip:')]) expect(maskSecretsInXml(body), body.slice(0, 12)).toBe(body);
    // No blank ends it: one URI, its password to the last @.
    expect(maskSecretsInXml(big('sip:a:b@'))).toBe(`sip:a:${MASK}@`);
    const units: [string, string][] = [
      ['<I>sip:a:S3cr3t@h</I>', `<I>sip:a:${MASK}@h</I>`],
      ['"sip:a:S3"cr3t@h" ', `"sip:a:${MASK}@h" `],
    ];
    for (const [unit, masked] of units) expect(maskSecretsInXml(big(unit)), unit).toBe(masked.repeat(big(unit).length / unit.length));
  });

  it('attribute values of references, unterminated or not: 4 MiB masked in one pass, each unit as it would be alone', () => {
    for (const body of [big('<a b="&#58;">'), big('<a b="&#58;'), big('<a b="sip&#58;a&#58;">'), big('<a b=\'&#58;"'), big('<a b="https://a&#58;')]) expect(maskSecretsInXml(body), body.slice(0, 16)).toBe(body);
    const units: [string, string][] = [
      ['<a b="https://u&#58;S3cr3t@h/?k=S3cr3t" c="&#64;">', `<a b="https://u&#58;${MASK}@h/?k=${MASK}" c="&#64;">`],
      ["<a b='sip&#58;a:S3cr3t@h'>", `<a b='sip&#58;a:${MASK}@h'>`],
    ];
    for (const [unit, masked] of units) expect(maskSecretsInXml(big(unit)), unit).toBe(masked.repeat(big(unit).length / unit.length));
  });
});

describe('what is stored', () => {
  it('redactForStorage masks keys and TANs (however the name is written) and nothing else', () => {
    const body = Buffer.from(wrap(`<Item name="dls-&#x63;lient-certificate">MIIKEY</Item><Item name="BOOTSTRAPPING-TAN"><![CDATA[678]]></Item><Item name="user-pwd">${SECRET}</Item>`));
    const stored = Buffer.from(redactForStorage(body)).toString('utf8');
    expect(stored).not.toContain('MIIKEY');
    expect(stored).not.toContain('678');
    // Passwords are kept for protocol use; they are masked on the way out.
    expect(stored).toContain(SECRET);
    const plain = Buffer.from(wrap('<Item name="user-pwd">x</Item>'));
    expect(redactForStorage(plain)).toBe(plain);
  });

  it('redactForStorage keeps every byte it does not mask, bytes that are not UTF-8 included (helper-67)', () => {
    const odd = Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xe2, 0x82, 0xf0, 0x90, 0x80, 0xed, 0xa0, 0x80, 0xc0, 0xaf]);
    const [head, tail] = wrap(`<Item name="display-id">ODD</Item><Item name="secure-mode-data">NEVERSTORE-KEY</Item><Item name="e164">\u{10080}\u00e9</Item>`).split('ODD');
    const body = Buffer.concat([Buffer.from(head!), odd, Buffer.from(tail!)]);
    const stored = Buffer.from(redactForStorage(body));
    const expected = Buffer.concat([Buffer.from(head!), odd, Buffer.from(tail!.replace('NEVERSTORE-KEY', MASK))]);
    expect(stored.equals(expected)).toBe(true);
    // At the very end, and a truncated sequence there.
    const end = Buffer.concat([Buffer.from(wrap('<Item name="bootstrapping-tan">1234</Item>')), Buffer.from([0xe2, 0x82])]);
    expect(Buffer.from(redactForStorage(end)).equals(Buffer.concat([Buffer.from(wrap(`<Item name="bootstrapping-tan">${MASK}</Item>`)), Buffer.from([0xe2, 0x82])]))).toBe(true);
  });

  it('escaped UTF-8 gives back any bytes exactly, and valid UTF-8 as Node decodes it', () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000;
    const pieces = [[0x41], [0xc3, 0xa9], [0xe2, 0x82, 0xac], [0xf0, 0x90, 0x82, 0x80], [0xed, 0xb2, 0x80], [0xf0, 0x90], [0xff], [0x80], [0xc1, 0xbf], [0xf4, 0x90, 0x80, 0x80], [0x3c]];
    for (let n = 0; n < 2000; n++) {
      const bytes = Buffer.from(Array.from({ length: 1 + Math.floor(rnd() * 12) }, () => pieces[Math.floor(rnd() * pieces.length)]!).flat());
      const text = decodeEscaped(bytes);
      expect(encodeEscaped(text).equals(bytes)).toBe(true);
      if (isUtf8(bytes)) expect(text).toBe(bytes.toString('utf8'));
    }
  });

  it('redactForStorage masks keys and TANs behind any namespace prefix, and in tags the codec refuses for two names', () => {
    const body = Buffer.from(wrap(`<é:Item é:name="secure-mode-data">NEVERSTORE-KEY-1</é:Item><Item name="x" y:name="bootstrapping-tan">NEVERSTORE-TAN-2</Item><:Item :name="secure-mode-data">NEVERSTORE-KEY-3</:Item><a\uFEFF:Item name="dls-client-certificate">NEVERSTORE-KEY-4</a\uFEFF:Item><Item name="secure-mode-data"><x:Item name="e164">1</x:Item>NEVERSTORE-KEY-5</Item><Item name="e164">4989</Item>`));
    const stored = Buffer.from(redactForStorage(body)).toString('utf8');
    expect(stored).not.toContain('NEVERSTORE');
    expect(stored).toContain('<Item name="e164">4989</Item>');
  });

  it('isNeverStored reads a name as trim() and toLowerCase() would, for every BMP character around or inside the names', () => {
    const names = ['dls-client-certificate', 'secure-mode-data', 'bootstrapping-tan'];
    const asBefore = (n: string) => names.includes(n.trim().toLowerCase());
    const differ: string[] = [];
    for (const base of names) {
      for (let c = 0; c < 0x10000; c++) {
        const ch = String.fromCharCode(c);
        for (const v of [ch + base, base + ch, `${base.slice(0, 1)}${ch}${base.slice(2)}`, `${base.slice(0, 5)}${ch}${base.slice(6)}`, base.slice(0, -1) + ch]) {
          if (asBefore(v) !== isNeverStored(v)) differ.push(JSON.stringify(v));
        }
      }
    }
    // Characters that case-fold onto these letters under other rules (/u, toUpperCase): at every position.
    for (const base of names) {
      for (const ch of ['\u017f', '\u212a', '\u0130', '\u0131', '\u00df', '\ufb00', 'S', 'K', 'I']) {
        for (let i = 0; i < base.length; i++) {
          const v = base.slice(0, i) + ch + base.slice(i + 1);
          if (asBefore(v) !== isNeverStored(v)) differ.push(JSON.stringify(v));
        }
      }
    }
    expect(differ).toEqual([]);
    expect(isNeverStored(' Secure-Mode-DATA\t')).toBe(true);
    expect(isNeverStored('secure-mode-data-2')).toBe(false);
  });

  it('redactForStorage finds the names among non-ASCII text, in bytes that are not UTF-8, and in a view into a larger buffer', () => {
    const xml = wrap(`<Item name="display-id-unicode">Grüße ✓</Item><Item name="bootstrapping-tan">${SECRET}</Item>`);
    expect(Buffer.from(redactForStorage(Buffer.from(xml))).toString('utf8')).not.toContain(SECRET);
    // A lone continuation byte and a cut-off sequence before the Item: still found and masked.
    const broken = Buffer.concat([Buffer.from(wrap('<Item name="x">')), Buffer.from([0x80, 0xe2, 0x41]), Buffer.from(`</Item><Item name="BOOTSTRAPPING-TAN">${SECRET}</Item>`)]);
    expect(Buffer.from(redactForStorage(broken)).toString('utf8')).not.toContain(SECRET);
    const padded = Buffer.concat([Buffer.from('<Item name="bootstrapping-tan">9999</Item>'), Buffer.from(wrap('<Item name="user-pwd">x</Item>'))]);
    const view = new Uint8Array(padded.buffer, padded.byteOffset + 42, padded.length - 42);
    expect(redactForStorage(view)).toBe(view);
  });

  it('redactForStorage leaves a body whose never-stored items are all empty untouched, and masks the rest however they hide', () => {
    const empty = Buffer.from(wrap('<Item name="bootstrapping-tan"/><Item name="secure-mode-data" status="failed"></Item><Item name="dls-client-certificate" index="1"  />'));
    expect(redactForStorage(empty)).toBe(empty);
    // ... without the full scan (the point of the shortcut), which every hiding place below takes.
    expect(mayHoldNeverStored(empty.toString('utf8'))).toBe(false);
    // One empty, one with a value, in either order; the value's Item written another way (blank
    // before ">", single quotes, a reference in its name, CDATA); an empty Item with a reference.
    const hiding = [
      `<Item name="bootstrapping-tan"/><Item name="secure-mode-data">${SECRET}</Item>`,
      `<Item name="secure-mode-data">${SECRET}</Item><Item name="secure-mode-data"></Item>`,
      `<Item name="bootstrapping-tan"\n/><Item name="bootstrapping-tan" >${SECRET}</Item>`,
      `<Item name="bootstrapping-tan"></Item><Item name='bootstrapping-tan'>${SECRET}</Item>`,
      `<Item name="bootstrapping-tan" status="&#97;"/><Item name="dls-&#x63;lient-certificate">${SECRET}</Item>`,
      `<Item name="dls-client-certificate"><![CDATA[${SECRET}]]></Item><Item name="bootstrapping-tan"/>`,
    ];
    for (const items of hiding) {
      const xml = wrap(items);
      const stored = Buffer.from(redactForStorage(Buffer.from(xml))).toString('utf8');
      let parsedSecret = true;
      try {
        parsedSecret = JSON.stringify(parseWorkpointMessage(Buffer.from(xml))).includes(SECRET);
      } catch {
        // not a message the codec reads: what it would hold is masked all the same
      }
      expect(mayHoldNeverStored(xml), items).toBe(true);
      expect(stored, items).not.toContain(SECRET);
      if (parsedSecret) expect(stored, items).toContain(MASK);
    }
  });

  it('redactItemsForStorage masks the values of never-stored items only', () => {
    const items = [{ name: 'secure-mode-data', value: 'TERTTQ==' }, { name: 'user-pwd', value: SECRET }, { name: 'bootstrapping-tan', value: '' }];
    expect(redactItemsForStorage(items)).toEqual([{ name: 'secure-mode-data', value: MASK }, { name: 'user-pwd', value: SECRET }, { name: 'bootstrapping-tan', value: '' }]);
    const none = [{ name: 'sntp-addr', value: 'x' }];
    expect(redactItemsForStorage(none)).toBe(none);
    expect(isNeverStored(' Secure-Mode-Data ')).toBe(true);
  });

  it('a phone that reports its own key or TAN leaves only the mask in its items and exchanges', () => {
    const h = new FlowHarness(newDir());
    try {
      const mac = '00:1A:E8:00:5E:01';
      expect(h.say('192.0.2.50', { reason: 'start-up', items: startUpItems(mac) }).action).toBe('ReadAllItems');
      const r = h.say('192.0.2.50', {
        reason: 'reply-to', action: 'ReadAllItems', status: 'accepted',
        items: [...startUpItems(mac), { name: 'dls-client-certificate', value: 'MIIPRIVATEKEYMATERIAL' }, { name: 'bootstrapping-tan', value: '417' }, { name: 'user-pwd', value: SECRET }],
      });
      expect(r.action).toBe('CleanUp');
      const items = h.store.items(mac);
      expect(items.find((i) => i.name === 'dls-client-certificate')?.value).toBe(MASK);
      expect(items.find((i) => i.name === 'bootstrapping-tan')?.value).toBe(MASK);
      expect(items.find((i) => i.name === 'user-pwd')?.value).toBe(SECRET);
      const raw = h.store.exchanges({ limit: 10 }).map((x) => Buffer.from(h.store.exchange(x.id)!.requestBody).toString('utf8')).join('\n');
      expect(raw).not.toContain('MIIPRIVATEKEYMATERIAL');
      expect(raw).not.toMatch(/bootstrapping-tan">417</);
      expect(raw).toContain(SECRET);
    } finally {
      h.close();
    }
  });
});
