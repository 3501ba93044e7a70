/**
 * Fuzz cases: a corpus message mutated structurally (elements, attributes, values, names,
 * namespaces, entities, CDATA, comments, DOCTYPEs, nesting, control characters) and/or at the
 * byte level (bit flips, truncation, splicing, invalid UTF-8, random bytes), or generated from
 * nothing. makeCase(runSeed, stream, index) is a pure function: the same arguments give the same
 * bytes, so a failure is reproduced from the seed and the case id alone.
 */
import { REASONS_FOR_CONTACT, ACTIONS, REPLY_STATUSES, ITEM_STATUSES } from '../../../src/main/wpi';
import type { Seed } from './corpus';
import { Rng, caseSeed } from './rng';
import { clone, cloneDoc, el, elements, serialize, text, texts, type Doc, type Node } from './xml-model';

export interface FuzzCase {
  /** "p#123" (parser stream) or "s#45" (socket stream). */
  id: string;
  /** What was done, for the report. */
  ops: string[];
  bytes: Buffer;
  /** Socket stream only: HTTP-level variations. */
  http?: { method?: string; path?: string; cookie?: 'lane' | string; contentType?: string | null };
}

export interface CaseOptions {
  /** Upper bound for generated bodies (the listener's limit is 256 kB by default). */
  maxBytes?: number;
  /** Share of unmutated messages with a fresh nonce (reach the engine, sessions, fragments). */
  validShare?: number;
  /** Socket stream: vary method, path, cookie, content type. */
  http?: boolean;
}

const NAMES = ['WorkpointMessage', 'DLSMessage', 'Message', 'ReasonForContact', 'ItemList', 'Item', 'Action', 'Items', 'item', 'message', 'x', 'a:b', 'dls:Item'];
const ATTR_NAMES = ['nonce', 'maxItems', 'fragment', 'action', 'status', 'name', 'index', 'xmlns', 'xmlns:dls', 'xsi:nonce', 'Nonce', 'NONCE', 'id', 'x'];
const ITEM_NAMES = ['mac-addr', 'e164', 'device-type', 'software-version', 'configuration-changed-flag', 'contact-me-uri', 'function-key-def', 'sntp-addr', 'cleanup-reason', 'file-deployment-status', 'user-pwd', 'dls-contact-interval'];
const ENTITIES = ['&amp;', '&lt;', '&gt;', '&quot;', '&apos;', '&#65;', '&#x41;', '&#0;', '&#x0;', '&#1;', '&#xD800;', '&#xDFFF;', '&#x110000;', '&#99999999;', '&#xFFFE;', '&foo;', '&;', '&', '&#;', '&#x;', '&lol9;', '&amp;amp;', '&#x26;', '&#38;#38;', '&nbsp;', '&copy;', '&#10;', '&#13;', '&#x2028;'];
const CONTROL = ['\x00', '\x01', '\x07', '\x08', '\x0b', '\x0c', '\x1b', '\x1f', '\x7f', '\u0085', '\u2028', '\u2029', '\ufeff', '\ufffe', '\uffff', '\r', '\r\n', '\t', '\u00a0'];
const INVALID_UTF8 = [[0xff], [0xfe], [0x80], [0xbf], [0xc0, 0x80], [0xc1, 0xbf], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf], [0xf4, 0x90, 0x80, 0x80], [0xf5, 0x80, 0x80, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xc3], [0xef, 0xbb, 0xbf]];
const INTERESTING_VALUES = ['', ' ', '-1', '-2', '0', '1', '00', '007', '2147483647', '2147483648', '99999999999', '1e3', '0x10', ' 5 ', '+3', '3.0', '٣', 'NaN', 'Infinity', 'next', 'final', 'NEXT', 'accepted', 'failed', 'busy', 'true', 'false', 'null', 'undefined', '__proto__', 'constructor', 'toString', 'hasOwnProperty'];
const DOCTYPES = [
  '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>',
  '<!DOCTYPE WorkpointMessage SYSTEM "file:///etc/passwd">',
  '<!DOCTYPE WorkpointMessage [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
  '<!DOCTYPE WorkpointMessage [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p;]>',
  '<!doctype WorkpointMessage>',
  '<!ENTITY x "y">',
  '<!DOCTYPE',
  '<!ELEMENT Item ANY>',
  '<!ATTLIST Message nonce CDATA "1">',
];
const NAMESPACES = ['http://www.siemens.com/DLS', 'http://www.siemens.com/DLS2', '', 'urn:x', 'http://www.w3.org/XML/1998/namespace', 'http://www.w3.org/2000/xmlns/', '&amp;', 'file:///etc/passwd'];

type StructOp = (doc: Doc, rng: Rng, o: Required<CaseOptions>) => string;

function anyEl(doc: Doc, rng: Rng) {
  const all = elements(doc);
  return all.length ? rng.pick(all) : null;
}

function elWithAttrs(doc: Doc, rng: Rng) {
  const all = elements(doc).filter((e) => e.node.attrs.length > 0);
  return all.length ? rng.pick(all) : null;
}

function randomName(rng: Rng): string {
  return rng.weighted<() => string>([
    [5, () => rng.pick(NAMES)],
    [2, () => rng.pick(NAMES).toLowerCase()],
    [1, () => ''],
    [1, () => 'a'.repeat(rng.size(70_000))],
    [1, () => randomAscii(rng, rng.int(1, 12))],
    [1, () => `${randomAscii(rng, 3)}:${randomAscii(rng, 3)}`],
    [1, () => rng.pick(['1abc', '-x', '.x', 'x y', 'x"y', 'é', 'Ĳtem', '日本', 'a:', ':a', 'xml', 'xmlns'])],
  ])();
}

function randomAscii(rng: Rng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(rng.int(0x21, 0x7e));
  return s;
}

function randomText(rng: Rng, max = 64): string {
  return rng.weighted<() => string>([
    [4, () => rng.pick(INTERESTING_VALUES)],
    [2, () => randomAscii(rng, rng.size(max))],
    [1, () => rng.pick(ENTITIES)],
    [1, () => rng.pick(CONTROL).repeat(rng.int(1, 3))],
    [1, () => rng.pick(ITEM_NAMES)],
    [1, () => rng.pick([...REASONS_FOR_CONTACT, ...ACTIONS, ...REPLY_STATUSES, ...ITEM_STATUSES])],
    [1, () => String.fromCodePoint(rng.int(0x80, 0x10ffff)).replace(/[\ud800-\udfff]/g, 'x').repeat(rng.int(1, 4))],
  ])();
}

/** Values for the attributes and texts WPI cares about. */
function wrongValueFor(name: string, rng: Rng): string {
  const generic = () => randomText(rng);
  switch (name) {
    case 'nonce':
      return rng.pick<() => string>([
        () => '',
        () => 'A'.repeat(256),
        () => 'A'.repeat(257),
        () => 'AB CD',
        () => 'AB&lt;CD',
        () => 'AB&amp;CD',
        () => "AB'CD",
        () => 'ABÉ',
        () => 'AB\tCD',
        () => '&#65;BC',
        () => randomAscii(rng, rng.int(1, 300)),
        generic,
      ])();
    case 'maxItems':
    case 'index':
      return rng.pick(['-1', '-2', '0', '1', '2147483648', '999999999', '1000000000', '1e3', '0x10', ' 5 ', '+3', '3.0', 'abc', '', '٣', '&#49;', '00000000001']);
    case 'fragment':
      return rng.pick(['next', 'final', 'NEXT', 'Final', ' next ', '', 'first', 'next final', '&#110;ext']);
    case 'action':
      return rng.pick([...ACTIONS, 'readallitems', '', 'x'.repeat(rng.size(5000)), '&lt;Action&gt;', generic()]);
    case 'status':
      return rng.pick([...REPLY_STATUSES, ...ITEM_STATUSES, '', 'ACCEPTED', ' accepted ', generic()]);
    case 'name':
      return rng.pick([...ITEM_NAMES, '', ' ', '  mac-addr  ', 'x'.repeat(rng.size(60_000)), '&amp;', '&#0;', generic()]);
    default:
      return generic();
  }
}

const STRUCT_OPS: [number, string, StructOp][] = [
  [6, 'drop-element', (doc, rng) => {
    const t = anyEl(doc, rng);
    if (!t) return 'noop';
    if (t.parent) t.parent.children.splice(t.parent.children.indexOf(t.node), 1);
    else doc.roots.splice(doc.roots.indexOf(t.node), 1);
    return t.node.name;
  }],
  [5, 'duplicate-element', (doc, rng) => {
    const t = anyEl(doc, rng);
    if (!t) return 'noop';
    const copies = rng.chance(0.9) ? 1 : rng.size(2000);
    const list = t.parent ? t.parent.children : doc.roots;
    list.splice(list.indexOf(t.node), 0, ...Array.from({ length: copies }, () => clone(t.node)));
    return `${t.node.name} x${copies}`;
  }],
  [4, 'reorder-children', (doc, rng) => {
    const t = anyEl(doc, rng);
    if (!t) return 'noop';
    rng.shuffle(t.node.children);
    return t.node.name;
  }],
  [3, 'move-element', (doc, rng) => {
    const a = anyEl(doc, rng);
    const b = anyEl(doc, rng);
    if (!a || !b || !a.parent || a.node === b.node || elements({ prolog: '', roots: [a.node], epilog: '' }).some((e) => e.node === b.node)) return 'noop';
    a.parent.children.splice(a.parent.children.indexOf(a.node), 1);
    b.node.children.splice(rng.int(0, b.node.children.length), 0, a.node);
    return `${a.node.name} into ${b.node.name}`;
  }],
  [5, 'drop-attribute', (doc, rng) => {
    const t = elWithAttrs(doc, rng);
    if (!t) return 'noop';
    const [a] = t.node.attrs.splice(rng.int(0, t.node.attrs.length - 1), 1);
    return `${t.node.name}@${a!.name}`;
  }],
  [3, 'duplicate-attribute', (doc, rng) => {
    const t = elWithAttrs(doc, rng);
    if (!t) return 'noop';
    const a = rng.pick(t.node.attrs);
    t.node.attrs.push({ ...a, value: rng.chance(0.5) ? a.value : wrongValueFor(a.name, rng) });
    return `${t.node.name}@${a.name}`;
  }],
  [3, 'reorder-attributes', (doc, rng) => {
    const t = elWithAttrs(doc, rng);
    if (!t) return 'noop';
    rng.shuffle(t.node.attrs);
    return t.node.name;
  }],
  [3, 'rename-attribute', (doc, rng) => {
    const t = elWithAttrs(doc, rng);
    if (!t) return 'noop';
    const a = rng.pick(t.node.attrs);
    const to = rng.chance(0.6) ? rng.pick(ATTR_NAMES) : randomName(rng);
    const from = a.name;
    a.name = to;
    return `${from}->${to.slice(0, 20)}`;
  }],
  [3, 'add-attribute', (doc, rng) => {
    const t = anyEl(doc, rng);
    if (!t) return 'noop';
    const name = rng.chance(0.7) ? rng.pick(ATTR_NAMES) : randomName(rng);
    t.node.attrs.splice(rng.int(0, t.node.attrs.length), 0, { name, value: wrongValueFor(name, rng) });
    return `${t.node.name}@${name.slice(0, 20)}`;
  }],
  [12, 'wrong-attribute-value', (doc, rng) => {
    const t = elWithAttrs(doc, rng);
    if (!t) return 'noop';
    const a = rng.pick(t.node.attrs);
    a.value = wrongValueFor(a.name, rng);
    return `${t.node.name}@${a.name}`;
  }],
  [10, 'wrong-text', (doc, rng) => {
    const all = elements(doc).filter((e) => e.node.name === 'ReasonForContact' || e.node.name === 'Item' || rng.chance(0.1));
    if (!all.length) return 'noop';
    const t = rng.pick(all);
    const value = t.node.name === 'ReasonForContact'
      ? rng.pick([...REASONS_FOR_CONTACT, 'Start-Up', ' start-up ', '\nstart-up\n', 'reboot', '', 'start-up start-up', '&#115;tart-up', '<![CDATA[start-up]]>', randomText(rng)])
      : randomText(rng, 200);
    t.node.children = value === '' ? [] : [text(value)];
    return t.node.name;
  }],
  [2, 'huge-or-empty-name', (doc, rng) => {
    const t = anyEl(doc, rng);
    if (!t) return 'noop';
    t.node.name = rng.pick(['', 'a'.repeat(rng.size(100_000)), `${'x:'.repeat(rng.size(5000))}Item`]);
    return t.node.name.length.toString();
  }],
  [4, 'rename-element', (doc, rng) => {
    const t = anyEl(doc, rng);
    if (!t) return 'noop';
    const from = t.node.name;
    t.node.name = randomName(rng);
    return `${from}->${t.node.name.slice(0, 20)}`;
  }],
  [3, 'namespace', (doc, rng) => {
    const all = elements(doc);
    const kind = rng.int(0, 7);
    if (kind === 0) {
      // A consistent prefix, declared or not.
      const prefix = rng.pick(['dls', 'a', 'xsi', 'xml', 'xmlns', '']);
      for (const { node } of all) node.name = `${prefix}:${node.name}`;
      if (rng.chance(0.6) && doc.roots[0]?.kind === 'el') doc.roots[0].attrs.push({ name: `xmlns:${prefix}`, value: rng.pick(NAMESPACES) });
      return `prefix ${prefix}`;
    }
    if (kind >= 6) {
      // What the masking of secrets must read as the parser does (shared/secrets.ts): a prefix in
      // any characters on an Item and its name, or a second, prefixed name naming a secret.
      const items = all.filter((e) => e.node.name.endsWith('Item'));
      const t = items.length ? rng.pick(items) : anyEl(doc, rng);
      if (!t) return 'noop';
      const prefix = rng.pick(['é', 'Ψ', 'd', 'x-y.z', '', 'a\u1680', 'a\uFEFF']);
      if (kind === 6) {
        t.node.name = `${prefix}:${t.node.name}`;
        for (const a of t.node.attrs) if (a.name === 'name') a.name = `${prefix}:name`;
      } else t.node.attrs.splice(rng.int(0, t.node.attrs.length), 0, { name: `${prefix}:name`, value: rng.pick(['user-pwd', 'bootstrapping-tan', 'sip-pwd', 'e164']) });
      return `${kind} ${prefix} on ${t.node.name}`;
    }
    const t = anyEl(doc, rng);
    if (!t) return 'noop';
    if (kind === 1) t.node.attrs.push({ name: 'xmlns', value: rng.pick(NAMESPACES) });
    else if (kind === 2) t.node.attrs.push({ name: `xmlns:${randomAscii(rng, 3).replace(/[^a-z]/gi, 'n')}`, value: rng.pick(NAMESPACES) });
    else if (kind === 3 && t.node.attrs.length) rng.pick(t.node.attrs).name = `${rng.pick(['xsi', 'dls', 'xml', 'q'])}:${rng.pick(t.node.attrs).name}`;
    else if (kind === 4) t.node.name = `${rng.pick(['dls', 'x'])}:${t.node.name}`;
    else for (const a of t.node.attrs) if (a.name.startsWith('xmlns')) a.value = rng.pick(NAMESPACES);
    return `${kind} on ${t.node.name}`;
  }],
  [6, 'entity', (doc, rng) => {
    const e = rng.pick(ENTITIES).repeat(rng.chance(0.9) ? 1 : rng.size(20_000));
    return injectRaw(doc, rng, e, true);
  }],
  [3, 'cdata', (doc, rng) => {
    const raw = rng.pick([`<![CDATA[${randomText(rng)}]]>`, '<![CDATA[<Item name="x"/>]]>', '<![CDATA[', ']]>', '<![CDATA[]]]]><![CDATA[>]]>', '<![cdata[x]]>']);
    return injectRaw(doc, rng, raw, false);
  }],
  [3, 'comment', (doc, rng) => {
    const raw = rng.pick(['<!-- x -->', '<!---->', '<!-- -- -->', '<!--', '-->', '<!-- <Item name="mac-addr">x</Item> -->', `<!--${'x'.repeat(rng.size(100_000))}-->`, '<!--->']);
    if (rng.chance(0.3)) {
      doc.prolog = rng.chance(0.5) ? doc.prolog + raw : raw + doc.prolog;
      return 'prolog';
    }
    return injectRaw(doc, rng, raw, false);
  }],
  [2, 'processing-instruction', (doc, rng) => {
    const raw = rng.pick(['<?x y?>', '<?xml version="1.0"?>', '<?xml-stylesheet href="http://127.0.0.1:9/x"?>', '<?', '?>', '<??>']);
    if (rng.chance(0.4)) {
      doc.epilog += raw;
      return 'epilog';
    }
    return injectRaw(doc, rng, raw, false);
  }],
  [3, 'doctype', (doc, rng) => {
    const d = rng.pick(DOCTYPES);
    const where = rng.int(0, 2);
    if (where === 0) doc.prolog += d;
    else if (where === 1) doc.prolog = d + doc.prolog;
    else injectRaw(doc, rng, d, false);
    return `${where}`;
  }],
  [3, 'deep-nesting', (doc, rng) => {
    const t = anyEl(doc, rng);
    const depth = rng.pick([3, 12, 13, 16, 17, 20, 100, 1000, 20_000, 60_000]);
    const name = rng.pick(['x', 'Item', 'Message', 'a:b', t?.node.name ?? 'x']);
    const close = !rng.chance(0.1);
    const open = `<${name}>`.repeat(depth);
    const end = close ? `</${name}>`.repeat(depth) : '';
    if (!t) {
      doc.roots = [text(open), ...doc.roots, text(end)];
      return `${depth} around everything`;
    }
    const list = t.parent ? t.parent.children : doc.roots;
    const at = list.indexOf(t.node);
    list.splice(at, 1, text(open), t.node, text(end));
    return `${depth} around ${t.node.name}`;
  }],
  [4, 'control-character', (doc, rng) => injectRaw(doc, rng, rng.pick(CONTROL), true)],
  [2, 'mixed-content', (doc, rng) => {
    const t = anyEl(doc, rng);
    if (!t) return 'noop';
    t.node.children.splice(rng.int(0, t.node.children.length), 0, text(randomText(rng)));
    return t.node.name;
  }],
  [2, 'many-items', (doc, rng, o) => {
    const list = elements(doc).find((e) => e.node.name === 'ItemList');
    if (!list) return 'noop';
    const n = rng.size(Math.min(12_000, o.maxBytes / 24));
    const names = ITEM_NAMES;
    for (let i = 0; i < n; i++) {
      const item = el('Item', [['name', rng.pick(names)], ...(rng.chance(0.5) ? [['index', String(i)] as [string, string]] : [])], rng.chance(0.5) ? [text('v')] : []);
      item.selfClose = true;
      list.node.children.push(item);
    }
    return `${n}`;
  }],
  [2, 'many-attributes', (doc, rng, o) => {
    const t = anyEl(doc, rng);
    if (!t) return 'noop';
    const n = rng.size(Math.min(20_000, o.maxBytes / 12));
    const distinct = rng.chance(0.8);
    for (let i = 0; i < n; i++) t.node.attrs.push({ name: distinct ? `a${i}` : 'a', value: '1' });
    return `${n} on ${t.node.name}${distinct ? '' : ' (same name)'}`;
  }],
  [2, 'huge-value', (doc, rng, o) => {
    const n = rng.size(Math.min(o.maxBytes, 250_000));
    const fill = rng.pick(['x', ' ', '&amp;', '<', '\u00e9', '\u{1F600}']);
    const value = fill.repeat(Math.max(1, Math.floor(n / fill.length)));
    if (rng.chance(0.5)) {
      const t = elWithAttrs(doc, rng);
      if (!t) return 'noop';
      rng.pick(t.node.attrs).value = value;
      return `attribute ${n}`;
    }
    const all = texts(doc);
    if (!all.length) return 'noop';
    rng.pick(all).node.raw = value;
    return `text ${n}`;
  }],
  [2, 'whitespace', (doc, rng) => {
    const t = anyEl(doc, rng);
    if (!t) return 'noop';
    const ws = rng.pick([' ', '\n', '\t', '\r\n', '  \n\t ', '\f', '\v', '\u00a0']);
    if (rng.chance(0.5)) t.node.pad = ws;
    else for (const a of t.node.attrs) a.eq = rng.pick(['=', ` =${ws}`, `${ws}=`, '==', '']);
    return JSON.stringify(ws);
  }],
  [2, 'quoting', (doc, rng) => {
    const t = elWithAttrs(doc, rng);
    if (!t) return 'noop';
    const a = rng.pick(t.node.attrs);
    a.quote = rng.pick(["'", '', '"']);
    if (rng.chance(0.3)) a.value = `${a.value}${rng.pick(['"', "'", '<', '>', '&'])}`;
    return `${t.node.name}@${a.name}`;
  }],
  [2, 'self-closing', (doc, rng) => {
    const t = anyEl(doc, rng);
    if (!t) return 'noop';
    if (rng.chance(0.5)) {
      t.node.children = [];
      t.node.selfClose = rng.chance(0.5);
    } else {
      t.node.selfClose = false;
    }
    return t.node.name;
  }],
  [3, 'declaration', (doc, rng) => {
    doc.prolog = rng.pick([
      '',
      '<?xml version="1.0" encoding="ISO-8859-1"?>',
      '<?xml version="1.0" encoding="UTF-16"?>',
      '<?xml version="1.1"?>',
      '<?xml version="2.0"?>',
      '<?xml version="1.0" standalone="yes"?>',
      ' <?xml version="1.0"?>',
      '\ufeff<?xml version="1.0" encoding="UTF-8"?>',
      '\ufeff\ufeff',
      '<?XML version="1.0"?>',
      '<?xml?>',
      '<?xml version="1.0"?><?xml version="1.0"?>',
      '\n\n\n',
    ]);
    return JSON.stringify(doc.prolog.slice(0, 30));
  }],
  [2, 'extra-root', (doc, rng) => {
    const r = rng.int(0, 3);
    if (r === 0 && doc.roots[0]) doc.roots.push(clone(doc.roots[0]));
    else if (r === 1) doc.epilog += rng.pick(['garbage', '<x/>', '</WorkpointMessage>', '\x00', '<WorkpointMessage>']);
    else if (r === 2) doc.prolog += rng.pick(['garbage', '<x/>', ' ', '</a>']);
    else doc.roots.push(text(randomText(rng)));
    return `${r}`;
  }],
  [2, 'close-tag', (doc, rng) => {
    const t = anyEl(doc, rng);
    if (!t) return 'noop';
    if (rng.chance(0.5)) t.node.unclosed = true;
    else {
      t.node.selfClose = false;
      t.node.closeName = rng.pick(['', `${t.node.name} `, t.node.name.toLowerCase(), 'x', `dls:${t.node.name}`, `${t.node.name}x`]);
    }
    return t.node.name;
  }],
  [4, 'fragment', (doc, rng) => {
    const m = elements(doc).find((e) => e.node.name === 'Message');
    const r = elements(doc).find((e) => e.node.name === 'ReasonForContact');
    const target = rng.chance(0.7) ? m : r;
    if (!target) return 'noop';
    const value = rng.pick(['next', 'next', 'final', 'NEXT', '']);
    const existing = target.node.attrs.find((a) => a.name === 'fragment');
    if (existing) existing.value = value;
    else target.node.attrs.push({ name: 'fragment', value });
    return `${target.node.name}=${value}`;
  }],
  [3, 'mac-addr', (doc, rng) => {
    const items = elements(doc).filter((e) => e.node.name === 'Item');
    const mac = items.find((e) => e.node.attrs.some((a) => a.name === 'name' && a.value === 'mac-addr'));
    if (!mac) return 'noop';
    mac.node.children = [text(rng.pick(['', '00:1A:E8:F0:00:99', '001AE8F00099', '00-1a-e8-f0-00-99', 'zz:zz:zz:zz:zz:zz', '00:1A:E8:F0:00', ' 00:1A:E8:F0:00:98 ', '&#48;0:1A:E8:F0:00:97', 'FF:FF:FF:FF:FF:FF', randomText(rng)]))];
    return 'changed';
  }],
];

/** Puts raw text into a random text node, attribute value, or between elements. */
function injectRaw(doc: Doc, rng: Rng, raw: string, valuesToo: boolean): string {
  const where = rng.int(0, valuesToo ? 3 : 2);
  if (where === 0) {
    const all = texts(doc);
    if (all.length) {
      const t = rng.pick(all).node;
      const at = rng.int(0, t.raw.length);
      t.raw = t.raw.slice(0, at) + raw + t.raw.slice(at);
      return 'in text';
    }
  }
  if (where === 3) {
    const t = elWithAttrs(doc, rng);
    if (t) {
      const a = rng.pick(t.node.attrs);
      const at = rng.int(0, a.value.length);
      a.value = a.value.slice(0, at) + raw + a.value.slice(at);
      return `in ${t.node.name}@${a.name}`;
    }
  }
  if (where === 2) {
    const t = anyEl(doc, rng);
    if (t) {
      if (rng.chance(0.5)) t.node.name += raw;
      else if (t.node.attrs.length) rng.pick(t.node.attrs).name += raw;
      else t.node.name = raw + t.node.name;
      return `in name of ${t.node.name.slice(0, 20)}`;
    }
  }
  const t = anyEl(doc, rng);
  if (!t) {
    doc.prolog += raw;
    return 'in prolog';
  }
  t.node.children.splice(rng.int(0, t.node.children.length), 0, text(raw));
  return `between children of ${t.node.name}`;
}

type ByteOp = (b: Buffer, rng: Rng, other: () => Buffer, o: Required<CaseOptions>) => Buffer;

const BYTE_OPS: [number, string, ByteOp][] = [
  [6, 'bit-flip', (b, rng) => {
    const out = Buffer.from(b);
    const n = rng.int(1, 8);
    for (let i = 0; i < n && out.length; i++) out[rng.int(0, out.length - 1)]! ^= 1 << rng.int(0, 7);
    return out;
  }],
  [4, 'set-byte', (b, rng) => {
    const out = Buffer.from(b);
    const n = rng.int(1, 4);
    for (let i = 0; i < n && out.length; i++) out[rng.int(0, out.length - 1)] = rng.pick([0x00, 0xff, 0x3c, 0x3e, 0x26, 0x22, 0x27, 0x2f, 0x3d, 0x80, 0xc0, 0xed, 0x0a, 0x0d, 0x20, rng.int(0, 255)]);
    return out;
  }],
  [4, 'invalid-utf8', (b, rng) => {
    const at = rng.int(0, b.length);
    return Buffer.concat([b.subarray(0, at), Buffer.from(rng.pick(INVALID_UTF8)), b.subarray(at)]);
  }],
  [3, 'insert-random', (b, rng) => {
    const at = rng.int(0, b.length);
    return Buffer.concat([b.subarray(0, at), rng.bytes(rng.int(1, 32)), b.subarray(at)]);
  }],
  [3, 'insert-token', (b, rng) => {
    const at = rng.int(0, b.length);
    const token = rng.pick(['<', '>', '</', '/>', '&', '"', "'", '=', ']]>', '<!--', '-->', '<![CDATA[', '<?', '?>', '<!DOCTYPE x>', '\x00', ' ', '<Item name="x">', '</Item>', '<Message nonce="1">']);
    return Buffer.concat([b.subarray(0, at), Buffer.from(token.repeat(rng.chance(0.9) ? 1 : rng.size(5000)), 'latin1'), b.subarray(at)]);
  }],
  [4, 'delete-range', (b, rng) => {
    if (!b.length) return b;
    const at = rng.int(0, b.length - 1);
    const len = rng.size(b.length - at);
    return Buffer.concat([b.subarray(0, at), b.subarray(at + len)]);
  }],
  [3, 'duplicate-range', (b, rng, _other, o) => {
    if (!b.length) return b;
    const at = rng.int(0, b.length - 1);
    const len = Math.min(rng.size(b.length - at), Math.max(0, o.maxBytes - b.length));
    return Buffer.concat([b.subarray(0, at + len), b.subarray(at, at + len), b.subarray(at + len)]);
  }],
  [5, 'truncate', (b, rng) => b.subarray(0, rng.int(0, b.length))],
  [4, 'splice', (b, rng, other) => {
    const c = other();
    return Buffer.concat([b.subarray(0, rng.int(0, b.length)), c.subarray(rng.int(0, c.length))]);
  }],
  [3, 'overwrite-random', (b, rng) => {
    if (!b.length) return b;
    const out = Buffer.from(b);
    const at = rng.int(0, out.length - 1);
    rng.bytes(Math.min(out.length - at, rng.int(1, 64))).copy(out, at);
    return out;
  }],
  [2, 'swap-ranges', (b, rng) => {
    if (b.length < 4) return b;
    const cut = [rng.int(0, b.length), rng.int(0, b.length), rng.int(0, b.length)].sort((x, y) => x - y);
    return Buffer.concat([b.subarray(0, cut[0]), b.subarray(cut[1], cut[2]), b.subarray(cut[0], cut[1]), b.subarray(cut[2])]);
  }],
];

/** Inputs made from nothing. */
function generated(rng: Rng, o: Required<CaseOptions>): { bytes: Buffer; op: string } {
  const kind = rng.int(0, 4);
  if (kind === 0) return { bytes: rng.bytes(rng.size(Math.min(o.maxBytes, 8192))), op: 'random-bytes' };
  if (kind === 1) {
    let s = '';
    const n = rng.size(4096);
    for (let i = 0; i < n; i++) s += String.fromCharCode(rng.int(0x20, 0x7e));
    return { bytes: Buffer.from(s, 'latin1'), op: 'random-ascii' };
  }
  if (kind === 2) {
    const tokens = ['<', '</', '>', '/>', '=', '"', "'", ' ', '\n', '<?xml version="1.0"?>', '<!--', '-->', '<![CDATA[', ']]>', '&amp;', '&#65;', ...NAMES, ...ATTR_NAMES, ...REASONS_FOR_CONTACT, 'nonce="ABC"'];
    const parts: string[] = [];
    const n = rng.size(400);
    for (let i = 0; i < n; i++) parts.push(rng.pick(tokens));
    return { bytes: Buffer.from(parts.join(''), 'utf8'), op: 'token-soup' };
  }
  // A random but well-formed-ish tree in WPI vocabulary.
  const build = (depth: number): Node => {
    if (depth > 5 || rng.chance(0.25)) return text(randomText(rng));
    const e = el(rng.chance(0.8) ? rng.pick(NAMES) : randomName(rng).slice(0, 40));
    const na = rng.size(5);
    for (let i = 0; i < na; i++) {
      const name = rng.pick(ATTR_NAMES);
      e.attrs.push({ name, value: wrongValueFor(name, rng) });
    }
    const nc = rng.size(6);
    for (let i = 0; i < nc; i++) e.children.push(build(depth + 1));
    e.selfClose = true;
    return e;
  };
  const doc: Doc = { prolog: rng.chance(0.5) ? '<?xml version="1.0" encoding="UTF-8"?>\n' : '', roots: [build(0)], epilog: '' };
  if (kind === 4) {
    // The right skeleton with random content.
    const msg = el('Message', [['nonce', rng.chance(0.8) ? randomAscii(rng, rng.int(1, 40)).replace(/[<>&"']/g, 'x') : wrongValueFor('nonce', rng)]], [
      el('ReasonForContact', rng.chance(0.5) ? [['action', rng.pick([...ACTIONS])], ['status', rng.pick([...REPLY_STATUSES])]] : [], [text(rng.pick([...REASONS_FOR_CONTACT]))]),
      el('ItemList', [], Array.from({ length: rng.size(50) }, () => el('Item', [['name', rng.pick(ITEM_NAMES)]], [text(randomText(rng))]))),
    ]);
    doc.roots = [el('WorkpointMessage', [], [msg])];
  }
  return { bytes: Buffer.from(serialize(doc), 'utf8'), op: kind === 4 ? 'random-wpi' : 'random-tree' };
}

const DEFAULTS: Required<CaseOptions> = { maxBytes: 256 * 1024, validShare: 0.08, http: false };

export class CaseMaker {
  private readonly weights: [number, Seed][];

  constructor(
    private readonly corpus: readonly Seed[],
    private readonly runSeed: number,
    private readonly options: CaseOptions = {},
  ) {
    this.weights = corpus.map((s) => [s.weight, s]);
  }

  make(stream: 'p' | 's', index: number): FuzzCase {
    const o = { ...DEFAULTS, ...this.options };
    const rng = new Rng(caseSeed(this.runSeed, stream, index));
    const ops: string[] = [];
    let bytes: Buffer;
    const mode = rng.next();
    if (mode < 0.1) {
      const g = generated(rng, o);
      ops.push(g.op);
      bytes = g.bytes;
    } else {
      const seed = rng.weighted(this.weights);
      ops.push(`seed ${seed.label}`);
      const doc = cloneDoc(seed.doc);
      // Every case gets its own nonce, so answers can be matched to requests.
      const message = elements(doc).find((e) => e.node.name === 'Message');
      const nonceAttr = message?.node.attrs.find((a) => a.name === 'nonce');
      if (nonceAttr) nonceAttr.value = `${stream.toUpperCase()}${index.toString(16).toUpperCase()}X${rng.u32().toString(16).toUpperCase()}`;
      if (mode < 0.1 + o.validShare) {
        ops.push('valid');
        bytes = Buffer.from(serialize(doc), 'utf8');
      } else if (mode < 0.62) {
        const n = rng.weighted([[6, 1], [3, 2], [2, 3], [1, 5]] as const);
        for (let i = 0; i < n; i++) {
          const [, name, op] = rng.weighted(STRUCT_OPS.map((e) => [e[0], e] as const));
          ops.push(`${name}(${op(doc, rng, o).slice(0, 60)})`);
        }
        bytes = Buffer.from(serialize(doc), 'utf8');
        if (rng.chance(0.25)) bytes = this.byteOps(bytes, rng, ops, o, 1);
      } else {
        bytes = this.byteOps(Buffer.from(serialize(doc), 'utf8'), rng, ops, o, rng.weighted([[6, 1], [3, 2], [2, 3], [1, 6]] as const));
      }
    }
    if (bytes.length > o.maxBytes && !rng.chance(0.02)) {
      ops.push(`clipped ${bytes.length}`);
      bytes = bytes.subarray(0, o.maxBytes);
    }
    const c: FuzzCase = { id: `${stream}#${index}`, ops, bytes };
    if (o.http) c.http = this.http(rng);
    return c;
  }

  private byteOps(b: Buffer, rng: Rng, ops: string[], o: Required<CaseOptions>, n: number): Buffer {
    const other = () => rng.pick(this.corpus).bytes;
    for (let i = 0; i < n; i++) {
      const [, name, op] = rng.weighted(BYTE_OPS.map((e) => [e[0], e] as const));
      b = op(b, rng, other, o);
      ops.push(name);
    }
    return b;
  }

  private http(rng: Rng): NonNullable<FuzzCase['http']> {
    const h: NonNullable<FuzzCase['http']> = {};
    if (rng.chance(0.45)) h.cookie = 'lane';
    else if (rng.chance(0.1)) h.cookie = rng.pick(['JSESSIONID=', 'JSESSIONID=00000000000000000000000000000000', `JSESSIONID=${'A'.repeat(65)}`, 'JSESSIONID="x"; JSESSIONID=y', ';;;,,,=', 'a=b, JSESSIONID=zz', `JSESSIONID=${randomAscii(rng, 20).replace(/[;,\s]/g, '')}`]);
    if (rng.chance(0.02)) h.path = rng.pick(['/', '/DeploymentService', '/deploymentservice/LoginService', '/DeploymentService/../etc/passwd', `/${'x'.repeat(2000)}`, '/DeploymentService/LoginService?x=1', '/%00']);
    if (rng.chance(0.015)) h.method = rng.pick(['GET', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']);
    if (rng.chance(0.03)) h.contentType = rng.pick([null, 'application/json', 'text/xml; charset=ISO-8859-1', 'multipart/form-data; boundary=x', '']);
    return h;
  }
}
