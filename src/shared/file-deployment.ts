/**
 * The files a FileDeployment job deploys or deletes (manual p.52–55, items p.177 §4.5.2), what the
 * phone lists of its stored files (indexed file-deployment-*, p.245 §6.3), and the per-file result
 * words a job keeps. Shared: the engine judges with it, the store names the files of an overdue
 * job, the views show them. No I/O.
 */
import { filesOverdueText } from './job-notes';
import type { ItemResult } from './model';

type AnyItem = { name: string; index?: number | undefined; value: string };
/** An item as a message carries it or as the store keeps it (index null: none). */
export type ListingItem = { name: string; index?: number | null | undefined; value: string };

export interface DeploymentFile {
  /** The common index of the multiple form (p.55); undefined in the single form. */
  index?: number;
  action: 'deploy' | 'delete';
  /** The name the phone stores it under: file-name, else the URL's last path segment. */
  name: string;
  /** Every spelling a report may use for it (file-name, the URL's last segment raw and decoded). */
  names: string[];
  type: string;
  /** The job's item that names the file: its per-file result is kept under that name and index. */
  item: { name: string; index?: number };
}

/** One file the phone lists as stored (p.245): `file-name` + `file-type` is unique there (p.55). */
export interface ListedFile {
  index: number | undefined;
  name: string;
  type: string;
  /** ok / failed as the phone says; '' when it gave none. */
  status: string;
  /** When the phone stored it (file-deployment-date and -time, p.245: "10:06:2008 15:35:52"); '' when it gave neither. */
  stamp: string;
}

/**
 * The multiple form (p.55): `file-action` on some item, or more than one index. The single form
 * (p.53–54) names one file without an index, and the phone reports it with RFC `status`.
 */
export function isMultipleDeployment(items: readonly { name: string; index?: number | undefined }[]): boolean {
  const indexes = new Set(items.filter((i) => i.name.startsWith('file-') && i.index !== undefined).map((i) => i.index));
  return items.some((i) => i.name === 'file-action') || indexes.size > 1;
}

/**
 * A sent deployment of several files: it waits for a ReadAllItems to confirm it (manual p.55), and
 * its phone is asked to call for that (store/jobs.ts SENT_AND_CHECKING is the same rule in SQL).
 */
export function awaitsFileCheck(job: { kind: string; state: string; items: readonly { name: string; index?: number | undefined }[] }): boolean {
  return job.kind === 'FileDeployment' && job.state === 'sent' && isMultipleDeployment(job.items);
}

/** The files of a FileDeployment job, in index order; items without an index apply to every index. */
export function deploymentFiles(items: readonly AnyItem[]): DeploymentFile[] {
  const fileItems = items.filter((i) => i.name.startsWith('file-'));
  if (!isMultipleDeployment(fileItems)) {
    const one = fileOf(fileItems, undefined);
    return one ? [one] : [];
  }
  const indexes = [...new Set(fileItems.flatMap((i) => (i.index === undefined ? [] : [i.index])))].sort((a, b) => a - b);
  return indexes.flatMap((index) => {
    const own = fileItems.filter((i) => i.index === index);
    const shared = fileItems.filter((i) => i.index === undefined && !own.some((o) => o.name === i.name));
    const file = fileOf([...shared, ...own], index);
    return file ? [file] : [];
  });
}

function fileOf(items: readonly AnyItem[], index: number | undefined): DeploymentFile | null {
  const find = (name: string) => items.find((i) => i.name === name && (i.index === index || i.index === undefined));
  const fileName = find('file-name');
  const url = find('file-https-base-url');
  const names: string[] = [];
  if (fileName?.value.trim()) names.push(fileName.value.trim());
  if (url?.value.trim()) {
    const raw = url.value.trim().replace(/[?#].*$/, '').split('/').pop() ?? '';
    let decoded = raw;
    try {
      decoded = decodeURIComponent(raw);
    } catch {
      // Not percent-encoded as a URL should be: the raw segment is all there is.
    }
    for (const n of [decoded, raw]) if (n && !names.includes(n)) names.push(n);
  }
  if (names.length === 0) return null;
  const named = fileName?.value.trim() ? fileName : url!;
  const action = find('file-action')?.value.trim().toLowerCase() === 'delete' ? 'delete' : 'deploy';
  return {
    ...(index === undefined ? {} : { index }),
    action,
    name: names[0]!,
    names,
    type: find('file-type')?.value.trim() ?? '',
    item: named.index === undefined ? { name: named.name } : { name: named.name, index: named.index },
  };
}

/** Longest file-deployment-date or -time kept (a hostile listing's 40,000 characters would sit in every job's results). */
const STAMP_PART_MAX = 32;

/** The files a message lists with file-deployment-* items (a ReadAllItems answer, a status report). */
export function listedFiles(items: readonly ListingItem[]): ListedFile[] {
  const byIndex = new Map<number | undefined, ListedFile & { date: string; time: string }>();
  for (const i of items) {
    const field = /^file-deployment-(name|type|status|date|time)$/.exec(i.name)?.[1] as 'name' | 'type' | 'status' | 'date' | 'time' | undefined;
    if (!field) continue;
    const index = i.index ?? undefined;
    const f = byIndex.get(index) ?? { index, name: '', type: '', status: '', stamp: '', date: '', time: '' };
    // A date or time is kept on the job (listedBefore): clipped, as a phone's is short ("10:06:2008").
    f[field] = field === 'date' || field === 'time' ? i.value.trim().slice(0, STAMP_PART_MAX) : i.value.trim();
    byIndex.set(index, f);
  }
  return [...byIndex.values()].filter((f) => f.name !== '').map(({ date, time, ...f }) => ({ ...f, stamp: [date, time].filter(Boolean).join(' ') }));
}

/**
 * A deployment's files as it is sent: none checked yet, and each file the phone already lists with
 * the dates and times of the copies it lists (ItemResult.listedBefore). The check takes such a
 * file as deployed only once the phone lists a copy stored at another moment, so the old copy of a
 * file sent again under the same name and type is not taken for the new one [INF: the phone stamps
 * each transfer, p.54, p.245]. `newer`: what a message since `listing` says of some files (a status
 * report names only its own, under indexes of its own): its copies are old ones too.
 */
export function sentResults(jobItems: readonly AnyItem[], listing: readonly ListingItem[], newer: readonly ListingItem[] = []): ItemResult[] {
  const listed = [...listedFiles(newer), ...listedFiles(listing)];
  return deploymentFiles(jobItems).map((file) => {
    // Every copy listed (under any spelling of its name): the new one is none of these.
    const before = file.action === 'deploy' ? [...new Set(listed.filter((l) => sameFile(file, l) && l.stamp !== '').map((l) => l.stamp))] : [];
    return fileResult(file, FILE_RESULTS.notChecked, before);
  });
}

/** Whether a listed file is this one: its name (any spelling), and its type when the phone gives one. */
export function sameFile(file: Pick<DeploymentFile, 'names' | 'type'>, listed: Pick<ListedFile, 'name' | 'type'>): boolean {
  return file.names.includes(listed.name) && (listed.type === '' || file.type === '' || listed.type.toUpperCase() === file.type.toUpperCase());
}

export const fileLabel = (f: { name: string; type: string }): string => (f.type ? `${f.name} (${f.type})` : f.name);

/**
 * A file's result on its job (Job.results, kept under DeploymentFile.item). The views read
 * "ok" as confirmed; "not confirmed" ones are still open (or, on a failed job, never were).
 */
export const FILE_RESULTS = {
  /** deploy: the phone lists it with file-deployment-status ok (or its status report said ok). */
  deployed: 'ok',
  /** deploy: listed with file-deployment-status failed (or reported failed). */
  failed: 'failed',
  /** delete: the phone no longer lists it (or never had it: the same end). */
  deleted: 'ok: not listed any more',
  /** deploy: not (yet) listed. */
  notListed: 'not confirmed: not listed',
  /** deploy: listed with the date and time it had before the job was sent (ItemResult.listedBefore): the old copy. */
  asBefore: 'not confirmed: listed as before',
  /** delete: still listed. */
  stillListed: 'not confirmed: still listed',
  /** No ReadAllItems answer since the phone accepted the deployment. */
  notChecked: 'not confirmed: not checked',
} as const;

/** What every open file's result starts with; a note's file list leaves it out (filesText). */
export const UNCONFIRMED = 'not confirmed: ';

export const isUnconfirmed = (status: string): boolean => status.startsWith(UNCONFIRMED);

/** A file's result as an ItemResult of its job, keeping what the phone listed before the job was sent. */
export const fileResult = (file: DeploymentFile, status: string, listedBefore?: readonly string[]): ItemResult => ({ ...file.item, status, ...(listedBefore?.length ? { listedBefore: [...listedBefore] } : {}) });

/** The result a job holds for this file, if any. */
export function resultOf(file: DeploymentFile, results: readonly ItemResult[]): ItemResult | undefined {
  return results.find((r) => r.name === file.item.name && (r.index ?? null) === (file.item.index ?? null));
}

/** "a.wav (RINGTONE): not listed, b.png (LOGO): still listed". */
export function filesText(files: readonly { file: DeploymentFile; status: string }[]): string {
  return files.map(({ file, status }) => `${fileLabel(file)}: ${isUnconfirmed(status) ? status.slice(UNCONFIRMED.length) : status}`).join(', ');
}

/**
 * Why a multiple-file deployment failed at its limit (store/jobs.ts failOverdueReturns): which
 * files the phone's ReadAllItems never confirmed, and which it listed as failed.
 */
export function filesOverdueNote(items: readonly AnyItem[], results: readonly ItemResult[], minutes: string): { error: string; results: ItemResult[] } {
  const files = deploymentFiles(items).map((file) => {
    const result = resultOf(file, results);
    return { file, status: result?.status ?? FILE_RESULTS.notChecked, listedBefore: result?.listedBefore };
  });
  const open = files.filter((f) => isUnconfirmed(f.status));
  const failed = files.filter((f) => f.status === FILE_RESULTS.failed);
  const error = filesOverdueText(open.length, files.length, minutes, filesText(open), failed.map((f) => fileLabel(f.file)).join(', '));
  return { error, results: files.map((f) => fileResult(f.file, f.status, f.listedBefore)) };
}
