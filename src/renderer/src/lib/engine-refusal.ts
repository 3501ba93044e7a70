/**
 * Why the service refused a well-formed message for who sent it (no or a revoked certificate, a
 * replay, another host's cookie, a Secure-Mode phone on the Default-Mode port, an unknown phone),
 * in the UI's language: the service's English words (shared/engine-refusals.ts) said from
 * traffic.json `engineRefusalText.*`; any other text as written.
 */
import { ENGINE_REFUSALS } from '../../../shared/engine-refusals';
import { phraseText, type AnyT, type SaidFrom } from './phrase';

export const ENGINE_REFUSALS_SAID: SaidFrom = [ENGINE_REFUSALS, 'traffic:engineRefusalText'];

export const engineRefusal = (text: string, t?: AnyT): string => phraseText(...ENGINE_REFUSALS_SAID, text, t);
