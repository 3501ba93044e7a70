/** Words and small rules for showing jobs. */
import type { JobFilter } from '../../../shared/api';
import { normalizeMac } from '../../../shared/mac';
import type { ItemValue, Job, JobKind, JobState } from '../../../shared/model';

export const KIND_LABELS: Record<JobKind, string> = {
  WriteItems: 'Write items',
  ReadItems: 'Read items',
  ReadAllItems: 'Read all',
  Restart: 'Restart',
  FactoryReset: 'Factory reset',
  FileDeployment: 'File deployment',
  SoftwareDeployment: 'Firmware',
  Bootstrap: 'Bootstrap',
};

export const STATE_HELP: Record<JobState, string> = {
  queued: 'waiting for the phone to call (contact-me is sent)',
  sent: 'sent to the phone, waiting for its answer',
  done: 'the phone did it',
  failed: 'the phone refused it, or it could not be done',
  'waiting-busy': 'the phone is in a call: it goes when the call ends',
  cancelled: 'cancelled',
};

export const PENDING: readonly JobState[] = ['queued', 'sent', 'waiting-busy'];

export const isPending = (j: Job) => PENDING.includes(j.state);

export function itemText(i: { name: string; index?: number | null; value?: string }, withValue = true): string {
  const idx = i.index !== undefined && i.index !== null ? `[${i.index}]` : '';
  return withValue && i.value !== undefined ? `${i.name}${idx}=${i.value}` : `${i.name}${idx}`;
}

/** One line: the job's items (or what it does), shortened. */
export function jobSummary(j: Job, max = 3): string {
  if (j.kind === 'ReadAllItems' || j.kind === 'Restart' || j.kind === 'FactoryReset') return '';
  if (j.kind === 'Bootstrap') {
    const variant = j.items.find((i) => i.name === 'goto-secure-mode')?.value;
    return variant === 'pin' ? 'to Secure Mode, with PIN' : 'to Secure Mode, no PIN';
  }
  if (j.kind === 'SoftwareDeployment') return `version ${j.items.find((i) => i.name === 'file-sw-version')?.value ?? '?'}`;
  if (j.kind === 'FileDeployment') {
    const files = j.items.filter((i) => i.name === 'file-name' || i.name === 'file-https-base-url').map((i) => i.value.split('/').pop());
    return files.join(', ');
  }
  const shown = j.items.slice(0, max).map((i: ItemValue) => itemText(i, j.kind !== 'ReadItems'));
  return shown.join('  ') + (j.items.length > max ? `  …(+${j.items.length - max})` : '');
}

/** Whether a job belongs in a list with this filter (live updates). */
export function jobMatches(j: Job, f: JobFilter): boolean {
  if (f.mac && j.mac !== f.mac) return false;
  if (f.states?.length && !f.states.includes(j.state)) return false;
  if (f.kinds?.length && !f.kinds.includes(j.kind)) return false;
  return true;
}

/** The one MAC normaliser (src/shared/mac.ts), as the jobs view calls it. */
export const normalMac = normalizeMac;
