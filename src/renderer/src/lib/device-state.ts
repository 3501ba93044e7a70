/**
 * What a device is doing, in one badge: the states the devices table and the device page show.
 * The words come from the caller's `devices` namespace (useTranslation('devices')), so the view
 * waits for that namespace rather than showing English while German loads.
 */
import type { TFunction } from 'i18next';
import type { DeviceView } from '../../../shared/api';
import { contactMeError } from './contact-me-error';

type DevicesT = TFunction<'devices'>;

export interface StateBadge {
  label: string;
  /** CSS modifier: state-idle, state-in-interaction, state-busy, state-warn, state-error. */
  tone: 'idle' | 'in-interaction' | 'busy' | 'warn' | 'error';
  title?: string;
}

/** The device's activity, then its bootstrap if one is under way or failed. */
export function deviceStates(d: DeviceView, tDevices: DevicesT): StateBadge[] {
  const t = (key: string, options?: Record<string, unknown>) => tDevices(`state.${key}`, options ?? {});
  const out: StateBadge[] = [];
  if (d.state === 'in-interaction') out.push({ label: t('inInteraction'), tone: 'in-interaction' });
  else if (d.jobs.waitingBusy > 0) out.push({ label: t('busy'), tone: 'busy', title: t('busyTitle', { count: d.jobs.waitingBusy }) });
  else out.push({ label: t('idle'), tone: 'idle' });
  // Contact-me failed (recorded by the service): the phone cannot be reached.
  if (d.contactFailures > 0) out.push({ label: t('unreachable'), tone: 'error', title: d.lastContactError ? contactMeError(d.lastContactError) : t('unreachableTitle') });
  if (d.bootstrap === 'pending') out.push({ label: t('bootstrapPending'), tone: 'warn', title: t('bootstrapPendingTitle') });
  if (d.bootstrap === 'failed') out.push({ label: t('bootstrapFailed'), tone: 'error', title: t('bootstrapFailedTitle') });
  return out;
}

export function waitingJobs(d: DeviceView): number {
  return d.jobs.queued + d.jobs.sent + d.jobs.waitingBusy;
}

export function waitingTitle(d: DeviceView, t: DevicesT): string {
  return t('state.waitingTitle', { queued: d.jobs.queued, sent: d.jobs.sent, busy: d.jobs.waitingBusy });
}
