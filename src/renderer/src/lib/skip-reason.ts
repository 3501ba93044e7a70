/**
 * Why the service skipped a phone (a contact-me not sent, a profile not applied) in the UI's
 * language: the key it gives with its English words (shared/skip-reasons.ts), from errors.json
 * `skip.*`, which the first screen loads. Without a key (an older service), its English words.
 */
import i18next from 'i18next';
import type { Skip } from '../../../shared/skip-reasons';
import { dateTime } from './format';
import type { AnyT } from './phrase';

export function skipReason(skip: Skip | undefined, english: string, t: AnyT = i18next.t): string {
  if (!skip) return english;
  const params: Record<string, string> = { ...skip.params };
  // A moment the service wrote in UTC reads in this computer's time, as every other time here.
  if (params.until && !Number.isNaN(Date.parse(params.until))) params.until = dateTime(Date.parse(params.until));
  const key = skip.key === 'uriElsewhere' && !params.peer ? 'uriElsewhereUnknown' : skip.key === 'profileOtherType' && !params.deviceType ? 'profileOtherTypeUnknown' : skip.key;
  return t(`errors:skip.${key}`, { ...params, defaultValue: english, interpolation: { escapeValue: false } });
}
