/**
 * An exchange's error as the views show it (list, ladder, timeline, device page, detail): a
 * contact-me's failure, a relay's failure, a refusal of the listener's and one of the WPI codec's
 * (not XML, not WPI) in the UI's language, any other as recorded.
 */
import { contactMeError } from './contact-me-error';
import type { AnyT } from './phrase';
import { listenerRefusal } from './listener-refusal';
import { isRelayFailure, relayFailure } from './relay-failure';
import { isWpiRefusal, wpiRefusal } from './wpi-refusal';

export function exchangeError(x: { kind: string; error: string | null }, t?: AnyT): string | null {
  if (x.error === null) return null;
  if (x.kind === 'contact-me') return contactMeError(x.error, t);
  if (isRelayFailure(x.error)) return relayFailure(x.error, t);
  return isWpiRefusal(x.error) ? wpiRefusal(x.error, t) : listenerRefusal(x.error, t);
}
