/** What a device is doing, in one badge: the states the devices table and the device page show. */
import type { DeviceView } from '../../../shared/api';

export interface StateBadge {
  label: string;
  /** CSS modifier: state-idle, state-in-interaction, state-busy, state-warn, state-error. */
  tone: 'idle' | 'in-interaction' | 'busy' | 'warn' | 'error';
  title?: string;
}

/** The device's activity, then its bootstrap if one is under way or failed. */
export function deviceStates(d: DeviceView): StateBadge[] {
  const out: StateBadge[] = [];
  if (d.state === 'in-interaction') out.push({ label: 'in interaction', tone: 'in-interaction' });
  else if (d.jobs.waitingBusy > 0) out.push({ label: 'busy', tone: 'busy', title: `${d.jobs.waitingBusy} job(s) wait until the phone's call ends` });
  else out.push({ label: 'idle', tone: 'idle' });
  // Contact-me failed (recorded by the service; absent on older records): the phone cannot be reached.
  if ((d.contactFailures ?? 0) > 0) out.push({ label: 'unreachable', tone: 'error', title: d.lastContactError ?? 'contact-me failed' });
  if (d.bootstrap === 'pending') out.push({ label: 'bootstrap pending', tone: 'warn', title: 'Its move to Secure Mode is under way' });
  if (d.bootstrap === 'failed') out.push({ label: 'bootstrap failed', tone: 'error', title: "See the bootstrap job's error in the jobs view" });
  return out;
}

export function waitingJobs(d: DeviceView): number {
  return d.jobs.queued + d.jobs.sent + d.jobs.waitingBusy;
}

export function waitingTitle(d: DeviceView): string {
  return `${d.jobs.queued} queued, ${d.jobs.sent} sent, ${d.jobs.waitingBusy} waiting for a call to end`;
}
