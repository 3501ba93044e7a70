/**
 * An exchange's error as the views show it (list, ladder, timeline, device page, detail): a
 * contact-me's failure, a relay's failure and a refusal of the listener's in the UI's language, any
 * other as recorded.
 */
import { contactMeError } from './contact-me-error';
import type { AnyT } from './phrase';
import { listenerRefusal } from './listener-refusal';
import { isRelayFailure, relayFailure } from './relay-failure';

export function exchangeError(x: { kind: string; error: string | null }, t?: AnyT): string | null {
  if (x.error === null) return null;
  if (x.kind === 'contact-me') return contactMeError(x.error, t);
  return isRelayFailure(x.error) ? relayFailure(x.error, t) : listenerRefusal(x.error, t);
}
