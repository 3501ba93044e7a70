/**
 * An exchange's warnings (ExchangeSummary.warning) in the UI's language: each of the service's
 * sentences (shared/exchange-warnings.ts) said from traffic.json `warningText.*`, any other part as
 * written. They are joined with "; ", which a sentence may hold too ("…; relayed as it was", or
 * inside what a parser said): from each part on, the longest run of parts (up to MAX_RUN) that
 * reads as one sentence is taken. What LocalDLS's codec said of a message that is not WPI (the
 * `problem` inside) is said in the UI's language too (shared/wpi-refusals.ts).
 */
import { EXCHANGE_WARNINGS, WARNING_SEPARATOR } from '../../../shared/exchange-warnings';
import { phraseText, type AnyT } from './phrase';
import { wpiRefusal } from './wpi-refusal';

/**
 * Parts one sentence may span: its own "; " and those inside what the codec said, whose values
 * run to about 220 characters (shared/wpi-refusals.ts), so up to about 110 of "; " (a hostile
 * maxItems="1; 2; 3; 4" has three). Beyond, it is shown as written.
 */
const MAX_RUN = 120;

export function exchangeWarning(text: string, t?: AnyT): string {
  const parts = text.split(WARNING_SEPARATOR);
  const said: string[] = [];
  for (let i = 0; i < parts.length; ) {
    let taken = 1;
    let words = parts[i]!;
    for (let n = Math.min(MAX_RUN, parts.length - i); n >= 1; n--) {
      const run = parts.slice(i, i + n).join(WARNING_SEPARATOR);
      if (EXCHANGE_WARNINGS.parse(run) === null) continue;
      taken = n;
      words = phraseText(EXCHANGE_WARNINGS, 'traffic:warningText', run, t, (p) => (p.problem === undefined ? p : { ...p, problem: wpiRefusal(p.problem, t) }));
      break;
    }
    said.push(words);
    i += taken;
  }
  return said.join(WARNING_SEPARATOR);
}
