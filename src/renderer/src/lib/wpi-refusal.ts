/**
 * Why the WPI codec refused a message, in the UI's language: the service's English words
 * (shared/wpi-refusals.ts) said from traffic.json `wpiRefusalText.*`; what the message said and the
 * XML parser's words inside stay as recorded; any other text as written.
 */
import { WPI_REFUSALS } from '../../../shared/wpi-refusals';
import { phraseText, type AnyT, type SaidFrom } from './phrase';

export const WPI_REFUSALS_SAID: SaidFrom = [WPI_REFUSALS, 'traffic:wpiRefusalText'];

export const wpiRefusal = (text: string, t?: AnyT): string => phraseText(...WPI_REFUSALS_SAID, text, t);
