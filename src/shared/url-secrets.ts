/**
 * Where URLs in text carry credentials: the spans a view masks (shared/secrets.ts replaces them),
 * as flat [start, end, start, end, …] lists in order. Every scan here is linear: each character is
 * looked at a bounded number of times (a body of URLs with no end in sight, of scheme-like words or
 * of unterminated sections took seconds: helper-67, helper-69), and ranges are merged as they come,
 * never sorted.
 *
 * The rule, read as WHATWG `new URL()` reads credentials, then widened where a phone's item may
 * hold more than a URL parser would take:
 * - An authority follows `scheme://` or `scheme:\\` (any scheme), any run of `/` and `\` after a
 *   special scheme's colon, none included (`https:u:p@h`, `https:/\u:p@h`: WHATWG's "ignore
 *   slashes"), and `//` or `\\` that no scheme precedes (a scheme-relative target or value).
 * - The password: from the first `:` after the authority's start to the LAST `@` before the URL
 *   ends, even past `/`, `?`, `#` or `\` where WHATWG would end the authority: a user types a
 *   password into the item unencoded (`https://u:pa/ss@h/`), and masking a port and a path with an
 *   `@` (`https://h:8443/a@b` shows `https://h:••••••@b`) is the safe side of that ambiguity.
 * - Every query value, the names kept (pre-signed download links), from the first `?` to `#`.
 * - A blank ends a URL, except in one that starts an item's value: that runs to the value's end
 *   (or the blanks before another URL in it), as the phone reads its URL item (`https://u:pa ss@h/`).
 *   Elsewhere (and in a SIP URI) a `user:` begun before the blank, with no port after its colon, is a password typed
 *   with a blank: it runs to an `@` in the next few words (passwordPastBlank), or is masked up to
 *   the blank when none comes.
 * - A quote that opened the URL (an attribute value) closes it, unless a `user:` began before it
 *   and no @ came: then the quote is the password's (`"https://u:pa"ss@h/"` shows
 *   `"https://u:••••••@h/"`), so nothing of a password after its quote shows.
 * - SIP URIs have no authority but may hold a password (`sip:alice:secret@pbx`, RFC 3261
 *   §19.1.1, deprecated but real; `sips:` too): opaquePassword() has their rule.
 */

/** WHATWG's special schemes with credentials; file: has none (and keeps the `//` rule below). */
const SPECIAL = new Set(['http', 'https', 'ws', 'wss', 'ftp']);
/** Schemes without `//` whose userinfo may hold a password (RFC 3261 §19.1.1); mailto:, tel: and the like hold none. */
const OPAQUE = new Set(['sip', 'sips']);
/** What ends a SIP URI's user part: its password's colon, the userinfo's `@`, a blank (no URI holds one). */
const USER_END = /[:@\s]/;
/** A colon that may end a scheme, or two slashes that may start a scheme-relative URL. */
const SEPARATOR = /:|[/\\]{2}/g;
const LOOKAHEAD = new RegExp(SEPARATOR);
/** What a special scheme's colon may be followed by before its authority (WHATWG also strips tabs and newlines). */
const SLASHES = /[/\\\t\n\r]*/y;
const SCHEME_CHAR = /[a-z0-9+.-]/i;
const LETTER = /[a-z]/i;
/** What no scheme-relative `//` follows: a scheme, a path or a word (`a//b` and `x:/a//b` are no URL). */
const NOT_BEFORE_RELATIVE = /[a-z0-9+.\-:/\\]/i;
/**
 * Where a URL in raw text ends: a blank, markup, the end of a CDATA section, or a quote that ends
 * an attribute value (followed by a blank, `>`, `/` or nothing). A quote inside a password stays in it.
 */
const RAW_URL_END = /[\s<>]|\]\]>|["'](?=[\s>/]|$)/g;
/** Where a URL in decoded text (an item's value as a parser reads it) ends: a blank only. */
const VALUE_URL_END = /\s/g;

/** Appends [start, end) to sorted, disjoint ranges, merging what it overlaps or touches. */
export function pushRange(out: number[], start: number, end: number): void {
  if (end <= start) return;
  while (out.length > 0 && start <= out[out.length - 1]!) {
    start = Math.min(start, out[out.length - 2]!);
    end = Math.max(end, out.pop()!);
    out.pop();
  }
  out.push(start, end);
}

/** Two sorted range lists as one. */
export function unionRanges(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i]! <= b[j]!)) {
      pushRange(out, a[i]!, a[i + 1]!);
      i += 2;
    } else {
      pushRange(out, b[j]!, b[j + 1]!);
      j += 2;
    }
  }
  return out;
}

/** The text with each range replaced by `mask`. */
export function replaceRanges(text: string, ranges: readonly number[], mask: string): string {
  if (ranges.length === 0) return text;
  let out = '';
  let copied = 0;
  for (let k = 0; k < ranges.length; k += 2) {
    out += text.slice(copied, ranges[k]) + mask;
    copied = ranges[k + 1]!;
  }
  return out + text.slice(copied);
}

/** The first `ch` in [from, to), or -1: bounded, where indexOf would search on to the end. */
function indexIn(text: string, ch: string, from: number, to: number): number {
  for (let i = from; i < to; i++) if (text[i] === ch) return i;
  return -1;
}

/** The last `ch` in [from, to), or -1: bounded, where lastIndexOf would search back to the start. */
function lastIndexIn(text: string, ch: string, from: number, to: number): number {
  for (let i = to - 1; i >= from; i--) if (text[i] === ch) return i;
  return -1;
}

/**
 * A URL's start (its scheme, or its `//`) and where its authority begins, or null for no URL.
 * `opaque`: a SIP URI, whose userinfo starts right after the colon (opaquePassword() reads it).
 */
function urlAt(text: string, at: number, separator: string, floor: number): { start: number; authority: number; opaque?: true } | null {
  if (separator !== ':') {
    if (at > floor && NOT_BEFORE_RELATIVE.test(text[at - 1]!)) return null;
    SLASHES.lastIndex = at;
    return { start: at, authority: at + SLASHES.exec(text)![0].length };
  }
  // The scheme: the scheme characters before the colon, from the first letter (never into the URL before).
  let start = at;
  while (start > floor && SCHEME_CHAR.test(text[start - 1]!)) start--;
  while (start < at && !LETTER.test(text[start]!)) start++;
  if (start === at) return null;
  SLASHES.lastIndex = at + 1;
  const authority = at + 1 + SLASHES.exec(text)![0].length;
  const scheme = text.slice(start, at).toLowerCase();
  if (SPECIAL.has(scheme)) return { start, authority };
  // Any other scheme: `//`, or `\\` and mixes, which special schemes read as `//` (masked the same).
  if ('/\\'.includes(text[at + 1] ?? 'x') && '/\\'.includes(text[at + 2] ?? 'x')) return { start, authority };
  return OPAQUE.has(scheme) ? { start, authority: at + 1, opaque: true } : null;
}

/**
 * Every query value's range in [from, to) (a name alone is masked whole); `&amp;` splits like `&`.
 * A value the password's `@` falls in ends there: what follows is the host's.
 */
function queryRanges(text: string, from: number, to: number, at: number, out: number[]): void {
  for (let part = from; part < to; ) {
    // The separator, and where the next part starts: a reference is never cut (a mask from inside
    // `&amp;` left a bare `&`, which no XML parser reads: helper-73); `&amp;` is `&` as a parser
    // reads it, any other reference (`&lt;`) part of the value.
    let amp = part;
    let next = to;
    for (;;) {
      amp = indexIn(text, '&', amp, to);
      if (amp === -1) {
        amp = to;
        break;
      }
      QUERY_REFERENCE.lastIndex = amp;
      const ref = QUERY_REFERENCE.exec(text);
      if (!ref) {
        next = amp + 1;
        break;
      }
      if (ref[1] !== undefined) {
        next = amp + ref[0].length;
        break;
      }
      amp += ref[0].length;
    }
    const eq = indexIn(text, '=', part, amp);
    const start = eq === -1 ? part : eq + 1;
    pushRange(out, start, start < at && at < amp ? at : amp);
    part = next;
  }
}

/** A reference at an `&` in a query: group 1 when it is the `&` separator itself, written as one. */
const QUERY_REFERENCE = /&(?:(amp|#38|#x26)|lt|gt|quot|apos|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});/y;

/**
 * The ranges of one URL from `authority`: its password and query values. `closed`: where the quote
 * that opened it closes it, `end`: where the text ends it, `lastAt`: the last `@` in
 * [authority, end). Returns where the URL ends.
 */
function oneUrl(text: string, authority: number, closed: number, end: number, lastAt: number, out: number[]): number {
  // The password to the last @ before the closing quote. With none, and a `user:` begun before
  // it, the quote may be the password's (`"https://u:pa"ss@h/"`): then to the last @ before the
  // text ends the URL, so nothing of the password after the quote shows.
  let at = lastIndexIn(text, '@', authority, closed);
  if (at === -1 && lastAt >= closed && indexIn(text, ':', authority, closed) !== -1) at = lastAt;
  const urlEnd = at >= closed ? end : closed;
  const colon = at === -1 ? -1 : indexIn(text, ':', authority, at);
  const password: [number, number] | null = colon !== -1 && colon < at - 1 ? [colon + 1, at] : null;
  // From the first `?`, even inside what is masked as the password: `https://u:p@h/?m=a@b&k=v`
  // is masked to the query's last @, and the values after it are still the query's (`k=••••••`).
  const q = indexIn(text, '?', authority, urlEnd);
  const hash = q === -1 ? -1 : indexIn(text, '#', q, urlEnd);
  if (password) pushRange(out, password[0], password[1]);
  if (q !== -1) queryRanges(text, q + 1, hash === -1 ? urlEnd : hash, password ? at : -1, out);
  return urlEnd;
}

/**
 * A SIP URI's password, from `authority` (just after `sip:`): the user is what comes before the
 * first `:`, at least one character, holding no `@` and not opening a bracketed IPv6 host; the
 * password runs from that `:` to the last `@` before the URI ends (as in oneUrl: a password may
 * hold an `@`, and one a quote). So `sip:alice@pbx:5060`, `sip:pbx.example:5060`,
 * `sip:[2001:db8::1]:5060` and `sip: alice:x@h` hold none; like a port before an `@` in an https
 * path, `sip:pbx:5060;x=a@b` reads `5060;x=a` as one (the safe side). `closed`, `end`, `lastAt`
 * as in oneUrl. Returns the password's `@`, where the scan goes on (an https URL in a parameter is
 * read as any other; nothing after the `@` is the password's), or -1 for none: then the URI is no
 * URL to this rule and the scan goes on right after its colon.
 */
function opaquePassword(text: string, authority: number, closed: number, end: number, lastAt: number, out: number[]): number {
  // Bounded by the next `:`: a run of `sip:a:` scans each character once.
  let colon = authority;
  while (colon < closed && !USER_END.test(text[colon]!)) colon++;
  if (colon === authority || colon === closed || text[colon] !== ':' || text[authority] === '[') return -1;
  // Not closed by a quote, `lastAt` is its last @ (never the user's): no search to the URI's end
  // for each `sip:a:` of a run without one.
  let at = closed === end ? lastAt : lastIndexIn(text, '@', colon, closed);
  if (at === -1 && lastAt >= closed) at = lastAt;
  if (at <= colon + 1) return -1;
  pushRange(out, colon + 1, at);
  return at;
}

/**
 * Where a URL that starts a value ends: at the value's end (`limit`), blanks included (a typed
 * password may hold one: `https://u:pa ss@h/`), or at the blanks before another URL in it.
 */
function wholeEnd(text: string, authority: number, limit: number): number {
  const separators = LOOKAHEAD;
  separators.lastIndex = authority;
  let end = limit;
  for (let m = separators.exec(text); m !== null && m.index < limit; m = separators.exec(text)) {
    const next = urlAt(text, m.index, m[0], authority);
    if (next !== null && /\s/.test(text[next.start - 1]!)) {
      end = next.start;
      break;
    }
  }
  while (end > authority && /\s/.test(text[end - 1]!)) end--;
  return end;
}

/** How far past a blank a password's `@` is looked for: words, and characters. */
const PASSWORD_WORDS = 3;
const PASSWORD_REACH = 256;
/**
 * A port, the one thing after an authority's colon that is no password, and the punctuation prose
 * or a quoted list closes it with (`https://h:18443, ask`, `(http://h:8080)`, `'https://h:1', x`).
 */
const PORT = /^[0-9]*[)\]},.;:!?'"`]*$/;

/**
 * A password typed with a blank, in text where a blank ends a URL (`see ftp://u:pa ss@h/`, and a
 * SIP URI wherever it stands: `sip:alice:pa ss@pbx`): the
 * URL's authority up to the blank (`end`, no `@` in it) is `user:fragment`, the fragment no port.
 * Then its `@` is looked for in the next few words of the same line, before markup or another URL:
 * the password runs to it. With none, `at` is -1 and the fragment alone is masked: what shows
 * after the blank cannot be told from prose. Null: no password begun. Bounded: linear overall.
 */
function passwordPastBlank(text: string, authority: number, end: number): { colon: number; at: number } | null {
  const colon = indexIn(text, ':', authority, end);
  // A bracketed IPv6 host (`http://[fe80::1]:8085`): its colons are the address's, no user came before it.
  // An empty user is one (`ftp://:pa ss@h/`, as WHATWG reads `ftp://:pw@h/`).
  if (colon === -1 || colon + 1 >= end || text[authority] === '[') return null;
  // Character codes, not a regular expression per character: a hostile body holds hundreds of
  // thousands of such URLs (test/security/masking.test.ts, "hostile bodies").
  for (let i = authority; i < end; i++) if (NOT_FRAGMENT_CODES.has(text.charCodeAt(i))) return null;
  if (PORT.test(text.slice(colon + 1, end))) return null;
  const reach = Math.min(text.length, end + PASSWORD_REACH);
  let words = 0;
  let inWord = false;
  for (let i = end; i < reach; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || c === 13 || c === 60 || c === 62) break; // \n \r < >
    if (isBlank(c, text, i)) {
      inWord = false;
      continue;
    }
    if (!inWord && ++words > PASSWORD_WORDS) break;
    inWord = true;
    if (c === 64) return { colon, at: i }; // @
    if (c === 58 && text.charCodeAt(i + 1) === 47 && text.charCodeAt(i + 2) === 47) break; // ://
  }
  return { colon, at: -1 };
}

/** What no password fragment before a blank holds: it would be a port and a path (`h:8443/x`), or a URL's end. */
const NOT_FRAGMENT_CODES = new Set([...'/?#\\'].map((ch) => ch.charCodeAt(0)));

/** `\s` for the character at `i` (code `c`), without a regular expression for ASCII. */
function isBlank(c: number, text: string, i: number): boolean {
  if (c < 128) return c === 32 || (c >= 9 && c <= 13);
  return /\s/.test(text[i]!);
}

/** Whether the URL starting at `start` starts an element's text (after blanks): its value, as a phone reads it. */
function startsText(text: string, start: number, floor: number): boolean {
  let i = start;
  while (i > floor && /\s/.test(text[i - 1]!)) i--;
  return text[i - 1] === '>';
}

/**
 * The credential ranges of every URL in `text`. `value`: the text is one item's value as a parser
 * reads it (decoded); a blank ends a URL, except one that starts the value: it runs to the value's
 * end, blanks included, as the phone reads a URL item. Otherwise the text is raw (XML, or anything
 * a client sent): a URL ends at a blank, markup, or a quote that ends an attribute, except one that
 * starts an element's text: it runs to the next `<`, blanks included.
 */
export function urlSecretRanges(text: string, value = false): number[] {
  const out: number[] = [];
  // Shared, not copied: a body of many short text nodes scans each (shared/xml-url-secrets.ts), and
  // nothing here runs inside another scan.
  const separators = SEPARATOR;
  const endScan = value ? VALUE_URL_END : RAW_URL_END;
  separators.lastIndex = 0;
  const first = value ? text.search(/\S/) : -1;
  let floor = 0;
  // The next end of a URL and the last @ before it, found again only once a URL starts past it.
  let nextEnd = -1;
  let lastAt = -1;
  // The next `<` at or after a URL's authority, found again only once a URL starts past it: a
  // search to the end of the text for every URL made `> //` repeated quadratic (helper-72).
  let nextLt = -1;
  for (let m = separators.exec(text); m !== null; m = separators.exec(text)) {
    const url = urlAt(text, m.index, m[0], floor);
    if (!url) continue;
    // A SIP URI ends at a blank wherever it stands: none holds one (RFC 3261 §25.1), and it is no
    // URL item a phone reads whole.
    if (!url.opaque && (value ? url.start === first : startsText(text, url.start, floor))) {
      if (!value && nextLt < url.authority) {
        nextLt = text.indexOf('<', url.authority);
        if (nextLt === -1) nextLt = text.length;
      }
      nextEnd = wholeEnd(text, url.authority, value ? text.length : nextLt);
      lastAt = lastIndexIn(text, '@', url.authority, nextEnd);
    } else if (nextEnd < url.authority) {
      endScan.lastIndex = url.authority;
      nextEnd = endScan.exec(text)?.index ?? text.length;
      lastAt = lastIndexIn(text, '@', url.authority, nextEnd);
      if (lastAt === -1 && /\s/.test(text[nextEnd] ?? '')) {
        const past = passwordPastBlank(text, url.authority, nextEnd);
        if (past?.at === -1) pushRange(out, past.colon + 1, nextEnd);
        else if (past) {
          // The URL runs on past its password's `@`, to where the text ends it after that.
          lastAt = past.at;
          endScan.lastIndex = past.at;
          nextEnd = endScan.exec(text)?.index ?? text.length;
        }
      }
    }
    // Opened by a quote (an attribute value, a JSON string): the same quote closes it.
    const quote = text[url.start - 1];
    const closing = quote === '"' || quote === "'" ? indexIn(text, quote, url.authority, nextEnd) : -1;
    if (url.opaque) {
      const at = opaquePassword(text, url.authority, closing === -1 ? nextEnd : closing, nextEnd, lastAt >= url.authority ? lastAt : -1, out);
      if (at !== -1) separators.lastIndex = floor = at;
      continue;
    }
    floor = oneUrl(text, url.authority, closing === -1 ? nextEnd : closing, nextEnd, lastAt >= url.authority ? lastAt : -1, out);
    separators.lastIndex = Math.max(floor, url.authority);
  }
  return out;
}
