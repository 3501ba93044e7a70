/**
 * One rule for what is secret, used by every view, log line and export. Values stay intact in the
 * store (the protocol needs them); only what is shown to a person is masked.
 */
import { CATALOGUE } from './catalogue';
import { replaceRanges, unionRanges, urlSecretRanges } from './url-secrets';
import { REFERENCE_PATTERN, referenced, xmlTextUrlRanges } from './xml-url-secrets';

/** The catalogue's secret items (its `secret` flag, set by scripts/catalogue.mjs). */
const SECRET_NAMES = new Set(CATALOGUE.filter((c) => c.secret).map((c) => c.name.toLowerCase()));
const KNOWN_NAMES = new Set(CATALOGUE.map((c) => c.name.toLowerCase()));

export const MASK = '••••••';

/**
 * For names the catalogue does not know (newer firmware, typos): secret when the name ends in a
 * password word, as the catalogue's secrets do (`x-pwd`, `x-password-unicode`), not when it only
 * contains one (`x-pwd-enabled` is a flag). Masking an unknown value too much is the safe side.
 */
const UNKNOWN_SECRET = /(^|-)(pwd|password|passwd|pin-value|private-key|tan|community)(-unicode|-hash)?$/;

export function isSecretItem(name: string): boolean {
  const n = name.trim().toLowerCase();
  if (KNOWN_NAMES.has(n)) return SECRET_NAMES.has(n);
  return UNKNOWN_SECRET.test(n);
}

export function maskItemValue(name: string, value: string): string {
  if (value !== '' && isSecretItem(name)) return MASK;
  // Any URL may carry credentials (a file server's, an LDAP or XML application server's:
  // https://user:password@host/…, ?token=…), masked as the raw message masks them (helper-67). A
  // profile saved back as shown keeps its stored value (commands/profiles.ts setProfile). A value
  // that starts with a URL is that URL to its end, blanks included, as the phone reads it.
  return HAS_URL.test(value) ? replaceRanges(value, urlSecretRanges(value, true), MASK) : value;
}

const FILE_URL = /^file-.*url$/i;
/**
 * Text that may hold a URL with credentials (`scheme:` and a slash or backslash, a special scheme's
 * colon or a SIP URI's, a scheme-relative `//`): the cheap test before the scan (shared/url-secrets.ts).
 */
const HAS_URL = /:[/\\]|[/\\]{2}|(?:https?|wss?|ftp|sips?):/i;

/**
 * Whether views mask (some of) this item's values: a secret, a file URL's password and query, or
 * (when the value is given) a URL's in any item.
 */
export function hasMaskedValues(name: string, value?: string): boolean {
  return isSecretItem(name) || FILE_URL.test(name.trim()) || (value !== undefined && HAS_URL.test(value));
}

/** Headers that carry a credential whole (RFC 9110 §11.6.2, §11.7.2): never stored or shown. */
const CREDENTIAL_HEADERS = new Set(['authorization', 'proxy-authorization']);

/**
 * Header pairs with credential values masked, the scheme kept (`Basic ••••••`). Phones send none in
 * WPI; a client that does (a relay's phone, a hostile host) must not leave one in the store, the
 * inspector or an export. Cookies stay: a DLS session id is what ties an interaction together in
 * the inspector, and it ends with its interaction. URL passwords in any other header are masked.
 */
export function maskCredentialHeaders(pairs: readonly [string, string][]): [string, string][] {
  return pairs.map(([name, value]) => {
    // Any other header may name a URL (Referer, a proxy's own): its password goes as in a body (helper-72).
    if (!CREDENTIAL_HEADERS.has(name.toLowerCase())) return [name, maskUrlPasswords(value)];
    const scheme = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s+\S/.exec(value)?.[1];
    return [name, scheme ? `${scheme} ${MASK}` : MASK];
  });
}

/**
 * Masks the credentials URLs carry in any text: the password (`https://user:••••••@host/…`) and
 * every query value (`…/fw.img?token=••••••`), where pre-signed download links keep theirs. The
 * parameter names stay, so a reader still sees what the link asks for. Read as a URL parser reads
 * them, and wider where a typed password may hold more (shared/url-secrets.ts has the rule). Linear.
 */
export function maskUrlPasswords(text: string): string {
  return replaceRanges(text, urlSecretRanges(text), MASK);
}

/** Every value of a query masked, the names kept. `&amp;` (a query in XML text) splits like `&`: the name after it keeps its `amp;`. */
function maskQuery(query: string): string {
  return query.replace(/(^|&)([^&=]*)(=?)([^&]*)/g, (part, sep: string, name: string, eq: string, value: string) => (value !== '' ? `${sep}${name}${eq}${MASK}` : eq === '' && name !== '' ? `${sep}${MASK}` : part));
}

/** A request target written as a full URL (`http://host/x`): its scheme, and its authority. */
const ABSOLUTE_FORM = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)/i;

export function isAbsoluteForm(target: string): boolean {
  return ABSOLUTE_FORM.test(target);
}

/**
 * Where a target's authority starts (after a scheme and its slashes, or a scheme-relative `//`,
 * which a server reads against its own scheme), or -1 for a path.
 */
const TARGET_AUTHORITY = /^(?:[a-z][a-z0-9+.-]*:[/\\]*|[/\\]{2,})/i;

/**
 * The `@` that ends a target's user part: the authority's last, or, where the authority (to the
 * first `/?#\\`) holds none, the target's last when a `:` comes before it (a typed password may
 * hold `/`: shared/url-secrets.ts); -1 for none.
 */
function userPartEnd(target: string, authority: number): number {
  const hostEnd = target.slice(authority).search(/[/?#\\]/);
  const inAuthority = target.lastIndexOf('@', hostEnd === -1 ? target.length : authority + hostEnd - 1);
  if (inAuthority >= authority) return inAuthority;
  const last = target.lastIndexOf('@');
  return last > authority && target.slice(authority, last).includes(':') ? last : -1;
}

/**
 * A request target with its credentials masked: the query's values, a fragment, and in the
 * absolute form (`http://user:password@host/x`) or a scheme-relative one (`//user:password@host/x`)
 * the whole user part, up to the authority's last `@` (a password may hold `@` or `'`: helper-65;
 * or `/`, `?`, `#`: then everything after the scheme, the user part's end being unknowable).
 * Phones send none of these in WPI; a client that does (a relay's phone, a hostile host) must not
 * leave one in the store, the inspector or an export, as with an Authorization header. `keep`:
 * parameters that are the protocol itself (DCMP's device-id), kept when their value is a MAC's
 * characters only.
 */
export function maskRequestTarget(target: string, keep: readonly string[] = []): string {
  let prefix = '';
  let rest = target;
  const scheme = TARGET_AUTHORITY.exec(target)?.[0];
  if (scheme) {
    const at = userPartEnd(target, scheme.length);
    if (at !== -1 && /[?#]/.test(target.slice(scheme.length, at))) return scheme + MASK;
    prefix = at === -1 ? scheme : `${scheme}${MASK}@`;
    rest = target.slice(at === -1 ? scheme.length : at + 1);
    const hostEnd = rest.search(/[/?#]/);
    prefix += hostEnd === -1 ? rest : rest.slice(0, hostEnd);
    rest = hostEnd === -1 ? '' : rest.slice(hostEnd);
  }
  const hash = rest.indexOf('#');
  const fragment = hash >= 0 ? (hash === rest.length - 1 ? '#' : `#${MASK}`) : '';
  if (hash >= 0) rest = rest.slice(0, hash);
  const q = rest.indexOf('?');
  if (q < 0) return prefix + rest + fragment;
  const masked = rest
    .slice(q + 1)
    .split('&')
    .map((part) => {
      const eq = part.indexOf('=');
      const kept = eq > 0 && keep.includes(part.slice(0, eq)) && /^[0-9A-Fa-f:.-]{0,17}$/.test(part.slice(eq + 1));
      return kept ? part : maskQuery(part);
    })
    .join('&');
  return prefix + rest.slice(0, q + 1) + masked + fragment;
}

/*
 * A namespace prefix, as the codec reads one (wpi/xml.ts keeps what follows the first colon of a
 * name): any characters up to the colon, non-ASCII ones included, or none (`<:Item`). Only XML's
 * own blanks end it (space, tab, CR, LF), not JavaScript's \s, which also takes characters XML
 * allows in names (U+1680, U+FEFF). Wider than XML's name rule on purpose: what the parser would
 * refuse is stored and shown as text, and must not show a secret.
 */
const PREFIX = String.raw`(?:[^ \t\r\n<>/:="']*:)?`;
/** An Item start tag whose attributes are all well formed (quoted values may hold `>`). */
const ITEM_START = new RegExp(String.raw`<(${PREFIX}Item)((?:\s+[^\s=<>/"']+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>`, 'y');
/** Any other Item start tag (broken XML is shown as text too, and must not show a secret). */
const LOOSE_START = new RegExp(String.raw`<(${PREFIX}Item)\b([^>]*?)(\/?)>`, 'y');
const ATTRIBUTE = /([^\s=<>/"']+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/g;
/** An Item's content up to its end tag: text, CDATA sections, comments and processing instructions. */
const CONTENT = new RegExp(String.raw`((?:[^<]|<!\[CDATA\[[\s\S]*?\]\]>|<!--[\s\S]*?-->|<\?[\s\S]*?\?>)*)<\/${PREFIX}Item\s*>`, 'y');
/** What the scan for an Item's own end tag sees: sections its markup may hide in (to the end if unterminated), Item tags. */
const NESTED = new RegExp(String.raw`<!\[CDATA\[[\s\S]*?(?:\]\]>|$)|<!--[\s\S]*?(?:-->|$)|<\?[\s\S]*?(?:\?>|$)|<(\/?)${PREFIX}Item\b[^>]*?(\/?)>`, 'g');
const STARTS = new RegExp(String.raw`<${PREFIX}Item\b`, 'g');

/** The five predefined entities and character references, as an XML parser reads an attribute. */
function unescapeName(raw: string): string {
  return raw.replace(new RegExp(REFERENCE_PATTERN, 'g'), (whole, ref: string) => referenced(ref) ?? whole);
}

/**
 * Every `name` attribute (namespace prefix ignored, as the codec ignores it: `x:name` is a name
 * too), decoded. All of them, not the first: the codec refuses a tag with two, but the refused
 * message is still stored and shown, and whichever of them a reader takes must not show a secret.
 */
function namesOf(attributes: string): string[] {
  const names: string[] = [];
  for (const m of attributes.matchAll(ATTRIBUTE)) {
    const attribute = m[1]!;
    if (attribute.slice(attribute.indexOf(':') + 1) === 'name') names.push(unescapeName(m[2] ?? m[3] ?? m[4] ?? '').trim());
  }
  return names;
}

/** Whether an Item's raw content holds a value (comments and PIs are not part of it). */
function hasValue(content: string): boolean {
  // An unterminated section runs to the end, as in ownEndTag: searched for its end from every opening, a body of them took seconds.
  return content.replace(/<!--[\s\S]*?(?:-->|$)|<\?[\s\S]*?(?:\?>|$)/g, '').replace(/<!\[CDATA\[([\s\S]*?)(?:\]\]>|$)/g, '$1').trim() !== '';
}

/** What may hide a URL's parts from the raw scan: a character reference, a CDATA section, a comment, a processing instruction but the declaration. */
const HIDING = /&#|<!\[CDATA\[|<!--|<\?(?!xml[\s?])/;

/**
 * Masks secret item values inside WPI XML text, leaving everything else byte for byte. Used for
 * raw message views, exports and (with another predicate) what is stored. Whatever an XML parser
 * would read as the value is masked: plain text, CDATA sections, text split by comments; names
 * written with character references or a namespace prefix (on the element or the attribute, any
 * characters) are recognised, and a tag with several names is masked if any is secret; an Item
 * holding elements is masked to its own end tag, one without an end tag (broken XML) to the end
 * of the text. The passwords of URLs with credentials are
 * masked too, unless `urlPasswords` is false.
 */
export function maskSecretsInXml(xml: string, isSecret: (name: string) => boolean = isSecretItem, options: { urlPasswords?: boolean } = {}): string {
  const masked = maskItems(xml, isSecret);
  if (options.urlPasswords === false) return masked;
  // The raw text as it stands, and where character references, CDATA sections, comments or
  // processing instructions may hide a URL's parts, the text nodes as a parser decodes them
  // (shared/xml-url-secrets.ts; named entities hide nothing the raw scan misses).
  const raw = HAS_URL.test(masked) ? urlSecretRanges(masked) : [];
  const decoded = HIDING.test(masked) ? xmlTextUrlRanges(masked) : [];
  return replaceRanges(masked, unionRanges(raw, decoded), MASK);
}

/**
 * Where the Item whose content starts at `open` ends: its own end tag, counting the Items inside
 * it and skipping CDATA sections, comments and processing instructions (an end tag written in one
 * of them ends nothing); the end of the text when there is none.
 */
function ownEndTag(xml: string, open: number): number {
  const scan = new RegExp(NESTED);
  scan.lastIndex = open;
  let depth = 1;
  for (let m = scan.exec(xml); m !== null; m = scan.exec(xml)) {
    if (m[1] === undefined) continue; // a section, skipped whole
    if (m[1] === '/') {
      if (--depth === 0) return m.index;
    } else if (m[2] !== '/') depth++;
  }
  return xml.length;
}

function maskItems(xml: string, isSecret: (name: string) => boolean): string {
  if (!/Item/.test(xml)) return xml;
  let out = '';
  let copied = 0;
  const starts = new RegExp(STARTS);
  // No start tag ends after the last `>`: without this, each `<Item` of a body with none scanned to its end (helper-67).
  const lastGt = xml.lastIndexOf('>');
  for (let s = starts.exec(xml); s !== null && s.index < lastGt; s = starts.exec(xml)) {
    ITEM_START.lastIndex = s.index;
    LOOSE_START.lastIndex = s.index;
    const strict = ITEM_START.exec(xml);
    const tag = strict ?? LOOSE_START.exec(xml);
    if (!tag) continue;
    // A loose tag's names are all read from its whole span: the `<Item`s inside it are not scanned again.
    if (!strict) starts.lastIndex = s.index + tag[0].length;
    if (tag[3] === '/') continue;
    const open = s.index + tag[0].length;
    // A name with a reference no XML parser here resolves (`&k;` from a DTD) could be any name: masked (helper-65).
    if (!namesOf(tag[2] ?? '').some((n) => isSecret(n) || /&[^;\s]*;/.test(n))) continue;
    CONTENT.lastIndex = open;
    const whole = CONTENT.exec(xml);
    let end: number;
    let content: string;
    if (whole) {
      content = whole[1]!;
      end = open + content.length;
    } else {
      // Elements inside (Items too), or no end tag: mask up to this Item's own end tag, or to the end.
      end = ownEndTag(xml, open);
      content = xml.slice(open, end);
    }
    // Nothing but comments and the like: no Item inside either, so the scan goes on after it. Started
    // again inside it, each `<Item` of a body of unterminated comments read to the end (helper-69).
    if (!hasValue(content)) {
      starts.lastIndex = Math.max(starts.lastIndex, end);
      continue;
    }
    out += `${xml.slice(copied, open)}${MASK}`;
    copied = end;
    starts.lastIndex = end;
  }
  return copied === 0 ? xml : out + xml.slice(copied);
}
