/**
 * A job's note (`Job.error`: why it waits, or why it failed) in the UI's language. The service
 * writes it in English (the CLI prints it as is); the notes it writes most are known by their
 * shape (shared/job-notes.ts) and come from the jobs namespace instead. Any other stays as written,
 * and so do the values inside a known one (a phone's error, the reason a phone is not contacted).
 */
import type { TFunction } from 'i18next';
import { parseJobNote } from '../../../shared/job-notes';

/** `t`: the jobs namespace's, from the calling component (which waits for it to load). */
export function jobNote(text: string, t: TFunction<'jobs'>): string {
  const parsed = parseJobNote(text);
  return parsed ? t(`note.${parsed.key}`, { ...parsed.params, defaultValue: text }) : text;
}
