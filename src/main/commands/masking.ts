/**
 * The one masking policy of what commands return: secret item values (passwords, keys, PINs) are
 * replaced by the mask in jobs, profiles and items, whichever front end shows them; only the
 * explicit reveal commands return a real value.
 */
import { bootstrapJobRole, type DeviceItem, type ItemValue, type Job, type Profile } from '../../shared/model';
import { maskItemValue } from '../../shared/secrets';
import { formatItem } from './item-spec';
import { deploymentFiles, fileLabel, resultOf } from '../../shared/file-deployment';

export function maskItems<T extends { name: string; value: string }>(items: readonly T[]): T[] {
  return items.map((i) => ({ ...i, value: maskItemValue(i.name, i.value) }));
}

/** A job as every front end gets it: secret item values masked. */
export function maskJob(j: Job): Job {
  return { ...j, items: maskItems(j.items) };
}

export function maskProfile(p: Profile): Profile {
  return { ...p, items: maskItems(p.items) };
}

export function maskDeviceItems(items: readonly DeviceItem[]): DeviceItem[] {
  return maskItems(items);
}

/** A value on one short line: a PEM becomes "(certificate, N bytes)", the rest is cut at `max`. */
export function shortValue(value: string, max = 40): string {
  const pem = /^-----BEGIN ([A-Z0-9 ]+)-----/.exec(value.trimStart());
  if (pem) return `(${pem[1]!.toLowerCase()}, ${value.length} bytes)`;
  const flat = value.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** A job's items in a line of a table: masked, first three, each value short; a checked file deployment, each file's result. */
export function jobSummary(j: Job): string {
  // A renewal and an undo are no bootstrap into Secure Mode (helper-77: they read as one).
  const role = bootstrapJobRole(j);
  if (role === 'renewal') return 'renewal: a new client certificate, over the secure channel';
  if (role === 'undo') return 'bootstrap undone: factory reset over the secure channel, back to Default Mode';
  if (j.kind === 'FileDeployment' && j.results.length) {
    const files = deploymentFiles(j.items);
    if (files.some((f) => resultOf(f, j.results) !== undefined)) return files.map((f) => `${fileLabel(f)}: ${resultOf(f, j.results)?.status ?? '—'}`).join(', ');
  }
  const shown = maskItems(j.items).slice(0, 3).map((i: ItemValue) => (j.kind === 'ReadItems' ? formatItem({ ...i, value: '' }).slice(0, -1) : formatItem({ ...i, value: shortValue(i.value) })));
  return shown.join(' ') + (j.items.length > 3 ? ` …(+${j.items.length - 3})` : '');
}
