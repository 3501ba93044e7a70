/**
 * An exchange's error as the views show it (list, ladder, timeline, device page, detail): a
 * contact-me's failure, a relay's failure, a refusal of the listener's, of the WPI codec's (not
 * XML, not WPI) and the engine's for who sent it (shared/engine-refusals.ts) in the UI's language,
 * any other as recorded.
 */
import { contactMeError } from './contact-me-error';
import { ENGINE_REFUSALS_SAID } from './engine-refusal';
import { firstPhraseText, type AnyT } from './phrase';
import { listenerRefusal } from './listener-refusal';
import { RELAY_FAILURES_SAID } from './relay-failure';
import { WPI_REFUSALS_SAID } from './wpi-refusal';

/** The books an exchange's error may come from, besides contact-me's (its own kind) and the listener's (with its suffix). */
const BOOKS = [RELAY_FAILURES_SAID, WPI_REFUSALS_SAID, ENGINE_REFUSALS_SAID];

export function exchangeError(x: { kind: string; error: string | null }, t?: AnyT): string | null {
  if (x.error === null) return null;
  if (x.kind === 'contact-me') return contactMeError(x.error, t);
  return firstPhraseText(BOOKS, x.error, t) ?? listenerRefusal(x.error, t);
}
