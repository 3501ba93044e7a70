/**
 * Why a contact-me failed, in the UI's language: the service's English words for it
 * (shared/contact-me-errors.ts) read back and said from errors.json `contactMe.*`; any other text
 * as written. An OS message inside one stays as the system gave it.
 */
import i18next from 'i18next';
import { parseContactMeError } from '../../../shared/contact-me-errors';

/** A component's `t` of any namespace (the keys here name their own), or i18next's in the UI's current language. */
export type AnyT = (key: string, options: Record<string, unknown>) => string;

export function contactMeError(text: string, t: AnyT = i18next.t): string {
  const parsed = parseContactMeError(text);
  return parsed ? t(`errors:contactMe.${parsed.key}`, { ...parsed.params, defaultValue: text, interpolation: { escapeValue: false } }) : text;
}

/** An exchange's error as the views show it: a contact-me's in the UI's language, any other as recorded. */
export function exchangeError(x: { kind: string; error: string | null }, t?: AnyT): string | null {
  return x.kind === 'contact-me' && x.error !== null ? contactMeError(x.error, t) : x.error;
}
