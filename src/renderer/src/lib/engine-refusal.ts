/**
 * Why the service refused a well-formed message for who sent it (no or a revoked certificate, a
 * replay, another host's cookie, a Secure-Mode phone on the Default-Mode port, an unknown phone),
 * in the UI's language: the service's English words (shared/engine-refusals.ts) said from
 * traffic.json `engineRefusalText.*`; any other text as written.
 */
import { ENGINE_REFUSALS } from '../../../shared/engine-refusals';
import { phraseText, type AnyT } from './phrase';

export const isEngineRefusal = (text: string): boolean => ENGINE_REFUSALS.parse(text) !== null;

export const engineRefusal = (text: string, t?: AnyT): string => phraseText(ENGINE_REFUSALS, 'traffic:engineRefusalText', text, t);
