/**
 * Jobs: queue (one per device, built from a JobSpec), list and cancel. A cancelled bootstrap takes
 * the device out of "bootstrap pending", whoever cancels it, so a later bootstrap includes it.
 */
import { ApiArgumentError, ApiError, type AddJobsResult, type JobList } from '../../shared/api';
import { API_ARGS } from '../../shared/api-args';
import type { Job } from '../../shared/model';
import { maskUrlPasswords } from '../../shared/secrets';
import type { CommandContext } from './context';
import { defineCommand } from './define';
import { API_WORDS, buildJob, CLI_WORDS, JobSpecError } from './job-spec';
import { maskJob } from './masking';
import { refuseWhileRelaying } from './relay-guard';

export const listJobs = defineCommand('listJobs', API_ARGS.listJobs, (ctx, filter): JobList => {
  const { jobs, matched } = ctx.store.listJobs(filter);
  return { jobs: jobs.map(maskJob), matched };
});

export const addJob = defineCommand('addJob', API_ARGS.addJob, (ctx, macs, spec): AddJobsResult => {
  refuseWhileRelaying(ctx, 'queue jobs');
  let built;
  try {
    built = buildJob(spec, ctx.source === 'cli' ? CLI_WORDS : API_WORDS);
  } catch (e) {
    // A refused file URL is quoted in the reason: not its password.
    if (e instanceof JobSpecError) throw new ApiArgumentError(`addJob: ${maskUrlPasswords(e.message)}`, e.texts?.map((x) => ({ key: x.key, params: Object.fromEntries(Object.entries(x.params).map(([k, v]) => [k, typeof v === 'string' ? maskUrlPasswords(v) : v])) })));
    throw e;
  }
  for (const mac of macs) deviceOrThrow(ctx, mac, 'a phone must contact the service once before it can get jobs');
  const { notes, ...job } = built;
  const now = Date.now();
  const { store } = ctx;
  // The same job already waiting for a phone is not queued twice (the same command from the CLI and the UI).
  const { added, same } = store.queueJobs(macs.map((mac) => ({ mac, ...job, source: ctx.source })), now, 'skip');
  return { jobs: added.map(maskJob), notes, same };
});

export const cancelJob = defineCommand('cancelJob', API_ARGS.cancelJob, (ctx, id): Job => {
  const outcome = ctx.store.cancelJob(id, Date.now());
  if (!outcome) throw new ApiError('not-found', `no job ${id}: see the job list (localdls job list, or the Jobs view) for the ids there are`, [{ key: 'noJob', params: { id } }]);
  const { job, cancelled } = outcome;
  if (outcome.taken === 'in-flight') {
    throw new ApiError('conflict', `job ${id} is a renewal on its way to ${job.mac}: the phone may hold the new certificate already, and cancelling would leave it none that opens the secure port. Wait for its answer; if the phone does not answer, the renewal goes back to the queue and can be cancelled then (with the service stopped: when \`serve\` next starts)`, [{ key: 'renewalInFlight', params: { id, mac: job.mac } }]);
  }
  if (outcome.taken === 'taken') {
    throw new ApiError('conflict', `job ${id} is a renewal ${job.mac} has already taken: it holds the new certificate now, and cancelling would leave it none that opens the secure port; it completes when the phone next calls on the secure port. A phone that is gone for good: localdls bootstrap --mac ${job.mac} --forget (revokes its certificates)`, [{ key: 'renewalTaken', params: { id, mac: job.mac } }]);
  }
  if (!cancelled) throw new ApiError('conflict', `job ${id} is ${job.state}: only queued, sent or waiting-busy jobs can be cancelled`, [{ key: 'jobNotCancellable', params: { id, state: job.state } }]);
  return maskJob(job);
});

/** What to do about a MAC the service does not know. */
export const NO_DEVICE_HINT = 'this service has not heard from that phone; check the MAC against localdls devices (or the Devices view), or point the phone at this service first';

export function deviceOrThrow(ctx: CommandContext, mac: string, hint?: string) {
  const d = ctx.store.device(mac);
  if (!d) throw new ApiError('not-found', `no device ${mac}: ${hint ?? NO_DEVICE_HINT}`, [{ key: 'noDevice', params: { mac } }]);
  return d;
}
