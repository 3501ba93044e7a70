/**
 * Rollouts: a bulk job (the jobs one "Write items" / `job add` queued for several phones) or a
 * bootstrap (`localdls bootstrap` of several phones, a bootstrap run of the UI), as how many
 * phones are queued, contacted, waiting for their PIN, busy, done, failed, unreachable or
 * cancelled; each phone with the interaction to open its ladder at; and "retry failed", which
 * queues the failed ones again as a rollout of their own (a bootstrap: new keys, new PINs).
 *
 * A rollout is found from its jobs alone (kind and the moment they were queued at, store/rollout-rows.ts), so it
 * outlives the service; a bootstrap run the running service keeps adds the phones that have no
 * job yet (being prepared) or never will (preparation failed, run cancelled first).
 */
import { ApiError, ROLLOUT_PHASES, type BootstrapOptions, type BootstrapRun, type RetryResult, type Rollout, type RolloutDevice, type RolloutPhase, type RolloutSummary } from '../../shared/api';
import { API_ARGS } from '../../shared/api-args';
import { RENEWAL_SOURCE, type Device, type Job, type JobKind } from '../../shared/model';
import { contactMeErrorText } from '../../shared/contact-me-errors';
import { openJobPin } from '../app/bootstrap';
import { isValidPin } from '../pki';
import { isPinBootstrap } from '../provisioning';
import { jobRolloutId, type Store } from '../store';
import { bootstrapNow } from './bootstrap';
import type { CommandContext } from './context';
import { defineCommand } from './define';
import { refuseWhileRelaying } from './relay-guard';

const ROLLOUT_LIST_LIMIT = 100;

/** Part A's contact-me bookkeeping on the device record; absent on stores that predate it. */
type ContactFacts = Partial<Pick<Device, 'contactFailures' | 'lastContactError' | 'lastContactMeOutcome' | 'lastContactMeError'>>;

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
      // A PIN bootstrap the phone took (its first part answered): the phone shows the PIN dialog.
      return { phase: job.kind === 'Bootstrap' && job.partsDone >= 1 && isPinBootstrap(job) ? 'pin' : 'contacted', error: null };
    case 'queued':
      if ((device?.contactFailures ?? 0) > 0) {
        return { phase: 'unreachable', error: device?.lastContactError ?? contactMeErrorText('unknown', {}) };
      }
      if ((device?.lastContactMe ?? 0) >= started) {
        // Sent since the rollout began: refused or timed out is not "contacted".
        if (device?.lastContactMeOutcome === 'failed') return { phase: 'unreachable', error: device.lastContactMeError ?? contactMeErrorText('unknown', {}) };
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

/** The job doing a failed phone's work again since, as the rollout view links it (store/rollout-rows.ts `again`). */
function retriedByOf(store: Store, mac: string, kind: JobKind, job: Job | null, started: number): RolloutDevice['retriedBy'] {
  const later = store.rollouts.again({ mac, kind, id: job?.id ?? null, items: job?.items ?? null, since: started });
  return later ? { jobId: later.id, rolloutId: jobRolloutId(later.moment, kind) } : null;
}

/** `ladders`: the detail view's extras, each phone's interaction and the job doing a failed one again (the list needs only the counts). */
function deviceOf(store: Store, mac: string, e164: string | null, job: Job | null, started: number, ladders: boolean): RolloutDevice {
  const device = store.device(mac) as (Device & ContactFacts) | undefined;
  const { phase, error } = phaseOf(job, device, started);
  // The interaction in which the job was answered (or sent), else the newest since the rollout
  // began; none for a job never sent (queued, cancelled before it went): whatever the phone did
  // since has nothing to do with the rollout (helper-61).
  const at = job?.finished ?? job?.sent ?? null;
  const sent = job === null || job.sent !== null;
  const interactionId = !ladders || !sent ? null : ((at !== null ? store.inspector.exchangeAt(mac, at)?.interactionId : null) ?? store.inspector.interactionSince(mac, started));
  const retriedBy = ladders && phase === 'failed' && job ? retriedByOf(store, mac, job.kind, job, started) : null;
  return { mac, e164: e164 ?? device?.e164 ?? null, jobId: job?.id ?? null, jobState: job?.state ?? null, phase, error, interactionId, retriedBy };
}

function parseRolloutId(id: string): { created: number; kind: JobKind } {
  const m = /^j(\d+)-([A-Za-z]+)$/.exec(id)!;
  return { created: Number(m[1]), kind: m[2] as JobKind };
}

/**
 * One rollout from its jobs and, for a bootstrap the running service keeps as a run, the run's
 * phones (those without a job are queued while prepared, failed or cancelled in the run's words).
 */
function jobRollout(ctx: CommandContext, created: number, kind: JobKind, ladders = true): Rollout {
  const id = jobRolloutId(created, kind);
  const { store } = ctx;
  const jobs = store.rollouts.jobs(created, kind);
  const run = kind === 'Bootstrap' ? (ctx.bootstrapRuns?.byRollout(id)?.run ?? null) : null;
  if (jobs.length === 0 && !run) throw new ApiError('not-found', `no rollout ${id}: its jobs may have been removed (see \`localdls rollout\` for the rollouts there are)`, [{ key: 'noRollout', params: { id } }]);
  const devices = run ? runDevices(store, run, jobs, ladders) : jobs.map((j) => deviceOf(store, j.mac, null, j, created, ladders));
  const counts = countsOf(devices);
  return {
    id,
    kind: kind === 'Bootstrap' ? 'bootstrap' : 'jobs',
    jobKind: kind,
    started: created,
    total: devices.length,
    counts,
    finished: counts.done + counts.failed + counts.cancelled === devices.length,
    devices,
  };
}

function runDevices(store: Store, run: BootstrapRun, jobs: readonly Job[], ladders: boolean): RolloutDevice[] {
  const byId = new Map(jobs.map((j) => [j.id, j]));
  return run.devices.map((d) => {
    const job = d.jobId === null ? null : (byId.get(d.jobId) ?? store.jobs.get(d.jobId) ?? null);
    const r = deviceOf(store, d.mac, d.e164, job, run.started, ladders);
    // A phone whose preparation failed, or that the cancelled run never prepared, has no job: the run's words.
    if (!job && (d.state === 'failed' || d.state === 'cancelled')) {
      const retriedBy = ladders && d.state === 'failed' ? retriedByOf(store, d.mac, 'Bootstrap', null, run.started) : null;
      return { ...r, phase: d.state, error: d.error, retriedBy };
    }
    return r;
  });
}

function rolloutOf(ctx: CommandContext, id: string): Rollout {
  if (id.startsWith('b-')) {
    // A run's own id (the wizard's address): its rollout, while the service keeps the run.
    if (!ctx.bootstrapRuns) throw new ApiError('not-found', `${id} names a bootstrap run of the running service: here its rollout is j<start time>-Bootstrap (see \`localdls rollout\`)`, [{ key: 'noRollout', params: { id } }]);
    id = ctx.bootstrapRuns.get(id.slice(2)).rolloutId;
  }
  const { created, kind } = parseRolloutId(id);
  return jobRollout(ctx, created, kind);
}

const summary = ({ devices: _d, ...s }: Rollout): RolloutSummary => s;

export const listRollouts = defineCommand('listRollouts', API_ARGS.listRollouts, (ctx): RolloutSummary[] => {
  const listed = ctx.store.rollouts.groups(ROLLOUT_LIST_LIMIT).map((g) => summary(jobRollout(ctx, g.created, g.kind, false)));
  // Runs of the running service with fewer than two jobs so far (being prepared, or of one phone).
  const ids = new Set(listed.map((r) => r.id));
  for (const run of ctx.bootstrapRuns?.list() ?? []) {
    if (!ids.has(run.rolloutId)) listed.push(summary(jobRollout(ctx, run.started, 'Bootstrap', false)));
  }
  return listed.sort((a, b) => b.started - a.started);
});

export const getRollout = defineCommand('getRollout', API_ARGS.getRollout, (ctx, id): Rollout => rolloutOf(ctx, id));

/**
 * How to bootstrap a rollout's failed phones again: the run's own options while the service
 * keeps it (`kept`), else what its jobs say (the PIN variant and retries are in their items; the
 * PIN's length, pinDigitsOf, once phones are to be retried). Several phones never share a PIN
 * given by hand, so a PIN rollout of several phones had generated PINs; one phone's PIN may have
 * been typed in: null, that phone is bootstrapped again by hand.
 */
function bootstrapOptionsOf(ctx: CommandContext, rollout: Rollout): { options: BootstrapOptions; kept: boolean } | null {
  const kept = ctx.bootstrapRuns?.byRollout(rollout.id);
  if (kept) return kept.retryOptions && { options: kept.retryOptions, kept: true };
  const job = rolloutJobs(ctx, rollout)[0];
  if (!job || job.source === RENEWAL_SOURCE) return null;
  const retries = Number(job.items.find((i) => i.name === 'max-pin-retries')?.value ?? 3);
  const maxPinRetries = Number.isInteger(retries) && retries >= 1 && retries <= 10 ? retries : 3;
  if (!isPinBootstrap(job)) return { options: { pin: 'none', maxPinRetries }, kept: false };
  return rollout.total > 1 ? { options: { pin: 'auto', maxPinRetries }, kept: false } : null;
}

const rolloutJobs = (ctx: CommandContext, rollout: Rollout): Job[] =>
  rollout.devices.flatMap((d) => (d.jobId === null ? [] : [ctx.store.jobs.get(d.jobId)])).filter((j): j is Job => j !== undefined);

/**
 * How many digits the PINs of a rollout's jobs have (the first that opens), or undefined. Asked
 * only when phones are to be retried: it needs the key passphrase, as the retry itself does.
 */
async function pinDigitsOf(ctx: CommandContext, rollout: Rollout): Promise<number | undefined> {
  const { protector } = await ctx.secure();
  for (const job of rolloutJobs(ctx, rollout)) {
    const sealed = ctx.store.jobs.secret(job.id);
    const pin = sealed ? openJobPin(protector, sealed) : undefined;
    if (pin !== undefined && isValidPin(pin)) return pin.length;
  }
  return undefined;
}

/**
 * "Retry failed" of a bootstrap rollout: each failed phone needs a new certificate (its old one
 * was revoked) and, with PINs, a new PIN. So it is bootstrapped again the way it was, through the
 * bootstrap commands: a new run of the running service (its PIN sheet in the wizard), or, where no
 * service keeps runs (the CLI), prepared at once (`localdls bootstrap --sheet` prints the PINs).
 * Phones that meanwhile are secure, or have another bootstrap under way (a retry made before),
 * are skipped, saying so.
 */
async function retryBootstrap(ctx: CommandContext, rollout: Rollout, failed: readonly RolloutDevice[], skipped: RetryResult['skipped']): Promise<RetryResult> {
  const how = bootstrapOptionsOf(ctx, rollout);
  if (!how) {
    return { rolloutId: null, retried: 0, skipped: [...skipped, ...failed.map((d) => ({ mac: d.mac, reason: `its PIN may have been given by hand (or it was a renewal): bootstrap it again with \`localdls bootstrap --mac ${d.mac}\` and the PIN, or from the bootstrap wizard`, key: 'pinByHand' as const }))] };
  }
  const macs: string[] = [];
  for (const d of failed) {
    const device = ctx.store.device(d.mac);
    const underWay = ctx.store.bootstrapUnderWay(d.mac);
    if (!device) skipped.push({ mac: d.mac, reason: 'no longer known to this service (removed)', key: 'removed' });
    else if (device.mode === 'secure') skipped.push({ mac: d.mac, reason: 'in Secure Mode by now', key: 'secureNow' });
    else if (underWay) skipped.push({ mac: d.mac, reason: `bootstrap job ${underWay.id} is already under way (retried before?)`, retriedBy: underWay.id });
    else macs.push(d.mac);
  }
  if (macs.length === 0) return { rolloutId: null, retried: 0, skipped };
  let options = how.options;
  if (!how.kept && options.pin === 'auto') {
    // The new PINs as long as the ones the run handed out (it may have asked for more digits).
    const digits = await pinDigitsOf(ctx, rollout);
    if (digits !== undefined) options = { ...options, pinDigits: digits };
  }
  if (ctx.bootstrapRuns) {
    const run = ctx.bootstrapRuns.start(macs, options);
    return { rolloutId: run.rolloutId, retried: macs.length, skipped };
  }
  const r = await bootstrapNow(ctx, macs, options);
  for (const n of r.notQueued) skipped.push({ mac: n.mac, reason: n.reason });
  return { rolloutId: r.prepared.length ? r.rolloutId : null, retried: r.prepared.length, skipped };
}

const retriedAlready = (mac: string, jobId: number): RetryResult['skipped'][number] => ({ mac, reason: `retried already: job ${jobId} does it again`, retriedBy: jobId });

export const retryFailed = defineCommand('retryFailed', API_ARGS.retryFailed, async (ctx, id): Promise<RetryResult> => {
  refuseWhileRelaying(ctx, 'queue jobs again');
  const rollout = rolloutOf(ctx, id);
  const failed = rollout.devices.filter((d) => d.phase === 'failed');
  const skipped: RetryResult['skipped'] = rollout.devices.filter((d) => d.phase === 'cancelled').map((d) => ({ mac: d.mac, reason: 'cancelled (by hand or with its run): queue it again on purpose', key: 'cancelled' as const }));
  if (failed.length === 0) return { rolloutId: null, retried: 0, skipped };
  if (rollout.kind === 'bootstrap') return retryBootstrap(ctx, rollout, failed, skipped);
  // After the rollout they retry: the moment claimed for them follows it.
  const at = Math.max(Date.now(), rollout.started + 1);
  const { jobs, already, refused, moment } = ctx.store.rollouts.retry(failed.flatMap((d) => (d.jobId === null ? [] : [d.jobId])), ctx.source, at);
  const retriedMacs = new Set(jobs.map((j) => j.mac));
  const before = new Map(already.map((a) => [a.mac, a.jobId]));
  const notSendable = new Map(refused.map((r) => [r.mac, r.reason]));
  for (const d of failed) {
    if (retriedMacs.has(d.mac)) continue;
    const again = before.get(d.mac);
    const why = notSendable.get(d.mac);
    if (again !== undefined) skipped.push(retriedAlready(d.mac, again));
    else if (why !== undefined) skipped.push({ mac: d.mac, reason: `not queued again: ${why}` });
    else skipped.push({ mac: d.mac, reason: 'its job carries sealed credentials: start it again from its own command', key: 'sealed' });
  }
  return { rolloutId: jobs.length ? jobRolloutId(moment, rollout.jobKind) : null, retried: jobs.length, skipped };
});
