/**
 * The XML layer shared by both directions: strict pre-checks, one strict parse, and escaping for
 * what we build. No I/O.
 *
 * One pass (saxes, a conforming non-validating parser) both checks that a message is well-formed
 * and builds its tree: there is no separate validation pass. Entities and character references are
 * resolved by the parser (only the five predefined ones exist: a DTD is refused before parsing, so
 * nothing is ever expanded); CDATA stays as written; attribute values are normalised as XML says
 * (a literal newline or tab becomes a space).
 */
import { SaxesParser, type SaxesAttributeNS, type SaxesTagPlain } from 'saxes';
import { wpiRefusalText } from '../../shared/wpi-refusals';
import { WpiError } from './errors';

/** WPI documents are four levels deep; anything far deeper is hostile. */
const MAX_DEPTH = 16;

/**
 * An element: its attributes under '@' and its text under '#text' (names without namespace
 * prefix), its children by name; `Item` is always a list, any other name repeated becomes one.
 */
export type XmlNode = { '#text'?: string; '@'?: Record<string, string> } & Record<string, unknown>;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** Decodes UTF-8 strictly: a phone sends UTF-8 (manual p.30); anything else is refused. */
export function decodeUtf8(bytes: Uint8Array): string {
  if (bytes.length === 0) throw new WpiError('empty', wpiRefusalText('empty'));
  try {
    return utf8.decode(bytes);
  } catch {
    throw new WpiError('not-utf8', wpiRefusalText('notUtf8'));
  }
}

const localName = (name: string): string => {
  const colon = name.indexOf(':');
  return colon < 0 ? name : name.slice(colon + 1);
};

/**
 * Nodes that inherit nothing, so an element or attribute called __proto__ or constructor is just a
 * name, yet stay in V8's fast object mode: Object.create(null) makes dictionary-mode objects, and a
 * reply of hundreds of Items made two of them per Item (the tree cost more than the parse itself).
 */
const Bare = function Bare() {} as unknown as new () => XmlNode;
Bare.prototype = Object.create(null) as object;

/** Parses one XML document into a tree; refuses DTDs (no entity expansion, ever). */
export function parseXml(text: string): Record<string, unknown> {
  if (/<!DOCTYPE/i.test(text) || /<!ENTITY/i.test(text)) {
    throw new WpiError('doctype', wpiRefusalText('doctype'));
  }
  const doc = new Bare();
  // Open elements, root first, and beside them the text each has gathered so far.
  const open: XmlNode[] = [doc];
  const texts: string[] = [''];
  // XML 1.0 whatever the declaration says: 1.1 would let C0 controls in through references,
  // and the phones' parsers (and our WriteItems) are 1.0.
  const parser = new SaxesParser({ xmlns: false, position: true, defaultXMLVersion: '1.0', forceXMLVersion: true });
  let failure: WpiError | null = null;
  parser.on('error', (err) => {
    failure ??= new WpiError('not-xml', wpiRefusalText('notXmlAtLine', { problem: brief(err.message.replace(/^(?:[^:]*:)?\d+:\d+: /, '')), line: String(parser.line) }));
    throw failure; // stop at the first error: the rest of a broken message is not worth reading
  });
  parser.on('opentag', (tag: SaxesTagPlain | { name: string; attributes: Record<string, string | SaxesAttributeNS> }) => {
    if (open.length > MAX_DEPTH) {
      failure = new WpiError('too-deep', wpiRefusalText('tooDeep', { max: String(MAX_DEPTH) }));
      throw failure;
    }
    const node = new Bare();
    let attributes: Record<string, string> | undefined;
    // for…in, not Object.entries: no array per element (thousands of Items in a reply).
    const given = tag.attributes;
    for (const name in given) {
      if (name === 'xmlns' || name.startsWith('xmlns:')) continue;
      const value = given[name]!;
      const local = localName(name);
      attributes ??= new Bare() as Record<string, string>;
      // `name` and `x:name` on one element are one name here (prefixes are dropped): which would count
      // is a guess, and the masking of secrets (shared/secrets.ts) must never have to guess with us.
      // (The root's attributes are read by no one; canonical.ts lets its prefixed ones through.)
      if (local === 'name' && open.length > 1 && attributes[local] !== undefined) {
        failure = new WpiError('duplicate-attribute', wpiRefusalText('duplicateAttribute', { element: brief(tag.name), attribute: brief(local) }));
        throw failure;
      }
      attributes[local] = typeof value === 'string' ? value : value.value;
    }
    if (attributes) node['@'] = attributes;
    const parent = open[open.length - 1]!;
    const name = localName(tag.name);
    const existing = parent[name];
    // Appended in place: a message may hold thousands of Items (a copy per Item would be quadratic).
    if (Array.isArray(existing)) (existing as XmlNode[]).push(node);
    else if (name === 'Item') parent[name] = [node];
    else parent[name] = existing === undefined ? node : [existing, node];
    open.push(node);
    texts.push('');
  });
  parser.on('text', (t) => {
    if (open.length > 1) texts[texts.length - 1] += t;
  });
  parser.on('cdata', (t) => {
    if (open.length > 1) texts[texts.length - 1] += t;
  });
  parser.on('closetag', () => {
    const t = texts.pop()!;
    open.pop()!['#text'] = t === '' ? t : t.trim();
  });
  try {
    parser.write(text).close();
  } catch (err) {
    if (failure) throw failure;
    throw new WpiError('not-xml', wpiRefusalText('notXml', { problem: brief(err instanceof Error ? err.message : String(err)) }));
  }
  return doc;
}

/** Where a text is not well-formed XML, as the service's parser sees it (the inspector shows it); null when it is. */
export function wellFormednessProblem(text: string): { line: number; column: number; message: string } | null {
  const parser = new SaxesParser({ xmlns: false, position: true, defaultXMLVersion: '1.0', forceXMLVersion: true });
  let problem: { line: number; column: number; message: string } | null = null;
  parser.on('error', (err) => {
    problem ??= { line: parser.line, column: parser.column, message: brief(err.message.replace(/^(?:[^:]*:)?\d+:\d+: /, '')) };
    throw err;
  });
  try {
    parser.write(text).close();
  } catch {
    // the first problem is recorded
  }
  return problem;
}

/**
 * The parser's messages quote the offending input (a tag name, or the whole stack of open tags
 * when nesting is hostile): one short line, so a refusal is never larger than what it refuses.
 */
function brief(msg: string): string {
  const line = msg.replace(/\s+/g, ' ').trim();
  return line.length > 160 ? `${line.slice(0, /[\ud800-\udbff]/.test(line[159]!) ? 159 : 160)}…` : line;
}

/** A carriage return is written as a reference: XML parsers turn a literal one into a line feed. */
export function escapeXml(value: string): string {
  return value.replace(/[&<>"'\r]/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos', '\r': '#13' }[c]};`);
}

/** An attribute value: a literal tab or line feed would be read back as a space (XML 1.0 §3.3.3). */
export function escapeXmlAttribute(value: string): string {
  return escapeXml(value).replace(/[\t\n]/g, (c) => (c === '\t' ? '&#9;' : '&#10;'));
}
