/**
 * A WorkpointMessage in the shape phones write it, read in one scan without building a tree
 * (issue #14: the general parse, saxes plus a tree plus the items, was the request path's largest
 * cost after TLS, and most of the garbage each exchange leaves).
 *
 * It reads only documents it can prove well-formed itself: an optional `<?xml version="1.0" …?>`,
 * then `WorkpointMessage` > `Message` > `ReasonForContact` and an optional `ItemList` of `Item`s with
 * text, in that order, ASCII names, quoted attribute values, the five predefined entities and no
 * other markup. Anything else (a comment, CDATA, a character reference, a carriage return, another
 * element, a namespace prefix, an odd value) returns null and parse.ts takes the general path,
 * which reads or refuses it exactly as before. So this never refuses and never decides anything of
 * its own: on what it accepts it gives what the general path gives, field for field and in the same
 * key order (test/wpi/canonical.test.ts compares the two on thousands of mutated messages).
 */
import type { Item, WorkpointMessage } from './types';
import { fragmentValue, integerValue, isReasonForContact, isValidNonce } from './values';

/** Characters XML 1.0 does not allow, a carriage return (line ends are normalised), any surrogate. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const NOT_PLAIN = /[\x00-\x08\x0B\x0C\x0E-\x1F\r\uD800-\uDFFF\uFFFE\uFFFF]/;
const DECLARATION = /^<\?xml[ \t\n]+version[ \t\n]*=[ \t\n]*(?:"1\.0"|'1\.0')(?:[ \t\n]+encoding[ \t\n]*=[ \t\n]*(?:"utf-8"|'utf-8'|"UTF-8"|'UTF-8'))?[ \t\n]*\?>/;
const ENTITIES: ReadonlyMap<string, string> = new Map([['amp', '&'], ['lt', '<'], ['gt', '>'], ['quot', '"'], ['apos', "'"]]);

/** ASCII name characters: NAME_START[c] for the first, NAME_CHAR[c] for the rest. */
const NAME_START = new Uint8Array(128);
const NAME_CHAR = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  NAME_START[c] = /[A-Za-z_:]/.test(ch) ? 1 : 0;
  NAME_CHAR[c] = /[-.\w:]/.test(ch) ? 1 : 0;
}

/** Attributes per element the scan reads; more is not a phone's message (and its check is per attribute). */
const MAX_ATTRIBUTES = 8;

/** Thrown inside the scan when the document leaves the canonical shape: the general path reads it. */
const NOT_CANONICAL = Symbol('not canonical');

/** The message read, or null when the general parser must read it. */
export function parseCanonicalWorkpointMessage(text: string): WorkpointMessage | null {
  if (text.includes(']]>') || NOT_PLAIN.test(text)) return null;
  try {
    return new Scan(text).workpointMessage();
  } catch (e) {
    if (e === NOT_CANONICAL) return null;
    throw e;
  }
}

/**
 * The attributes of the tag just read, reused from tag to tag: an element has a handful, read at
 * once (a Map per element was a fifth of the garbage an exchange left).
 */
class Attributes {
  readonly names: string[] = [];
  readonly values: string[] = [];
  size = 0;

  get(name: string): string | undefined {
    for (let i = 0; i < this.size; i++) if (this.names[i] === name) return this.values[i];
    return undefined;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  add(name: string, value: string): void {
    this.names[this.size] = name;
    this.values[this.size] = value;
    this.size++;
  }
}

class Scan {
  private at = 0;
  private readonly attributes = new Attributes();

  constructor(private readonly s: string) {
    const declaration = DECLARATION.exec(s);
    if (declaration) this.at = declaration[0].length;
  }

  workpointMessage(): WorkpointMessage {
    const a = this.attributes;
    this.space();
    if (this.startTag('WorkpointMessage', true)) throw NOT_CANONICAL;
    this.space();
    if (this.startTag('Message', false)) throw NOT_CANONICAL;
    // parse.ts's rules, in its order; where it would refuse, it is left to refuse.
    const nonce = a.get('nonce');
    if (nonce === undefined || !isValidNonce(nonce)) throw NOT_CANONICAL;
    const maxItems = a.get('maxItems');
    let fragment = a.get('fragment');
    this.space();
    const reasonEmpty = this.startTag('ReasonForContact', false);
    fragment ??= a.get('fragment');
    const action = a.get('action');
    const status = a.get('status');
    const reason = reasonEmpty ? '' : this.textThenEnd('ReasonForContact');
    if (!isReasonForContact(reason)) throw NOT_CANONICAL;
    this.space();
    let items: Item[] = [];
    if (this.s.startsWith('<ItemList', this.at)) {
      const listEmpty = this.startTag('ItemList', false);
      if (a.size > 0) throw NOT_CANONICAL;
      if (!listEmpty) items = this.itemsThenEnd();
      this.space();
    }
    this.endTag('Message');
    this.space();
    this.endTag('WorkpointMessage');
    this.space();
    if (this.at !== this.s.length) throw NOT_CANONICAL;

    const message: WorkpointMessage = { nonce, reason, items };
    if (maxItems !== undefined) message.maxItems = integer(maxItems, -1);
    if (fragment !== undefined) message.fragment = fragmentValue(fragment) ?? notCanonical();
    if (action !== undefined) message.action = action.trim();
    if (status !== undefined) message.status = status.trim();
    return message;
  }

  /** `Item`s up to `</ItemList>`, each read as parse.ts itemsOf reads it. */
  private itemsThenEnd(): Item[] {
    const a = this.attributes;
    const items: Item[] = [];
    for (;;) {
      this.space();
      if (!this.s.startsWith('<Item', this.at) || this.s.startsWith('<ItemList', this.at)) break;
      const empty = this.startTag('Item', false);
      const name = a.get('name')?.trim();
      if (!name) throw NOT_CANONICAL;
      const index = a.get('index');
      const status = a.get('status');
      const item: Item = { name, value: empty ? '' : this.textThenEnd('Item') };
      if (index !== undefined && index.trim() !== '') item.index = integer(index, 0);
      if (status !== undefined) item.status = status.trim();
      items.push(item);
    }
    this.endTag('ItemList');
    return items;
  }

  /**
   * `<name attr="value" …>` or `…/>` at the cursor: true when it is empty (`/>`), its attributes
   * in `this.attributes` until the next tag. Attribute names are plain (a prefix only on the
   * root, where the general path ignores every attribute: `xmlns:xsi`, `xsi:schemaLocation`);
   * values are normalised as XML says (tab and line feed become spaces) with entities resolved.
   */
  private startTag(name: string, prefixedAttributes: boolean): boolean {
    const s = this.s;
    if (s.charCodeAt(this.at) !== 60 || !s.startsWith(name, this.at + 1)) throw NOT_CANONICAL;
    let i = this.at + 1 + name.length;
    const attributes = this.attributes;
    attributes.size = 0;
    for (;;) {
      const before = i;
      i = this.skipSpace(i);
      const c = s.charCodeAt(i);
      if (c === 62) {
        this.at = i + 1;
        return false;
      }
      if (c === 47) {
        if (s.charCodeAt(i + 1) !== 62) throw NOT_CANONICAL;
        this.at = i + 2;
        return true;
      }
      // An attribute needs space before it (and this also ends a longer element name, `<Items`).
      if (i === before) throw NOT_CANONICAL;
      const end = nameEnd(s, i);
      const attribute = s.slice(i, end);
      if (!prefixedAttributes && attribute.includes(':')) throw NOT_CANONICAL;
      i = this.skipSpace(end);
      if (s.charCodeAt(i) !== 61) throw NOT_CANONICAL;
      i = this.skipSpace(i + 1);
      const quote = s.charCodeAt(i);
      if (quote !== 34 && quote !== 39) throw NOT_CANONICAL;
      const close = s.indexOf(quote === 34 ? '"' : "'", i + 1);
      if (close < 0) throw NOT_CANONICAL;
      let value = s.slice(i + 1, close);
      i = close + 1;
      // Phones write at most four per element; a tag with many is left to the general path, which
      // reads it in linear time (this list's duplicate test is linear per attribute).
      if (value.includes('<') || attributes.size >= MAX_ATTRIBUTES || attributes.has(attribute)) throw NOT_CANONICAL;
      if (value.includes('\t') || value.includes('\n')) value = value.replace(/[\t\n]/g, ' ');
      attributes.add(attribute, resolveEntities(value));
    }
  }

  /** The element's text up to its end tag (no child elements), trimmed as the tree keeps it. */
  private textThenEnd(name: string): string {
    const lt = this.s.indexOf('<', this.at);
    if (lt < 0) throw NOT_CANONICAL;
    const raw = this.s.slice(this.at, lt);
    this.at = lt;
    this.endTag(name);
    return raw === '' ? raw : resolveEntities(raw).trim();
  }

  /** `</name>`, space allowed before `>`. */
  private endTag(name: string): void {
    const s = this.s;
    if (s.charCodeAt(this.at) !== 60 || s.charCodeAt(this.at + 1) !== 47 || !s.startsWith(name, this.at + 2)) throw NOT_CANONICAL;
    const i = this.skipSpace(this.at + 2 + name.length);
    if (s.charCodeAt(i) !== 62) throw NOT_CANONICAL;
    this.at = i + 1;
  }

  private space(): void {
    this.at = this.skipSpace(this.at);
  }

  private skipSpace(i: number): number {
    const s = this.s;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 32 || c === 10 || c === 9) i++;
      else return i;
    }
  }
}

/** End of the ASCII name that starts at i (a name must start there). */
function nameEnd(s: string, i: number): number {
  const first = s.charCodeAt(i);
  if (!(first < 128 && NAME_START[first])) throw NOT_CANONICAL;
  let j = i + 1;
  for (;;) {
    const c = s.charCodeAt(j);
    if (c < 128 && NAME_CHAR[c]) j++;
    else if (c >= 128) throw NOT_CANONICAL;
    else return j;
  }
}

/** The five predefined entities; any other reference (character references included) is not canonical. */
function resolveEntities(s: string): string {
  let amp = s.indexOf('&');
  if (amp < 0) return s;
  let out = '';
  let from = 0;
  for (; amp >= 0; amp = s.indexOf('&', from)) {
    const semi = s.indexOf(';', amp);
    const resolved = semi < 0 ? undefined : ENTITIES.get(s.slice(amp + 1, semi));
    if (resolved === undefined) throw NOT_CANONICAL;
    out += s.slice(from, amp) + resolved;
    from = semi + 1;
  }
  return out + s.slice(from);
}

/** values.ts's integer rule; where parse.ts would refuse, it is left to refuse. */
function integer(raw: string, min: number): number {
  return integerValue(raw, min) ?? notCanonical();
}

function notCanonical(): never {
  throw NOT_CANONICAL;
}
