/**
 * Why a contact-me failed, in the UI's language: the service's English words for it
 * (shared/contact-me-errors.ts) said from errors.json `contactMe.*`; any other text as written. An
 * OS message inside one stays as the system gave it.
 */
import { CONTACT_ME_ERRORS } from '../../../shared/contact-me-errors';
import { phraseText, type AnyT } from './phrase';

export function contactMeError(text: string, t?: AnyT): string {
  return phraseText(CONTACT_ME_ERRORS, 'errors:contactMe', text, t);
}

/** An exchange's error as the views show it: a contact-me's in the UI's language, any other as recorded. */
export function exchangeError(x: { kind: string; error: string | null }, t?: AnyT): string | null {
  return x.kind === 'contact-me' && x.error !== null ? contactMeError(x.error, t) : x.error;
}
