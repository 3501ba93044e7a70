/**
 * A job's note (`Job.error`: why it waits, or why it failed) in the UI's language. The service
 * writes it in English (the CLI prints it as is); the notes it writes most are known by their
 * shape (shared/job-notes.ts) and come from the jobs namespace instead. Any other stays as written,
 * and so do the values inside a known one (a phone's error), except the service's own words for a
 * file's result in a file deployment's notes, the reason a phone is not contacted and why a
 * contact-me failed.
 */
import type { TFunction } from 'i18next';
import { parseJobNote } from '../../../shared/job-notes';
import { FILE_RESULTS, UNCONFIRMED } from '../../../shared/file-deployment';
import { dateTime } from './format';
import { skipReason } from './skip-reason';
import { contactMeError } from './contact-me-error';
import { parseContactSkip } from '../../../shared/skip-reasons';

type FileResultKey = keyof typeof FILE_RESULTS;
/** The service's words for an open file ("not listed" …), as a note's file list writes them (shared/file-deployment.ts filesText). */
const OPEN_WORDS = new Map(
  (Object.entries(FILE_RESULTS) as [FileResultKey, string][]).filter(([, v]) => v.startsWith(UNCONFIRMED)).map(([k, v]) => [v.slice(UNCONFIRMED.length), k]),
);
const ISO_MOMENT = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,3})?Z$/;
const OPEN_WORD = new RegExp(`: (${[...OPEN_WORDS.keys()].join('|')})(?=, |$)`, 'g');

/** `t`: the jobs namespace's, from the calling component (which waits for it to load). */
export function jobNote(text: string, t: TFunction<'jobs'>): string {
  const parsed = parseJobNote(text);
  if (!parsed) return text;
  const params: Record<string, unknown> = { ...parsed.params };
  // A moment the service wrote in UTC (ISO 8601) reads in this computer's time, as every other time here (helper-77).
  for (const [k, v] of Object.entries(params)) if (typeof v === 'string' && ISO_MOMENT.test(v)) params[k] = dateTime(Date.parse(v));
  // The reason a phone is not contacted: the service's words for it, in the UI's language too.
  if (parsed.key === 'contactFailed' || parsed.key === 'unreachable') params.last = contactMeError(parsed.params.last, t);
  if (parsed.key === 'notContacted') params.why = skipReason(parseContactSkip(parsed.params.why) ?? undefined, parsed.params.why, t);
  if (typeof params.files === 'string') params.files = params.files.replace(OPEN_WORD, (_, word: string) => `: ${t(`fileResult.${OPEN_WORDS.get(word)!}`)}`);
  return t(`note.${parsed.key}`, { ...params, defaultValue: text });
}

/**
 * A file's result on a file deployment (Job.results) in the UI's language: the service's own words
 * translated; the phone's (ok, failed) and any other as written.
 */
export function fileResultText(status: string, t: TFunction<'jobs'>): string {
  if (status === FILE_RESULTS.deleted) return t('fileResult.deleted');
  const open = status.startsWith(UNCONFIRMED) ? OPEN_WORDS.get(status.slice(UNCONFIRMED.length)) : undefined;
  return open ? t('fileResult.notConfirmed', { why: t(`fileResult.${open}`) }) : status;
}
