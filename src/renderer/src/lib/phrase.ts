/**
 * A sentence the service keeps in English (shared/phrasebook.ts) in the UI's language: read back
 * from its words and said from the locale's `prefix.*`; any other text as written.
 */
import i18next from 'i18next';
import type { Phrasebook } from '../../../shared/phrasebook';

/** A component's `t` of any namespace (the keys here name their own), or i18next's in the UI's current language. */
export type AnyT = (key: string, options: Record<string, unknown>) => string;

/** A book of the service's sentences, and where the locale says them (`prefix.<key>`). */
export type SaidFrom = readonly [book: Phrasebook<string>, prefix: string];

/** `sayValues`: the values as said inside the sentence (a sentence of another book among them, say), else as recorded. */
export function phraseText<K extends string>(
  book: Phrasebook<K>,
  prefix: string,
  text: string,
  t: AnyT = i18next.t,
  sayValues: (params: Record<string, string>) => Record<string, string> = (p) => p,
): string {
  const parsed = book.parse(text);
  return parsed ? said(prefix, parsed, text, t, sayValues) : text;
}

/** The text said from the first of `books` that knows it (each reads it once); null when none does. */
export function firstPhraseText(books: readonly SaidFrom[], text: string, t: AnyT = i18next.t): string | null {
  for (const [book, prefix] of books) {
    const parsed = book.parse(text);
    if (parsed) return said(prefix, parsed, text, t);
  }
  return null;
}

function said(prefix: string, parsed: { key: string; params: Record<string, string> }, text: string, t: AnyT, sayValues = (p: Record<string, string>) => p): string {
  return t(`${prefix}.${parsed.key}`, { ...sayValues(parsed.params), defaultValue: text, interpolation: { escapeValue: false } });
}
