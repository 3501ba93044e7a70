/**
 * Words and small rules for showing jobs. The labels come from the `jobs` namespace through
 * useJobWords, so a view that shows them waits (Suspense) until that namespace is loaded in the
 * language in use; reading it from outside React would show English while German loads.
 */
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import type { TFunction } from 'i18next';
import type { JobFilter } from '../../../shared/api';
import { deploymentFiles, fileLabel } from '../../../shared/file-deployment';
import { normalizeMac } from '../../../shared/mac';
import { bootstrapJobRole, type ItemValue, type Job, type JobKind, type JobState } from '../../../shared/model';

export interface JobWords {
  /** A job kind in the user's words and language. */
  kindLabel(kind: JobKind): string;
  stateLabel(state: JobState): string;
  /** What a job state means, for its tooltip. */
  stateHelp(state: JobState): string;
  /** One line: the job's items (or what it does), shortened. */
  jobSummary(j: Job, max?: number): string;
}

/** The job words, in the language in use; suspends until the `jobs` namespace is there. */
export function useJobWords(): JobWords {
  const { t } = useTranslation('jobs');
  return useMemo(() => jobWords(t), [t]);
}

export function jobWords(t: TFunction<'jobs'>): JobWords {
  return {
    kindLabel: (kind) => t(`kind.${kind}`, { defaultValue: kind }),
    stateLabel: (state) => t(`state.${state}`, { defaultValue: state }),
    stateHelp: (state) => t(`stateHelp.${state}`, { defaultValue: state }),
    jobSummary(j, max = 3) {
      // A renewal and an undo are no way into Secure Mode (helper-77: they read as a bootstrap).
      const role = bootstrapJobRole(j);
      if (role === 'renewal' || role === 'undo') return t(`summary.${role}`);
      if (j.kind === 'ReadAllItems' || j.kind === 'Restart' || j.kind === 'FactoryReset') return '';
      if (j.kind === 'Bootstrap') {
        const variant = j.items.find((i) => i.name === 'goto-secure-mode')?.value;
        return variant === 'pin' ? t('summary.bootstrapPin') : t('summary.bootstrapNoPin');
      }
      if (j.kind === 'SoftwareDeployment') return t('summary.version', { version: j.items.find((i) => i.name === 'file-sw-version')?.value ?? '?' });
      // Each file once, by the name the phone stores it under, with its type: as the CLI names them.
      if (j.kind === 'FileDeployment') return deploymentFiles(j.items).map(fileLabel).join(', ');
      const shown = j.items.slice(0, max).map((i: ItemValue) => itemText(i, j.kind !== 'ReadItems'));
      return shown.join('  ') + (j.items.length > max ? `  …(+${j.items.length - max})` : '');
    },
  };
}

export const PENDING: readonly JobState[] = ['queued', 'sent', 'waiting-busy'];

export const isPending = (j: Job) => PENDING.includes(j.state);

export function itemText(i: { name: string; index?: number | null; value?: string }, withValue = true): string {
  const idx = i.index !== undefined && i.index !== null ? `[${i.index}]` : '';
  return withValue && i.value !== undefined ? `${i.name}${idx}=${i.value}` : `${i.name}${idx}`;
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
