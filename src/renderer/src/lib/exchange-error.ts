/**
 * An exchange's error as the views show it (list, ladder, timeline, device page, detail): a
 * contact-me's failure, a relay's failure, a refusal of the listener's, of the WPI codec's (not
 * XML, not WPI) and the engine's for who sent it (shared/engine-refusals.ts) in the UI's language,
 * any other as recorded.
 */
import { contactMeError } from './contact-me-error';
import { engineRefusal, isEngineRefusal } from './engine-refusal';
import type { AnyT } from './phrase';
import { listenerRefusal } from './listener-refusal';
import { isRelayFailure, relayFailure } from './relay-failure';
import { isWpiRefusal, wpiRefusal } from './wpi-refusal';

export function exchangeError(x: { kind: string; error: string | null }, t?: AnyT): string | null {
  if (x.error === null) return null;
  if (x.kind === 'contact-me') return contactMeError(x.error, t);
  if (isRelayFailure(x.error)) return relayFailure(x.error, t);
  if (isWpiRefusal(x.error)) return wpiRefusal(x.error, t);
  return isEngineRefusal(x.error) ? engineRefusal(x.error, t) : listenerRefusal(x.error, t);
}
