/**
 * A sentence the service keeps in English (shared/phrasebook.ts) in the UI's language: read back
 * from its words and said from the locale's `prefix.*`; any other text as written.
 */
import i18next from 'i18next';
import type { Phrasebook } from '../../../shared/phrasebook';

/** A component's `t` of any namespace (the keys here name their own), or i18next's in the UI's current language. */
export type AnyT = (key: string, options: Record<string, unknown>) => string;

export function phraseText<K extends string>(book: Phrasebook<K>, prefix: string, text: string, t: AnyT = i18next.t): string {
  const parsed = book.parse(text);
  return parsed ? t(`${prefix}.${parsed.key}`, { ...parsed.params, defaultValue: text, interpolation: { escapeValue: false } }) : text;
}
