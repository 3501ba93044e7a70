/**
 * Whether a FileDeployment did what it asked. Several files (manual p.55): "The phone sends no
 * status information for multiple file deployment or deletion. The service should check the result
 * with ReadAllItems", which lists every stored file with file-deployment-* (p.245). One file
 * (p.52–54): the phone's RFC status names the file it reports on. Pure.
 */
import type { Item } from '../wpi';
import type { Job } from '../../shared/model';
import type { JobChange } from '../store';
import { filesFailedNote, filesUnconfirmedNote } from '../../shared/job-notes';
import {
  deploymentFiles, fileLabel, fileResult, FILE_RESULTS, filesText, isUnconfirmed, listedFiles, resultOf, sameFile, type DeploymentFile, type ListedFile,
} from '../../shared/file-deployment';

export interface FileCheck {
  change: JobChange;
  /** Every file confirmed either way: the job is done or failed. Otherwise it waits for another check. */
  final: boolean;
}

/** Judges each file of a multiple-file job against the files a ReadAllItems answer lists. */
export function checkFiles(job: Pick<Job, 'id' | 'items' | 'results'>, items: readonly Item[], now: number): FileCheck {
  const listed = listedFiles(items);
  const files = deploymentFiles(job.items);
  if (files.length === 0) return { final: true, change: { id: job.id, state: 'failed', finished: now, error: 'the job names no file the phone could list (file-name or file-https-base-url, with file-type)' } };
  const verdicts = files.map((file) => {
    const before = resultOf(file, job.results)?.listedBefore;
    return { file, before, status: verdict(file, listed.filter((l) => sameFile(file, l)), before) };
  });
  const results = verdicts.map((v) => fileResult(v.file, v.status, v.before));
  const open = verdicts.filter((v) => isUnconfirmed(v.status));
  const failed = verdicts.filter((v) => v.status === FILE_RESULTS.failed);
  // Cancelled, or failed at its time limit, since it was read: the verdict comes too late.
  const base: JobChange = { id: job.id, results, resetResults: true, ifSent: true };
  if (open.length) {
    // Not there yet (the phone downloads after it accepts), or not (yet) deleted: checked again at its next contact.
    const note = filesUnconfirmedNote(open.length, files.length, filesText(open));
    return { final: false, change: { ...base, error: note } };
  }
  if (failed.length) {
    return { final: true, change: { ...base, state: 'failed', finished: now, error: filesFailedNote(failed.length, files.length, failed.map((f) => fileLabel(f.file)).join(', ')) } };
  }
  return { final: true, change: { ...base, state: 'done', finished: now, error: null } };
}

/** `listed`: every entry naming the file (any spelling of its name); `before`: the stamps of the copies listed when the job was sent. */
function verdict(file: DeploymentFile, listed: readonly ListedFile[], before: readonly string[] | undefined): string {
  // Deleted, or never there: the phone holds no such file either way (file-name + file-type is unique, p.55).
  if (file.action === 'delete') return listed.length ? FILE_RESULTS.stillListed : FILE_RESULTS.deleted;
  if (!listed.length) return FILE_RESULTS.notListed;
  // Stored at the same moment as a copy listed before the job was sent: the old copy, ok or failed,
  // which says nothing of this deployment (helper-73). Not there yet, or never coming: the time
  // limit decides.
  const fresh = listed.filter((l) => !before?.includes(l.stamp));
  if (!fresh.length) return FILE_RESULTS.asBefore;
  return fresh.some((l) => l.status === 'ok') ? FILE_RESULTS.deployed : FILE_RESULTS.failed;
}

/**
 * The file a status report names (single form, p.54) that is this job's one file: the report's
 * entry for it, or undefined when the report names another file (or none).
 */
export function reportFor(job: Pick<Job, 'items'>, items: readonly Item[]): ListedFile | undefined {
  const [file, ...more] = deploymentFiles(job.items);
  if (!file || more.length) return undefined;
  return listedFiles(items).find((l) => sameFile(file, l));
}

/** The single-form job's one file as its result (Job.results), from its status report. */
export function reportedResult(job: Pick<Job, 'items'>, ok: boolean): JobChange['results'] {
  const [file] = deploymentFiles(job.items);
  return file ? [fileResult(file, ok ? FILE_RESULTS.deployed : FILE_RESULTS.failed)] : [];
}

/** What a status report names, for a warning: "ringer.wav (RINGTONE)", or "no file". */
export function reportedNames(items: readonly Item[]): string {
  const named = listedFiles(items);
  return named.length ? named.map(fileLabel).join(', ') : 'no file (no file-deployment-name)';
}
