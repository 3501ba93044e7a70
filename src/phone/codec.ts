/**
 * The phone's own WPI codec: WorkpointMessage written the way the manual's phones write it, and
 * DLSMessage read the way a phone's XML parser reads it. Written from the manual's examples
 * (wpi-protocol.md §3, printed pages p.27–p.83), deliberately not from the service's codec in
 * src/main/wpi: when both sides share one encoder/decoder, a bug in it is mirrored on the other
 * side and every test passes. test/phone/codec-cross.test.ts runs each side's output through the
 * other side's reader. No I/O.
 *
 * What the phone writes (the examples on p.46, p.76, p.78, p.81, p.83, where the manual is most
 * consistent; other pages print other attribute orders, which mean the same):
 *
 *   <?xml version="1.0" encoding="utf-8"?>                      (field capture, wpi-protocol.md §2.3)
 *   <WorkpointMessage xsi:schemaLocation="…DLS" xmlns:xsi="…XMLSchema-instance" xmlns="…DLS">
 *   <Message nonce="…" maxItems="-1" fragment="final">
 *   <ReasonForContact status="accepted" action="WriteItems">reply-to</ReasonForContact>
 *   <ItemList>
 *   <Item name="e164">49897223290</Item>
 *   <Item status="failed" name="Canonical-lookup-local-code" index="6"/>
 *   </ItemList>
 *   </Message>
 *   </WorkpointMessage>
 *
 * How it reads: namespace-agnostic (p.34 prints another namespace), attributes in any order,
 * literal whitespace around values and names dropped (the manual wraps values across lines,
 * p.33, p.53, p.55), the five predefined entities and character references resolved and nothing
 * else (no DTD, so any other entity is an error, as in every conforming XML parser).
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

export const DLS_NAMESPACE = 'http://www.siemens.com/DLS';
const XSI_NAMESPACE = 'http://www.w3.org/2001/XMLSchema-instance';

/** Action values, manual p.30–31 (table of §3.4.2). */
export const ACTIONS = ['ReadAllItems', 'ReadItems', 'WriteItems', 'Restart', 'FileDeployment', 'SoftwareDeployment', 'CleanUp', 'GetNextFragment'] as const;
export type Action = (typeof ACTIONS)[number];

/** ReasonForContact values, manual p.28–29 and p.83. */
export const REASONS_FOR_CONTACT = ['start-up', 'local-changes', 'inventory-changes', 'status', 'solicited', 'reply-to', 'clean-up'] as const;
export type ReasonForContact = (typeof REASONS_FOR_CONTACT)[number];

/** `status` of a reply-to ReasonForContact, manual p.29. */
export type ReplyStatus = 'accepted' | 'failed' | 'busy';

/** Item statuses a phone reports, manual p.26; written with spaces, as in the XML of p.78–83. */
export const ITEM_STATUSES = ['failed', 'unknown item', 'read only', 'invalid index', 'unexpected item', 'not supported', 'invalid data', 'undefined status'] as const;
export type ItemStatus = (typeof ITEM_STATUSES)[number];

export type Fragment = 'next' | 'final';

export interface Item {
  name: string;
  /** Multi-instance number (p.26); 0 is an index (dls-server-ca, p.64), undefined means none. */
  index?: number;
  value: string;
  /** Only in the phone's messages (p.26). */
  status?: string;
}

/** What the phone sends. */
export interface WorkpointMessage {
  nonce: string;
  /** Absent on the p.33 start-up; -1 (no limit) in every other example. */
  maxItems?: number;
  fragment?: Fragment;
  reason: ReasonForContact;
  /** reply-to only: the Action answered and whether it was taken (p.29). */
  action?: string;
  status?: string;
  items: Item[];
}

/** What the phone receives. */
export interface DLSMessage {
  nonce: string;
  action: Action;
  items: Item[];
}

/** A phone message may not exceed 50 kB (manual p.69). */
export const MAX_MESSAGE_BYTES = 50 * 1024;

export type PhoneCodecErrorCode =
  | 'not-utf8'
  | 'empty'
  | 'doctype'
  | 'not-xml'
  | 'bad-reference'
  | 'wrong-root'
  | 'duplicate-element'
  | 'no-message'
  | 'no-nonce'
  | 'no-action'
  | 'unknown-action'
  | 'item-without-name'
  | 'bad-index'
  | 'bad-item'
  | 'not-xml-char';

/** A DLSMessage the phone cannot use, or a WorkpointMessage it cannot write; `message` is one line. */
export class PhoneCodecError extends Error {
  override readonly name = 'PhoneCodecError';
  constructor(
    readonly code: PhoneCodecErrorCode,
    message: string,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------------------------
// Writing WorkpointMessage

const DECLARATION = '<?xml version="1.0" encoding="utf-8"?>';
const ROOT_ATTRIBUTES = `xsi:schemaLocation="${DLS_NAMESPACE}" xmlns:xsi="${XSI_NAMESPACE}" xmlns="${DLS_NAMESPACE}"`;

export interface BuildOptions {
  /** A busy reply has no ItemList at all (p.46, p.76). */
  omitItemList?: boolean;
}

export function buildWorkpointMessage(message: WorkpointMessage, options: BuildOptions = {}): string {
  const lines = [DECLARATION, `<WorkpointMessage ${ROOT_ATTRIBUTES}>`, messageStartTag(message), reasonElement(message)];
  if (!(options.omitItemList && message.items.length === 0)) lines.push(...itemListLines(message.items));
  lines.push('</Message>', '</WorkpointMessage>');
  return lines.join('\n');
}

function messageStartTag(m: WorkpointMessage): string {
  let tag = `<Message nonce="${attribute(m.nonce, 'nonce')}"`;
  if (m.maxItems !== undefined) tag += ` maxItems="${integer(m.maxItems, 'maxItems')}"`;
  if (m.fragment !== undefined) tag += ` fragment="${m.fragment}"`;
  return `${tag}>`;
}

/** status before action, as on p.46, p.48, p.64, p.76–83. */
function reasonElement(m: WorkpointMessage): string {
  let tag = '<ReasonForContact';
  if (m.status !== undefined) tag += ` status="${attribute(m.status, 'status')}"`;
  if (m.action !== undefined) tag += ` action="${attribute(m.action, 'action')}"`;
  return `${tag}>${m.reason}</ReasonForContact>`;
}

function itemListLines(items: readonly Item[]): string[] {
  // An accepted reply without data: <ItemList/> (p.48, p.64, p.67).
  if (items.length === 0) return ['<ItemList/>'];
  return ['<ItemList>', ...items.map(itemElement), '</ItemList>'];
}

/**
 * One Item: status, name, index in that order (p.81 `<Item status="failed" name="…" index="6">`);
 * an empty value self-closed (p.33, p.54).
 */
export function itemElement(item: Item): string {
  const where = `item ${item.name}`;
  if (item.name === '') throw new PhoneCodecError('item-without-name', 'an Item needs a name');
  let tag = '<Item';
  if (item.status !== undefined) tag += ` status="${attribute(item.status, where)}"`;
  tag += ` name="${attribute(item.name, where)}"`;
  if (item.index !== undefined) tag += ` index="${integer(item.index, `index of ${where}`)}"`;
  return item.value === '' ? `${tag}/>` : `${tag}>${text(item.value, where)}</Item>`;
}

function integer(n: number, what: string): string {
  if (!Number.isSafeInteger(n)) throw new PhoneCodecError('bad-index', `${what} must be an integer, not ${n}`);
  return String(n);
}

/**
 * Character data. `>` is escaped too so `]]>` never appears; a carriage return as a reference,
 * since a reader turns a literal one into a line feed (XML 1.0 §2.11).
 */
function text(value: string, where: string): string {
  checkChars(value, where);
  return value.replace(/[&<>\r]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&#13;'));
}

/** Attribute values: tab, line feed and carriage return as references, or a reader turns them into spaces (§3.3.3). */
function attribute(value: string, where: string): string {
  checkChars(value, where);
  return value.replace(/[&<"\t\n\r]/g, (c) => `&${{ '&': 'amp', '<': 'lt', '"': 'quot', '\t': '#9', '\n': '#10', '\r': '#13' }[c]};`);
}

/** Characters XML 1.0 cannot carry at all, not even as references (C0 controls, lone surrogates, U+FFFE/U+FFFF). */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const NOT_XML = /[\0-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function checkChars(value: string, where: string): void {
  const bad = NOT_XML.exec(value);
  if (bad) throw new PhoneCodecError('not-xml-char', `${where}: ${codePoint(bad[0])} cannot be sent in XML`);
}

function codePoint(c: string): string {
  return `U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
}

// ---------------------------------------------------------------------------------------------
// Fragmenting the phone's own replies (manual p.69–70)

export interface FragmentLimits {
  /** The phone's maxItems; -1 or undefined: no item limit. */
  maxItems?: number;
  /** Largest whole message in bytes; default the 50 kB of p.69. */
  maxBytes?: number;
}

/**
 * Splits `items` into the ItemLists of consecutive messages shaped like `envelope`, each within
 * the limits, measured on the exact bytes buildWorkpointMessage writes (with `fragment="final"`,
 * the longer value). An item that does not fit even alone travels alone. Always at least one list.
 */
export function fragmentItems(envelope: Omit<WorkpointMessage, 'items' | 'fragment'>, items: readonly Item[], limits: FragmentLimits = {}): Item[][] {
  const maxItems = limits.maxItems === undefined || limits.maxItems < 1 ? Infinity : limits.maxItems;
  const maxBytes = limits.maxBytes ?? MAX_MESSAGE_BYTES;
  // Message without items, plus what a non-empty ItemList adds: "<ItemList>\n…</ItemList>" replaces "<ItemList/>".
  const base = Buffer.byteLength(buildWorkpointMessage({ ...envelope, fragment: 'final', items: [] })) - '<ItemList/>'.length + '<ItemList>\n</ItemList>'.length;
  const lists: Item[][] = [];
  let current: Item[] = [];
  let bytes = base;
  for (const item of items) {
    const cost = Buffer.byteLength(itemElement(item)) + 1; // the line feed after it
    if (current.length > 0 && (current.length + 1 > maxItems || bytes + cost > maxBytes)) {
      lists.push(current);
      current = [];
      bytes = base;
    }
    current.push(item);
    bytes += cost;
  }
  lists.push(current);
  return lists;
}

// ---------------------------------------------------------------------------------------------
// Reading DLSMessage

/** DLSMessage is four levels deep; a generous bound stops hostile nesting early. */
const MAX_DEPTH = 32;

const reader = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  removeNSPrefix: true,
  // References are resolved below, by the XML rules, and never from a DTD.
  processEntities: false,
  htmlEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  cdataPropName: '#cdata',
  maxNestedTags: MAX_DEPTH,
});

/** One node of fast-xml-parser's ordered tree. */
type Node = Record<string, unknown> & { ':@'?: Record<string, string> };

interface Element {
  name: string;
  attributes: Record<string, string>;
  children: Node[];
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Reads the service's answer; throws PhoneCodecError for anything a phone could not act on. */
export function parseDLSMessage(input: Uint8Array | string): DLSMessage {
  let source: string;
  if (typeof input === 'string') source = input;
  else {
    try {
      source = utf8.decode(input); // strips a BOM
    } catch {
      throw new PhoneCodecError('not-utf8', 'the answer is not UTF-8 (the manual asks for UTF-8, p.30)');
    }
  }
  source = source.replace(/^\uFEFF/, '');
  if (source.trim() === '') throw new PhoneCodecError('empty', 'the answer is empty, expected a DLSMessage');
  // A phone has no business with DTDs: no entity declarations, no external references.
  if (/<!DOCTYPE|<!ENTITY/i.test(source)) throw new PhoneCodecError('doctype', 'the answer carries a DOCTYPE or entity declaration');
  // fast-xml-parser lets these through; a conforming parser refuses the document (XML 1.0 §2.2).
  const bad = NOT_XML.exec(source);
  if (bad) throw new PhoneCodecError('not-xml', `the answer is not well-formed XML: ${codePoint(bad[0])} at offset ${bad.index} is not an XML character`);
  const valid = XMLValidator.validate(source);
  if (valid !== true) throw new PhoneCodecError('not-xml', `the answer is not well-formed XML: ${oneLine(valid.err.msg)} (line ${valid.err.line})`);
  let tree: Node[];
  try {
    tree = reader.parse(source) as Node[];
  } catch (err) {
    throw new PhoneCodecError('not-xml', `the answer is not well-formed XML: ${oneLine(err instanceof Error ? err.message : String(err))}`);
  }
  const roots = elements(tree);
  if (roots.length !== 1) throw new PhoneCodecError('wrong-root', `the answer has ${roots.length} root elements, expected one DLSMessage`);
  const root = roots[0]!;
  if (root.name !== 'DLSMessage') throw new PhoneCodecError('wrong-root', `the root element is ${clip(root.name)}, expected DLSMessage`);
  const message = only(root, 'Message');
  if (!message) throw new PhoneCodecError('no-message', 'DLSMessage has no Message element');
  const nonce = attr(message, 'nonce', 'the nonce');
  if (nonce === undefined || nonce === '') throw new PhoneCodecError('no-nonce', 'Message has no nonce (p.28: every answer carries the nonce it answers)');
  const actionElement = only(message, 'Action');
  const action = actionElement ? value(actionElement, 'Action') : '';
  if (action === '') throw new PhoneCodecError('no-action', 'Message has no Action (p.30: every message from the service has one)');
  if (!(ACTIONS as readonly string[]).includes(action)) throw new PhoneCodecError('unknown-action', `unknown Action "${clip(action)}"`);
  const list = only(message, 'ItemList');
  const items = list ? elements(list.children).filter((e) => e.name === 'Item').map(readItem) : [];
  return { nonce, action: action as Action, items };
}

function readItem(e: Element, position: number): Item {
  const name = attr(e, 'name', `Item ${position + 1}`)?.trim();
  if (!name) throw new PhoneCodecError('item-without-name', `Item ${position + 1} has no name`);
  const item: Item = { name, value: value(e, `item ${clip(name)}`) };
  const index = attr(e, 'index', `the index of ${clip(name)}`)?.trim();
  if (index !== undefined) {
    if (!/^\d{1,9}$/.test(index)) throw new PhoneCodecError('bad-index', `the index of ${clip(name)} must be a whole number, not "${clip(index)}"`);
    item.index = Number(index);
  }
  // A `status` on the service's items means nothing to the phone (p.26: only the phone sends it).
  return item;
}

function elements(nodes: Node[]): Element[] {
  const out: Element[] = [];
  for (const node of nodes) {
    const name = Object.keys(node).find((k) => k !== ':@');
    if (name === undefined || name === '#text' || name === '#cdata') continue;
    out.push({ name, attributes: node[':@'] ?? {}, children: (node[name] as Node[] | undefined) ?? [] });
  }
  return out;
}

function only(parent: Element, name: string): Element | undefined {
  const found = elements(parent.children).filter((e) => e.name === name);
  if (found.length > 1) throw new PhoneCodecError('duplicate-element', `${parent.name} has ${found.length} ${name} elements, expected one`);
  return found[0];
}

/**
 * Character data of a leaf element: literal whitespace at either end is line wrapping, not data
 * (p.33, p.53, p.55); it is dropped before references are resolved, so `&#32;` survives. CDATA
 * is taken as written. An element inside a value is refused: values are text.
 */
function value(e: Element, where: string): string {
  const parts: { raw: string; cdata: boolean }[] = [];
  for (const node of e.children) {
    if (typeof node['#text'] === 'string') parts.push({ raw: normalizeNewlines(node['#text']), cdata: false });
    else if (Array.isArray(node['#cdata'])) parts.push({ raw: (node['#cdata'] as Node[]).map((t) => String(t['#text'] ?? '')).join(''), cdata: true });
    else throw new PhoneCodecError('bad-item', `${where}: an element inside a value`);
  }
  for (let i = 0; i < parts.length && !parts[i]!.cdata; i++) {
    parts[i]!.raw = parts[i]!.raw.replace(/^[ \t\n]+/, '');
    if (parts[i]!.raw !== '') break;
  }
  for (let i = parts.length - 1; i >= 0 && !parts[i]!.cdata; i--) {
    parts[i]!.raw = parts[i]!.raw.replace(/[ \t\n]+$/, '');
    if (parts[i]!.raw !== '') break;
  }
  return parts.map((p) => (p.cdata ? p.raw : resolve(p.raw, where))).join('');
}

function attr(e: Element, name: string, where: string): string | undefined {
  const raw = e.attributes[name];
  if (raw === undefined) return undefined;
  // Attribute-value normalization (XML 1.0 §3.3.3): literal white space becomes a space.
  return resolve(normalizeNewlines(raw).replace(/[\t\n]/g, ' '), where);
}

function normalizeNewlines(s: string): string {
  return s.replace(/\r\n?/g, '\n');
}

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** The five predefined entities and character references (XML 1.0 §4.1, §4.6); anything else is an error. */
function resolve(raw: string, where: string): string {
  if (!raw.includes('&')) return raw;
  return raw.replace(/&([^;]{0,12});|&/g, (whole, ref: string | undefined) => {
    if (ref === undefined) throw new PhoneCodecError('bad-reference', `${where}: a lone "&"`);
    if (ref in PREDEFINED) return PREDEFINED[ref]!;
    const m = /^#(?:x([0-9a-fA-F]{1,6})|([0-9]{1,7}))$/.exec(ref);
    if (!m) throw new PhoneCodecError('bad-reference', `${where}: "${clip(whole)}" is not an XML reference (no DTD, so only &lt; &gt; &amp; &quot; &apos; and &#…;)`);
    const code = m[1] !== undefined ? parseInt(m[1], 16) : parseInt(m[2]!, 10);
    if (!isXmlChar(code)) throw new PhoneCodecError('bad-reference', `${where}: "${clip(whole)}" refers to a character XML does not allow`);
    return String.fromCodePoint(code);
  });
}

/** XML 1.0 §2.2 Char. */
function isXmlChar(c: number): boolean {
  return c === 0x9 || c === 0xa || c === 0xd || (c >= 0x20 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);
}

function oneLine(s: string): string {
  return clip(s.replace(/\s+/g, ' ').trim(), 160);
}

function clip(s: string, max = 40): string {
  const flat = s.replace(/\s+/g, ' ');
  if (flat.length <= max) return flat;
  const cut = /[\ud800-\udbff]/.test(flat[max - 1]!) ? max - 1 : max;
  return `${flat.slice(0, cut)}…`;
}

// ---------------------------------------------------------------------------------------------
// MAC address

/**
 * The phone's mac-addr as the manual prints it (p.27, p.33, p.54: 00:01:E3:25:EA:13): six
 * upper-case hex pairs joined by colons. Accepts what a person types for a simulated phone:
 * colons, dashes, dots (0001.e325.ea13) or no separators. null when it is not 12 hex digits.
 */
export function formatMac(raw: string): string | null {
  const s = raw.trim();
  // One separator throughout: pairs by ':' or '-', groups of four by '.' (switch style), or none.
  const pairs = /^[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(\1[0-9A-Fa-f]{2}){4}$/.test(s);
  const quads = /^[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}$/.test(s);
  if (!pairs && !quads && !/^[0-9A-Fa-f]{12}$/.test(s)) return null;
  return s.replace(/[:.-]/g, '').toUpperCase().replace(/(..)(?!$)/g, '$1:');
}
