/** Words and small rules for showing jobs. */
import type { JobFilter } from '../../../shared/api';
import { normalizeMac } from '../../../shared/mac';
import type { ItemValue, Job, JobKind, JobState } from '../../../shared/model';
import { i18next } from '../i18n';

const t = (key: string, options?: Record<string, unknown>) => i18next.t(`jobs:${key}`, options ?? {});

/** A job kind in the user's words and language. */
export function kindLabel(kind: JobKind): string {
  return t(`kind.${kind}`, { defaultValue: kind });
}

/** What a job state means, for its tooltip. */
export function stateHelp(state: JobState): string {
  return t(`stateHelp.${state}`, { defaultValue: state });
}

export function stateLabel(state: JobState): string {
  return t(`state.${state}`, { defaultValue: state });
}

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
    return variant === 'pin' ? t('summary.bootstrapPin') : t('summary.bootstrapNoPin');
  }
  if (j.kind === 'SoftwareDeployment') return t('summary.version', { version: j.items.find((i) => i.name === 'file-sw-version')?.value ?? '?' });
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
