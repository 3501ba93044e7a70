/**
 * Why the listener refused a request, in the UI's language: the service's English words
 * (shared/listener-refusals.ts) said from traffic.json `refusalText.*`, also with "(N similar not
 * recorded)" after them; any other text as written.
 */
import i18next from 'i18next';
import { LISTENER_REFUSALS, SIMILAR_NOT_RECORDED } from '../../../shared/listener-refusals';
import { phraseText, type AnyT } from './phrase';

export function listenerRefusal(text: string, t: AnyT = i18next.t): string {
  const similar = SIMILAR_NOT_RECORDED.exec(text);
  if (similar && LISTENER_REFUSALS.parse(similar[1]!)) {
    return t('traffic:refusalText.similar', { text: phraseText(LISTENER_REFUSALS, 'traffic:refusalText', similar[1]!, t), count: Number(similar[2]), defaultValue: text, interpolation: { escapeValue: false } });
  }
  return phraseText(LISTENER_REFUSALS, 'traffic:refusalText', text, t);
}
