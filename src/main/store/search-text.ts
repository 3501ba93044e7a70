/**
 * What free text searches in an exchange, and the exact check behind the trigram index.
 *
 * A body is searched as the traffic view shows it (commands/traffic-views.ts messageView): the
 * raw bytes decoded, the secret item values and URL passwords masked (whatever its type says; a
 * body with NUL bytes shows nothing). Searching the
 * raw bytes would let anyone who can filter the list probe a masked password one guess at a time.
 *
 * The index (search-index.ts) only narrows; every hit is checked here. Masking a 16 kB message
 * costs ~0.4 ms, far too much for every row of a 2000-row page, so the indexer records which byte
 * ranges of the raw body are shown unchanged ("kept"): a needle without the mask character occurs
 * in the shown text exactly when it occurs in the raw bytes inside one kept range.
 */
import { MIN_TEXT_CHARS } from '../../shared/free-text';
import { MASK, maskSecretsInXml } from '../../shared/secrets';
import { bodyText, holdsNul } from '../../shared/body-text';

/** The mask's character: a needle holding it can only be checked against the masked text itself. */
const BULLET = MASK[0]!;
const BULLET_BYTES = Buffer.from(BULLET, 'utf8');
const REPLACEMENT_BYTES = Buffer.from('\ufffd', 'utf8');

/**
 * The body as the traffic view shows it, masked whatever its type says; `valid` is false when the
 * text is not the bytes as UTF-8 (shared/body-text.ts).
 */
export function shownBody(body: Uint8Array): { text: string; valid: boolean } {
  const { text, invalidUtf8, withheld } = bodyText(body);
  const valid = !invalidUtf8 && !withheld;
  return { text: maskSecretsInXml(text), valid };
}


/**
 * The text to index for one body and its kept ranges: '' when the view shows the raw bytes
 * unchanged, "start-end,…" (byte offsets) when something is masked, null when only masking the
 * whole body can tell (a masked text that does not line up, a body with NUL bytes). A body that is
 * not UTF-8 is shown as U+FFFD where its bytes are not: its ranges, prefixed `L`, are offsets in
 * that text as UTF-8 (LOSSY), so a search need not mask it again, which a LAN host could make cost
 * a search 100 ms per planted body (helper-72).
 */
export function indexedBody(body: Uint8Array): { text: string; kept: string | null } {
  const raw = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const { text: decoded, invalidUtf8, withheld } = bodyText(raw);
  const shown = maskSecretsInXml(decoded);
  if (withheld) return { text: shown, kept: null };
  const lossy = invalidUtf8 ? LOSSY_RANGES : '';
  if (shown === decoded) return { text: shown, kept: lossy };
  // The masked text is the raw text with ranges replaced by the mask: every run without the mask
  // character is a substring of the raw text. Where exactly does not matter for soundness: a
  // range found elsewhere holds the same characters.
  const ranges: string[] = [];
  let from = 0;
  let charAt = 0;
  let byteAt = 0;
  for (const segment of shown.split(/\u2022+/)) {
    if (segment === '') continue;
    const i = decoded.indexOf(segment, from);
    if (i < 0) return { text: shown, kept: null };
    byteAt += Buffer.byteLength(decoded.slice(charAt, i));
    const start = byteAt;
    byteAt += Buffer.byteLength(segment);
    charAt = i + segment.length;
    from = charAt;
    ranges.push(`${start}-${byteAt}`);
  }
  return { text: shown, kept: lossy + ranges.join(',') };
}

/** Kept ranges over the body's lossy UTF-8 text, not its bytes. */
const LOSSY_RANGES = 'L';

/**
 * Whether `needle` (UTF-8) occurs in the body as shown. `kept` as indexedBody returns it; null or
 * '*' (not indexed yet, or not UTF-8) masks the body here, if the raw bytes hold the needle at all.
 */
export function shownContains(body: Uint8Array, needle: Uint8Array, kept: string | null): boolean {
  const raw = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const n = Buffer.from(needle.buffer, needle.byteOffset, needle.byteLength);
  // Masking only replaces text with the mask: a needle without its character that the raw bytes
  // lack cannot be in the masked text either.
  // U+FFFD too: the view shows it for bytes that are not UTF-8, which the raw bytes do not hold.
  const onlyShown = n.includes(BULLET_BYTES) || n.includes(REPLACEMENT_BYTES);
  // A body with NUL bytes shows no text (shared/body-text.ts): nothing in it is found.
  if (holdsNul(raw)) return false;
  const occurrences = finder(n);
  // Ranges of a body that is not UTF-8 are over its text as shown (U+FFFD), re-encoded.
  const lossy = kept?.startsWith(LOSSY_RANGES) === true;
  const inRaw = occurrences(lossy ? Buffer.from(bodyText(raw).text, 'utf8') : raw);
  if (!onlyShown && inRaw(0) < 0) return false;
  if (kept === null || kept === '*' || onlyShown) return occurrences(Buffer.from(shownBody(raw).text, 'utf8'))(0) >= 0;
  const list = lossy ? kept.slice(LOSSY_RANGES.length) : kept;
  if (list === '') return true;
  // Occurrences and ranges both ascend: one walk through each, reading the ranges only as far as
  // the occurrences go (a hostile body has tens of thousands of them).
  const ranges = new RangeCursor(list);
  for (let at = inRaw(0); at >= 0; at = inRaw(at + 1)) {
    const end = at + n.length;
    while (ranges.end < end && ranges.next());
    if (ranges.start <= at && end <= ranges.end) return true;
    if (ranges.done) return false;
  }
  return false;
}

/** Walks "s-e,s-e,…" one range at a time without splitting the string. */
class RangeCursor {
  start = -1;
  end = -1;
  done = false;
  private i = 0;
  constructor(private readonly list: string) {
    this.next();
  }

  /** Moves to the next range; false (and `done`) when there is none. */
  next(): boolean {
    if (this.i >= this.list.length) {
      this.done = true;
      return false;
    }
    this.start = this.number();
    this.end = this.number();
    return true;
  }

  private number(): number {
    let n = 0;
    for (; this.i < this.list.length; this.i++) {
      const c = this.list.charCodeAt(this.i);
      if (c < 48 || c > 57) break;
      n = n * 10 + (c - 48);
    }
    this.i++; // the '-' or ','
    return n;
  }
}

/** A copy with the ASCII letters A–Z in lower case and every other byte unchanged. */
function asciiLower(bytes: Buffer): Buffer {
  const out = Buffer.allocUnsafe(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    out[i] = c >= 65 && c <= 90 ? c + 32 : c;
  }
  return out;
}


/** The needle's occurrences in one haystack: the offset of the first from `from` on, -1 when none. */
type Occurrences = (haystack: Buffer) => (from: number) => number;
let lastFinder: { needle: Buffer; occurrences: Occurrences } | null = null;

/**
 * Finds the needle ASCII letters in either case, as the list fields' LIKE compares them and as the
 * trigram index (case-insensitive) finds candidates; every other byte as it is, so a match covers
 * as many bytes as the needle and the kept ranges apply. Remembered for the last needle: SQLite
 * asks row by row with the same one.
 */
function finder(needle: Buffer): Occurrences {
  if (lastFinder?.needle.equals(needle)) return lastFinder.occurrences;
  let occurrences: Occurrences;
  if (!/[A-Za-z]/.test(needle.toString('latin1'))) {
    occurrences = (h) => (from) => h.indexOf(needle, from);
  } else {
    // Both sides with ASCII letters in lower case, every other byte as it is: offsets stay, and
    // Buffer.indexOf (memmem) scans a 256 KiB body in well under a millisecond, where a
    // case-folding regex took tens (helper-72's planted bodies).
    const lowNeedle = asciiLower(needle);
    occurrences = (h) => {
      const low = asciiLower(h);
      return (from) => low.indexOf(lowNeedle, from);
    };
  }
  lastFinder = { needle: Buffer.from(needle), occurrences };
  return occurrences;
}

/** The list's text fields, one per line: what the LIKE half of free text looks at. */
export const SUMMARY_FIELDS = ['mac', 'peer_address', 'reason', 'reply_action', 'action', 'error', 'warning', 'path', 'request_headers', 'response_headers'] as const;

export function summaryText(row: Record<(typeof SUMMARY_FIELDS)[number], string | null>): string {
  return SUMMARY_FIELDS.map((f) => row[f])
    .filter((v): v is string => v !== null)
    .join('\n');
}

/** Fewer characters than this cannot use the trigram index. */
export const MIN_INDEXED_CHARS = MIN_TEXT_CHARS;
/** Trigrams asked of the index per query: enough to be selective, few enough to stay cheap. */
const MAX_TRIGRAMS = 12;

/**
 * The FTS5 query for free text: every row holding the text has all its trigrams (detail=none
 * keeps no positions, so this is an AND of trigrams, a superset the exact check narrows). Null
 * when the text is too short for trigrams.
 */
export function trigramQuery(text: string): string | null {
  const chars = Array.from(text);
  const all: string[] = [];
  for (let i = 0; i + MIN_INDEXED_CHARS <= chars.length; i++) {
    const t = chars.slice(i, i + MIN_INDEXED_CHARS).join('');
    // A NUL would end the query string in C: leaving a trigram out only widens the candidates.
    if (!t.includes('\0') && !all.includes(t)) all.push(t);
  }
  if (all.length === 0) return null;
  const step = all.length / Math.min(all.length, MAX_TRIGRAMS);
  const picked = new Set<string>();
  for (let k = 0; k < Math.min(all.length, MAX_TRIGRAMS); k++) picked.add(all[Math.floor(k * step)]!);
  picked.add(all[all.length - 1]!);
  return [...picked].map((t) => `"${t.replace(/"/g, '""')}"`).join(' AND ');
}
