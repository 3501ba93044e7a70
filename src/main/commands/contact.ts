/** Contact-me now: the phone calls back at once, within its contact gap (contact.ts keeps the gap). */
import { ApiError, type ContactResult } from '../../shared/api';
import { API_ARGS } from '../../shared/api-args';
import { defineCommand } from './define';
import { refuseWhileRelaying } from './relay-guard';

export const contactNow = defineCommand('contactNow', API_ARGS.contactNow, async (ctx, macs): Promise<ContactResult[]> => {
  refuseWhileRelaying(ctx, 'send contact-me');
  const contacts = ctx.contacts;
  if (!contacts) throw new ApiError('unavailable', 'contact-me is not available here: the service is not running', [{ key: 'serviceNotRunning', params: {} }]);
  const outcomes = new Map((await contacts.contactMany(macs, ctx.contactProgress)).map((o) => [o.mac, o]));
  return macs.map((mac) => {
    const o = outcomes.get(mac)!;
    const r: ContactResult = { mac, ok: o.ok };
    if (o.skipped) r.skipped = o.skipped;
    if (o.skip) r.skip = o.skip;
    if (o.nextAt) r.nextAt = o.nextAt;
    if (o.error) r.error = o.error;
    if (o.failures) r.failures = o.failures;
    if (o.failedJobs?.length) r.failedJobs = o.failedJobs;
    return r;
  });
});

/**
 * The phones with jobs waiting (what `contact --all` contacts). Relaying, there are none to
 * contact by rule, and that is said rather than "none waiting" (helper-81).
 */
export const devicesWithWaitingJobs = defineCommand('devicesWithWaitingJobs', [], (ctx): string[] => {
  refuseWhileRelaying(ctx, 'send contact-me');
  return ctx.store.jobs.pendingDevices().map((p) => p.mac);
});
