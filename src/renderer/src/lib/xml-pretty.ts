/**
 * Pretty XML for the view only. It never alters the document: it drops whitespace-only text
 * between tags and puts indentation there instead; every tag, attribute and text node is kept
 * character for character (the raw tab shows the stored bytes). Malformed input still renders:
 * whatever does not tokenise as markup is shown as text.
 */

export type TokenKind = 'tag' | 'text' | 'comment' | 'pi' | 'cdata' | 'doctype';

export interface XmlToken {
  kind: TokenKind;
  text: string;
}

/** A tag, its quoted attribute values may hold `>`; anything else starting with `<` is text. */
const TAG = /<\/?[A-Za-z_:][^\s/>]*(?:\s+[^\s=/>]+(?:\s*=\s*(?:"[^"]*"|'[^']*'))?)*\s*\/?>/y;
const COMMENT = /<!--[\s\S]*?-->/y;
const CDATA = /<!\[CDATA\[[\s\S]*?\]\]>/y;
const PI = /<\?[\s\S]*?\?>/y;
const DOCTYPE = /<!DOCTYPE[^>]*>/iy;

export function tokenize(xml: string): XmlToken[] {
  const out: XmlToken[] = [];
  let i = 0;
  let text = '';
  const flushText = () => {
    if (text) out.push({ kind: 'text', text });
    text = '';
  };
  while (i < xml.length) {
    if (xml[i] === '<') {
      let matched: XmlToken | null = null;
      for (const [kind, re] of [['comment', COMMENT], ['cdata', CDATA], ['pi', PI], ['doctype', DOCTYPE], ['tag', TAG]] as const) {
        re.lastIndex = i;
        const m = re.exec(xml);
        if (m) {
          matched = { kind, text: m[0] };
          break;
        }
      }
      if (matched) {
        flushText();
        out.push(matched);
        i += matched.text.length;
        continue;
      }
    }
    const next = xml.indexOf('<', i + 1);
    const end = next === -1 ? xml.length : next;
    text += xml.slice(i, end);
    i = end;
  }
  flushText();
  return out;
}

export interface PrettyLine {
  depth: number;
  tokens: XmlToken[];
}

const isOpen = (t: XmlToken) => t.kind === 'tag' && !t.text.startsWith('</') && !t.text.endsWith('/>');
const isClose = (t: XmlToken) => t.kind === 'tag' && t.text.startsWith('</');
const isBlank = (t: XmlToken) => t.kind === 'text' && t.text.trim() === '';

/** For each open tag, the index of its close tag and whether it holds text (mixed content or a leaf). */
function structure(tokens: XmlToken[]): Map<number, { close: number; text: boolean }> {
  const out = new Map<number, { close: number; text: boolean }>();
  const stack: { open: number; text: boolean }[] = [];
  tokens.forEach((t, i) => {
    if (isOpen(t)) stack.push({ open: i, text: false });
    else if (isClose(t)) {
      const top = stack.pop();
      if (top) out.set(top.open, { close: i, text: top.text });
    } else if ((t.kind === 'text' || t.kind === 'cdata') && t.text.trim() !== '' && stack.length > 0) {
      stack[stack.length - 1]!.text = true;
    }
  });
  return out;
}

/**
 * Lines with their nesting depth. An element that holds text (`<a>text</a>`, or mixed content)
 * stays on one line exactly as it was, whitespace inside included: only whitespace-only text
 * between tags is ever replaced.
 */
export function prettyLines(xml: string): PrettyLine[] {
  const tokens = tokenize(xml);
  const elements = structure(tokens);
  const lines: PrettyLine[] = [];
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (isBlank(t)) continue;
    if (isOpen(t)) {
      const el = elements.get(i);
      const next = tokens.slice(i + 1).find((x) => !isBlank(x));
      if (el && (el.text || next === tokens[el.close])) {
        // A leaf, an empty element or mixed content: verbatim. `<a>  </a>` keeps its inner spaces too.
        lines.push({ depth, tokens: tokens.slice(i, el.close + 1) });
        i = el.close;
        continue;
      }
      lines.push({ depth, tokens: [t] });
      if (el) depth++;
      continue;
    }
    if (isClose(t)) depth = Math.max(0, depth - 1);
    lines.push({ depth, tokens: [t] });
  }
  return lines;
}

/** The pretty text, as the view shows it (for copying). */
export function prettyText(xml: string, indent = '  '): string {
  return prettyLines(xml)
    .map((l) => indent.repeat(l.depth) + l.tokens.map((t) => t.text).join(''))
    .join('\n');
}

export type TagPartKind = 'punct' | 'name' | 'attr' | 'eq' | 'value' | 'space';

/** Splits one tag for highlighting; the parts joined give the tag back exactly. */
export function tagParts(tag: string): { kind: TagPartKind; text: string }[] {
  const parts: { kind: TagPartKind; text: string }[] = [];
  const re = /(<\/?|\/?>)|(\s+)|(=)|("[^"]*"|'[^']*')|([^\s=/>"'<]+)/g;
  let sawName = false;
  let last = 0;
  for (let m = re.exec(tag); m; m = re.exec(tag)) {
    if (m.index > last) parts.push({ kind: 'punct', text: tag.slice(last, m.index) });
    last = m.index + m[0].length;
    if (m[1]) parts.push({ kind: 'punct', text: m[1] });
    else if (m[2]) parts.push({ kind: 'space', text: m[2] });
    else if (m[3]) parts.push({ kind: 'eq', text: m[3] });
    else if (m[4]) parts.push({ kind: 'value', text: m[4] });
    else if (m[5]) {
      parts.push({ kind: sawName ? 'attr' : 'name', text: m[5] });
      sawName = true;
    }
  }
  if (last < tag.length) parts.push({ kind: 'punct', text: tag.slice(last) });
  return parts;
}
