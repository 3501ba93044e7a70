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
