/**
 * Rollouts: a bulk job (the jobs one "Write items" / `job add` queued for several phones) or a
 * bootstrap run, as how many phones are queued, contacted, busy, done, failed or unreachable;
 * each phone with the interaction to open its ladder at; and "retry failed", which queues the
 * failed ones again as a rollout of their own (a bootstrap run: a new run for its failed phones).
 */
import { ApiError, ROLLOUT_PHASES, type BootstrapRun, type RetryResult, type Rollout, type RolloutDevice, type RolloutPhase, type RolloutSummary } from '../../shared/api';
import { API_ARGS } from '../../shared/api-args';
import type { Device, Job, JobKind } from '../../shared/model';
import type { Store } from '../store';
import type { CommandContext } from './context';
import { defineCommand } from './define';

const ROLLOUT_LIST_LIMIT = 100;

/** Part A's contact-me bookkeeping on the device record; absent on stores that predate it. */
type ContactFacts = Partial<Pick<Device, 'contactFailures' | 'lastContactError' | 'lastContactMeOutcome' | 'lastContactMeError'>>;

export function jobRolloutId(created: number, kind: string): string {
  return `j${created}-${kind}`;
}

/**
 * Where one phone of a rollout stands, from its job and its device record: the one place both the
 * UI and `localdls rollout` count from. Cancelled is its own phase, not a failure; a queued job
 * whose phone cannot be reached is unreachable, which is pending (it waits), not failed.
 */
export function phaseOf(job: Job | null, device: (Device & ContactFacts) | undefined, started: number): { phase: RolloutPhase; error: string | null } {
  if (!job) return { phase: 'queued', error: null };
  switch (job.state) {
    case 'done':
      return { phase: 'done', error: null };
    case 'failed':
      return { phase: 'failed', error: job.error ?? 'failed' };
    case 'cancelled':
      return { phase: 'cancelled', error: job.error ?? 'cancelled' };
    case 'waiting-busy':
      return { phase: 'busy', error: job.error };
    case 'sent':
      return { phase: 'contacted', error: null };
    case 'queued':
      if ((device?.contactFailures ?? 0) > 0) {
        return { phase: 'unreachable', error: device?.lastContactError ?? 'contact-me failed' };
      }
      if ((device?.lastContactMe ?? 0) >= started) {
        // Sent since the rollout began: refused or timed out is not "contacted".
        if (device?.lastContactMeOutcome === 'failed') return { phase: 'unreachable', error: device.lastContactMeError ?? 'contact-me failed' };
        return { phase: 'contacted', error: null };
      }
      return { phase: 'queued', error: null };
  }
}

function countsOf(devices: readonly RolloutDevice[]): Record<RolloutPhase, number> {
  const counts = Object.fromEntries(ROLLOUT_PHASES.map((p) => [p, 0])) as Record<RolloutPhase, number>;
  for (const d of devices) counts[d.phase]++;
  return counts;
}

/** `ladders`: also find each phone's interaction (the detail view; the list needs only the counts). */
function deviceOf(store: Store, mac: string, e164: string | null, job: Job | null, started: number, ladders: boolean): RolloutDevice {
  const device = store.device(mac) as (Device & ContactFacts) | undefined;
  const { phase, error } = phaseOf(job, device, started);
  // The interaction in which the job was answered (or sent); else the newest since the rollout began.
  const at = job?.finished ?? job?.sent ?? null;
  const interactionId = !ladders ? null : ((at !== null ? store.inspector.exchangeAt(mac, at)?.interactionId : null) ?? store.inspector.interactionSince(mac, started));
  return { mac, e164: e164 ?? device?.e164 ?? null, jobId: job?.id ?? null, jobState: job?.state ?? null, phase, error, interactionId };
}

function jobRollout(store: Store, created: number, kind: JobKind, ladders = true): Rollout {
  const jobs = store.rollouts.jobs(created, kind);
  if (jobs.length === 0) throw new ApiError('not-found', `no rollout ${jobRolloutId(created, kind)}: its jobs may have been removed`, [{ key: 'noRollout', params: { id: jobRolloutId(created, kind) } }]);
  const devices = jobs.map((j) => deviceOf(store, j.mac, null, j, created, ladders));
  const counts = countsOf(devices);
  return { id: jobRolloutId(created, kind), kind: 'jobs', jobKind: kind, started: created, total: devices.length, counts, finished: counts.done + counts.failed + counts.cancelled === devices.length, devices };
}

function bootstrapRollout(store: Store, run: BootstrapRun, ladders = true): Rollout {
  const devices = run.devices.map((d) => {
    const job = d.jobId === null ? null : (store.jobs.get(d.jobId) ?? null);
    const r = deviceOf(store, d.mac, d.e164, job, run.started, ladders);
    // A phone whose preparation failed, or that the cancelled run never prepared, has no job: the run's words.
    if (!job && (d.state === 'failed' || d.state === 'cancelled')) return { ...r, phase: d.state, error: d.error };
    return r;
  });
  const counts = countsOf(devices);
  return { id: `b-${run.id}`, kind: 'bootstrap', jobKind: 'Bootstrap', started: run.started, total: run.total, counts, finished: run.finished, devices };
}

function rolloutOf(ctx: CommandContext, id: string): Rollout {
  if (id.startsWith('b-')) {
    if (!ctx.bootstrapRuns) throw new ApiError('unavailable', 'bootstrap runs are kept by the running service: open them in the app or the web UI');
    return bootstrapRollout(ctx.store, ctx.bootstrapRuns.get(id.slice(2)));
  }
  const m = /^j(\d+)-([A-Za-z]+)$/.exec(id)!;
  return jobRollout(ctx.store, Number(m[1]), m[2] as JobKind);
}

const summary = ({ devices: _d, ...s }: Rollout): RolloutSummary => s;

export const listRollouts = defineCommand('listRollouts', API_ARGS.listRollouts, (ctx): RolloutSummary[] => {
  const jobs = ctx.store.rollouts.groups(ROLLOUT_LIST_LIMIT).map((g) => summary(jobRollout(ctx.store, g.created, g.kind, false)));
  const runs = (ctx.bootstrapRuns?.list() ?? []).map((r) => summary(bootstrapRollout(ctx.store, r, false)));
  return [...jobs, ...runs].sort((a, b) => b.started - a.started);
});

export const getRollout = defineCommand('getRollout', API_ARGS.getRollout, (ctx, id): Rollout => rolloutOf(ctx, id));

export const retryFailed = defineCommand('retryFailed', API_ARGS.retryFailed, (ctx, id): RetryResult => {
  const rollout = rolloutOf(ctx, id);
  const failed = rollout.devices.filter((d) => d.phase === 'failed');
  const skipped: RetryResult['skipped'] = rollout.devices.filter((d) => d.phase === 'cancelled').map((d) => ({ mac: d.mac, reason: 'cancelled (by hand or with its run): queue it again on purpose' }));
  if (failed.length === 0) return { rolloutId: null, retried: 0, skipped };
  if (rollout.kind === 'bootstrap') {
    const options = ctx.bootstrapRuns!.retryOptions(id.slice(2));
    if (!options) {
      return { rolloutId: null, retried: 0, skipped: [...skipped, ...failed.map((d) => ({ mac: d.mac, reason: 'its PIN was given by hand: bootstrap it again with the PIN' }))] };
    }
    const run = ctx.bootstrapRuns!.start(failed.map((d) => d.mac), options);
    return { rolloutId: `b-${run.id}`, retried: failed.length, skipped };
  }
  // The new jobs need a creation time of their own, or they would join the rollout they retry.
  const at = Math.max(Date.now(), rollout.started + 1);
  const jobs = ctx.store.rollouts.retry(failed.flatMap((d) => (d.jobId === null ? [] : [d.jobId])), ctx.source, at);
  const retriedMacs = new Set(jobs.map((j) => j.mac));
  for (const d of failed) if (!retriedMacs.has(d.mac)) skipped.push({ mac: d.mac, reason: 'its job carries sealed credentials: start it again from its own command' });
  return { rolloutId: jobs.length ? jobRolloutId(at, rollout.jobKind) : null, retried: jobs.length, skipped };
});
