/**
 * A sentence the service keeps in English (shared/phrasebook.ts) in the UI's language: read back
 * from its words and said from the locale's `prefix.*`; any other text as written.
 */
import i18next from 'i18next';
import type { Phrasebook } from '../../../shared/phrasebook';

/** A component's `t` of any namespace (the keys here name their own), or i18next's in the UI's current language. */
export type AnyT = (key: string, options: Record<string, unknown>) => string;

/** `sayValues`: the values as said inside the sentence (a sentence of another book among them, say), else as recorded. */
export function phraseText<K extends string>(
  book: Phrasebook<K>,
  prefix: string,
  text: string,
  t: AnyT = i18next.t,
  sayValues: (params: Record<string, string>) => Record<string, string> = (p) => p,
): string {
  const parsed = book.parse(text);
  return parsed ? t(`${prefix}.${parsed.key}`, { ...sayValues(parsed.params), defaultValue: text, interpolation: { escapeValue: false } }) : text;
}
