/**
 * The XML layer shared by both directions: strict pre-checks, fast-xml-parser with entity
 * processing off, and escaping for what we build. No I/O.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { WpiError } from './errors';

/** WPI documents are four levels deep; anything far deeper is hostile. */
const MAX_DEPTH = 16;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  attributesGroupName: '@',
  removeNSPrefix: true,
  processEntities: false,
  htmlEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  textNodeName: '#text',
  alwaysCreateTextNode: true,
  isArray: (name) => name === 'Item',
  maxNestedTags: MAX_DEPTH,
});

export type XmlNode = { '#text'?: string; '@'?: Record<string, string> } & Record<string, unknown>;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** Decodes UTF-8 strictly: a phone sends UTF-8 (manual p.30); anything else is refused. */
export function decodeUtf8(bytes: Uint8Array): string {
  if (bytes.length === 0) throw new WpiError('empty', 'empty body: expected a WPI XML message');
  try {
    return utf8.decode(bytes);
  } catch {
    throw new WpiError('not-utf8', 'body is not valid UTF-8');
  }
}

/** Parses one XML document into a tree; refuses DTDs (no entity expansion, ever). */
export function parseXml(text: string): Record<string, unknown> {
  if (/<!DOCTYPE/i.test(text) || /<!ENTITY/i.test(text)) {
    throw new WpiError('doctype', 'DOCTYPE or entity declarations are not allowed');
  }
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    throw new WpiError('not-xml', `not well-formed XML: ${brief(valid.err.msg)} (line ${valid.err.line})`);
  }
  try {
    return parser.parse(text) as Record<string, unknown>;
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    if (/nested/i.test(msg)) throw new WpiError('too-deep', `XML nested deeper than ${MAX_DEPTH} levels`);
    throw new WpiError('not-xml', `not well-formed XML: ${brief(msg)}`);
  }
}

/**
 * The validator's messages quote the offending input (a tag name, or the whole stack of open tags
 * when nesting is hostile): one short line, so a refusal is never larger than what it refuses.
 */
function brief(msg: string): string {
  const line = msg.replace(/\s+/g, ' ').trim();
  return line.length > 160 ? `${line.slice(0, /[\ud800-\udbff]/.test(line[159]!) ? 159 : 160)}…` : line;
}

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/**
 * Resolves the five predefined entities and character references; nothing else is expanded. A
 * reference to something that is not an XML character (NUL and other C0 controls, surrogate
 * halves, U+FFFE/U+FFFF, beyond U+10FFFF) stays as written rather than put a lone surrogate or a
 * control character into a value.
 */
export function unescapeXml(raw: string): string {
  if (!raw.includes('&')) return raw;
  return raw.replace(/&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|amp|lt|gt|quot|apos);/g, (whole, ref: string) => {
    if (ref.startsWith('#')) {
      const code = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return isXmlChar(code) ? String.fromCodePoint(code) : whole;
    }
    return NAMED[ref] ?? whole;
  });
}

/** The Char production of XML 1.0 (§2.2). */
function isXmlChar(code: number): boolean {
  return code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);
}

/** A carriage return is written as a reference: XML parsers turn a literal one into a line feed. */
export function escapeXml(value: string): string {
  return value.replace(/[&<>"'\r]/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos', '\r': '#13' }[c]};`);
}
