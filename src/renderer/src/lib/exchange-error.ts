/**
 * An exchange's error as the views show it (ladder, timeline, device page, detail): a contact-me's
 * failure and a relay's failure in the UI's language, any other as recorded.
 */
import { contactMeError } from './contact-me-error';
import type { AnyT } from './phrase';
import { relayFailure } from './relay-failure';

export function exchangeError(x: { kind: string; error: string | null }, t?: AnyT): string | null {
  if (x.error === null) return null;
  return x.kind === 'contact-me' ? contactMeError(x.error, t) : relayFailure(x.error, t);
}
