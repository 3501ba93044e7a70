/**
 * URL credentials in XML character data as a parser reads it: a value written with character
 * references (`https&#58;//u:p@h/`, `&#64;` for `@`), split by a CDATA section
 * (`https://u:<![CDATA[p]]>@h/`) or by a comment is shown masked in the raw view as in the item
 * table (helper-70). Each text node (the character data between two tags) is decoded (the five
 * predefined entities, character references, CDATA sections; comments and processing instructions
 * dropped), and so is each attribute value that holds a reference (`note="https://u&#58;p@h/"`),
 * its URLs' credentials found as in an item's value (an attribute's as in free text;
 * shared/url-secrets.ts), and each found range mapped back to the raw text. A range that begins or ends inside a reference or a
 * CDATA section it does not lie wholly in grows to take the whole construct, so the mask replaces
 * whole markup and the text still parses. One pass: every search moves forward only.
 */
import { pushRange, urlSecretRanges } from './url-secrets';

/** A stretch of a node's decoded text and the raw text it came from. */
interface Piece {
  /** Where it starts in the decoded node. */
  at: number;
  /** plain and cdata: one raw character per decoded one, from `raw`; ref: all of [raw, rawEnd). */
  kind: 'plain' | 'ref' | 'cdata';
  raw: number;
  rawEnd: number;
  /** cdata: the whole section, `<![CDATA[` to `]]>`. */
  open: number;
  close: number;
}

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
/** A predefined entity or a character reference, its name or number in group 1 (for referenced()). */
export const REFERENCE_PATTERN = '&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|amp|lt|gt|quot|apos);';
const REFERENCE = new RegExp(REFERENCE_PATTERN, 'y');
/** What a tag starts with after `<` (a name, an end tag, a declaration); anything else is text. */
const TAG_START = /[A-Za-z_:/!\u0080-\uffff]/;
/** What every URL with credentials holds (a scheme's colon, or a scheme-relative `//`): the cheap test first. */
const MAY_HOLD_URL = /:|[/\\]{2}/;

/** The character a reference stands for (`amp`, `#x3A`, `#58`), or null for one no parser resolves. */
export function referenced(ref: string): string | null {
  if (!ref.startsWith('#')) return NAMED[ref] ?? null;
  const code = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
  return isXmlChar(code) ? String.fromCodePoint(code) : null;
}

/** XML 1.0's Char: what a reference may stand for (a surrogate, U+FFFE or a control is an error to a parser). */
function isXmlChar(c: number): boolean {
  return c === 0x9 || c === 0xa || c === 0xd || (c >= 0x20 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);
}

/** indexOf that searches again only once `from` passes what it found: linear over a forward walk. */
class Ahead {
  private readonly found: Record<string, number> = { '<': -2, '>': -2, '"': -2, "'": -2, '&': -2, ']]>': -2, '-->': -2, '?>': -2 };
  constructor(private readonly text: string) {}
  next(needle: string, from: number): number {
    const known = this.found[needle]!;
    if (known === -1 || known >= from) return known;
    const at = this.text.indexOf(needle, from);
    this.found[needle] = at;
    return at;
  }
}

/**
 * Where the tag whose name starts at `from` ends: after its `>`, quoted values skipped (they may
 * hold `>`), each handed to `value` (between its quotes) on the way.
 */
function tagEnd(text: string, from: number, ahead: Ahead, value: (from: number, to: number) => void): number {
  for (let i = from; ; ) {
    const gt = ahead.next('>', i);
    // The first quote before that `>` (or anywhere, with none), if any.
    const double = ahead.next('"', i);
    const single = ahead.next("'", i);
    const quote = double === -1 ? single : single === -1 ? double : Math.min(double, single);
    if (quote === -1 || (gt !== -1 && gt < quote)) return gt === -1 ? text.length : gt + 1;
    const at = quote;
    const close = ahead.next(text[at]!, at + 1);
    // An unterminated quote: the tag ends at its next `>` after all.
    if (close === -1) {
      const gt = ahead.next('>', at + 1);
      return gt === -1 ? text.length : gt + 1;
    }
    value(at + 1, close);
    i = close + 1;
  }
}

/** One text node being decoded. */
class Node {
  pieces: Piece[] = [];
  parts: string[] = [];
  length = 0;

  add(kind: Piece['kind'], decoded: string, raw: number, rawEnd: number, open = raw, close = rawEnd): void {
    if (decoded === '') return;
    this.pieces.push({ at: this.length, kind, raw, rawEnd, open, close });
    this.parts.push(decoded);
    this.length += decoded.length;
  }

  /** Plain text [from, to), its references resolved. */
  addText(text: string, from: number, to: number, ahead: Ahead): void {
    let plain = from;
    for (let amp = ahead.next('&', from); amp !== -1 && amp < to; amp = ahead.next('&', amp + 1)) {
      REFERENCE.lastIndex = amp;
      const m = REFERENCE.exec(text);
      const char = m && amp + m[0].length <= to ? referenced(m[1]!) : null;
      if (char === null) continue;
      this.add('plain', text.slice(plain, amp), plain, amp);
      this.add('ref', char, amp, amp + m![0].length);
      plain = amp + m![0].length;
    }
    this.add('plain', text.slice(plain, to), plain, to);
  }

  /**
   * The raw ranges of this node's URL credentials, added to `out`; the node emptied. `value`: the
   * node is an item's value, read as the item table reads one; otherwise as free text.
   */
  flush(out: number[], value = true): void {
    const { pieces } = this;
    const text = this.parts.join('');
    this.pieces = [];
    this.parts = [];
    this.length = 0;
    // One stretch of plain text: the raw scan saw it as it is.
    if (pieces.length === 0 || (pieces.length === 1 && pieces[0]!.kind === 'plain') || !MAY_HOLD_URL.test(text)) return;
    const ranges = urlSecretRanges(text, value);
    let p = 0;
    let q = 0;
    for (let k = 0; k < ranges.length; k += 2) {
      // Ranges come in order: both pieces are found moving forward.
      const first = ranges[k]!;
      const last = ranges[k + 1]! - 1;
      while (p + 1 < pieces.length && pieces[p + 1]!.at <= first) p++;
      if (q < p) q = p;
      while (q + 1 < pieces.length && pieces[q + 1]!.at <= last) q++;
      const a = pieces[p]!;
      const b = pieces[q]!;
      const start = a.kind === 'ref' ? a.raw : a.raw + first - a.at;
      const end = b.kind === 'ref' ? b.rawEnd : b.raw + last - b.at + 1;
      // Inside one section the mask stays in it; across a section's edge the section goes whole.
      if (a === b || (a.kind !== 'cdata' && b.kind !== 'cdata')) pushRange(out, start, end);
      else pushRange(out, a.kind === 'cdata' ? a.open : start, b.kind === 'cdata' ? b.close : end);
    }
  }
}

/** The raw ranges of the URL credentials in the decoded text nodes of `xml`, in order. */
export function xmlTextUrlRanges(xml: string): number[] {
  const out: number[] = [];
  const ahead = new Ahead(xml);
  const node = new Node();
  // Plain text from `text` on, up to the next construct: a `<` that starts none is text too.
  let text = 0;
  let i = 0;
  while (i < xml.length) {
    const lt = ahead.next('<', i);
    if (lt === -1) break;
    const isText = !xml.startsWith('<![CDATA[', lt) && !xml.startsWith('<!--', lt) && !xml.startsWith('<?', lt) && !TAG_START.test(xml[lt + 1] ?? '');
    if (isText) {
      i = lt + 1;
      continue;
    }
    node.addText(xml, text, lt, ahead);
    if (xml.startsWith('<![CDATA[', lt)) {
      const close = ahead.next(']]>', lt + 9);
      const contentEnd = close === -1 ? xml.length : close;
      const sectionEnd = close === -1 ? xml.length : close + 3;
      node.add('cdata', xml.slice(lt + 9, contentEnd), lt + 9, contentEnd, lt, sectionEnd);
      i = sectionEnd;
    } else if (xml.startsWith('<!--', lt) || xml.startsWith('<?', lt)) {
      // Not part of the text: dropped, the text on either side joined, as a parser joins it.
      const closer = xml[lt + 1] === '!' ? '-->' : '?>';
      const close = ahead.next(closer, lt + 2);
      i = close === -1 ? xml.length : close + closer.length;
    } else {
      node.flush(out);
      // An attribute's value, decoded as a parser reads it, is a node of its own, read as free
      // text: as the item table reads an Item's status, and the raw scan the same value written
      // without references. Only one that holds a reference can hide from the raw scan what it holds.
      i = tagEnd(xml, lt + 1, ahead, (from, to) => {
        const amp = ahead.next('&', from);
        if (amp === -1 || amp >= to) return;
        node.addText(xml, from, to, ahead);
        node.flush(out, false);
      });
    }
    text = i;
  }
  node.addText(xml, text, xml.length, ahead);
  node.flush(out);
  return out;
}
