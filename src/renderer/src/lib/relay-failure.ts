/**
 * Why the relay gave a phone no upstream answer, in the UI's language: the service's English words
 * (shared/relay-failures.ts) said from relay.json `failureText.*`; any other (a certificate's
 * verdict) as written. Addresses and the system's messages inside one stay as they came.
 */
import { RELAY_FAILURES } from '../../../shared/relay-failures';
import { phraseText, type AnyT, type SaidFrom } from './phrase';

export const RELAY_FAILURES_SAID: SaidFrom = [RELAY_FAILURES, 'relay:failureText'];

export function relayFailure(text: string, t?: AnyT): string {
  return phraseText(...RELAY_FAILURES_SAID, text, t);
}

/** Whether the text is one of the relay's failures (shared/relay-failures.ts). */
export const isRelayFailure = (text: string): boolean => RELAY_FAILURES.parse(text) !== null;
