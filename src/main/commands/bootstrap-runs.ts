/**
 * Bootstraps started from the UI ("runs"): certificates and jobs are prepared several phones at a
 * time (prepareBootstraps, as `localdls bootstrap` does, after the same checks: checkBootstrapTargets), progress is announced, and each phone's state
 * follows its bootstrap job until it is secure or failed.
 *
 * The PINs of a run live only here, in this process's memory, while the run is under way: the
 * store keeps them sealed inside the job (bootstrap.ts), events never carry them, and they are
 * forgotten as soon as every phone of the run is secure, failed or cancelled. Only the PIN sheet
 * shows them, and only once every phone of the run is prepared (or preparation stopped because the
 * run was cancelled): a sheet fetched earlier would be missing phones and look complete.
 *
 * A run can be cancelled (cancel): nothing more is prepared, a phone being prepared has its job
 * cancelled as soon as it exists, and jobs not yet sent are cancelled. A phone whose bootstrap was
 * already sent holds its credentials and may still come back on the secure port: it stays followed
 * (and on the sheet). When a job of the run is cancelled elsewhere (`job cancel`, the Jobs view)
 * while phones are still to be prepared, and every job the run had queued by that moment is
 * cancelled, the run cancels itself rather than prepare more for nothing; jobs made after that
 * moment (phones that were being prepared) are then cancelled with it. One job of several
 * cancelled elsewhere is that phone's business only.
 *
 * Every job of a run is created with the run's start time, so the run is a rollout
 * (`j<started>-Bootstrap`, commands/rollouts.ts) that outlives this process's memory.
 */
import { randomBytes } from 'node:crypto';
import { ApiError, type BootstrapDevice, type BootstrapOptions, type BootstrapRun, type FileResult } from '../../shared/api';
import type { Job } from '../../shared/model';
import { BOOTSTRAP_CONCURRENCY, forEachConcurrently, pinSheet, prepareBootstraps, type PinChoice } from '../app/bootstrap';
import type { KeyProtector, Pki } from '../pki';
import { jobRolloutId, type Store } from '../store';
import { checkBootstrapTargets, pinChoiceOf } from './bootstrap';

export interface BootstrapRunsDeps {
  store: Store;
  /** The open PKI and key protector; both present only when Secure Mode is on. */
  secure: () => { pki: Pki; protector: KeyProtector; securePort: number } | null;
  /** Why Secure Mode is off (for the error when a run cannot start). */
  offReason: () => string;
  emit: (run: BootstrapRun) => void;
  now?: () => number;
}

interface RunState {
  run: BootstrapRun;
  /** MAC → PIN, in memory only, for the PIN sheet. */
  pins: Map<string, string>;
  finishedAt: number | null;
  /** How to bootstrap its failed phones again ("retry failed"); null when the PIN was given by hand. */
  retryOptions: BootstrapOptions | null;
  /** Devices (indexes) whose certificate and job are being made right now. */
  inFlight: Set<number>;
}

/** The error of a job cancelled with its run, and of a phone never prepared because of it. */
const JOB_CANCELLED_WITH_RUN = 'cancelled with its bootstrap run';
const NOT_PREPARED = 'not prepared: the bootstrap run was cancelled';
export const CANCELLED_ELSEWHERE = 'every job this run had queued was cancelled elsewhere (job cancel), so it stopped preparing the other phones';

/** Finished runs are kept this long (their states, not their PINs) for a reloaded page. */
const KEEP_FINISHED_MS = 60 * 60_000;
/** A run nobody finishes still forgets its PINs after this long. */
const MAX_RUN_MS = 24 * 60 * 60_000;

export class BootstrapRuns {
  private readonly runs = new Map<string, RunState>();
  private readonly now: () => number;
  private closed = false;
  /** The runs' preparations under way: close() waits for them. */
  private readonly preparing = new Set<Promise<void>>();

  constructor(private readonly deps: BootstrapRunsDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Runs whose phones are not all secure or failed yet. */
  get active(): number {
    return [...this.runs.values()].filter((r) => !r.run.finished).length;
  }

  /** Checks everything that can be checked at once, then prepares in the background. */
  start(macs: readonly string[], options: BootstrapOptions): BootstrapRun {
    // Closing waits only for the preparations it saw: a run started now would never be prepared.
    if (this.closed) throw new ApiError('unavailable', 'the service is stopping: bootstrap runs cannot start now');
    this.sweep();
    const secure = this.deps.secure();
    if (!secure) throw new ApiError('unavailable', `Secure Mode is off: ${this.deps.offReason()}`);
    const { store } = this.deps;
    const devices: BootstrapDevice[] = checkBootstrapTargets(store, macs, options).map((d) => ({
      mac: d.mac, e164: d.e164, jobId: null, state: 'preparing', jobState: null, error: null, hasPin: false,
    }));
    // A start time of its own: it names the run's rollout (two runs in one millisecond would merge).
    const started = store.rollouts.claimTime(Math.max(this.now(), ...[...this.runs.values()].map((r) => r.run.started + 1)), 'Bootstrap');
    const run: BootstrapRun = {
      id: randomBytes(9).toString('base64url'),
      started,
      rolloutId: jobRolloutId(started, 'Bootstrap'),
      pin: options.pin === 'none' ? 'none' : options.pin === 'auto' ? 'auto' : 'given',
      total: devices.length,
      prepared: 0,
      error: null,
      finished: false,
      pinsAvailable: false,
      cancelled: null,
      devices,
    };
    const retryOptions = options.pin === 'none' || options.pin === 'auto' ? { ...options } : null;
    const state: RunState = { run, pins: new Map(), finishedAt: null, retryOptions, inFlight: new Set() };
    this.runs.set(run.id, state);
    const choice: PinChoice = pinChoiceOf(options.pin, options.pinDigits);
    const preparing = this.prepare(state, secure, choice, options.maxPinRetries).finally(() => this.preparing.delete(preparing));
    this.preparing.add(preparing);
    return snapshot(run);
  }

  get(id: string): BootstrapRun {
    return snapshot(this.stateOf(id).run);
  }

  /**
   * Cancels a run (see the header). Twice, or from two tabs at once: the second gets the run as the
   * first left it. A finished run has nothing left to cancel: refused, saying so.
   */
  cancel(id: string, why: string): BootstrapRun {
    const state = this.stateOf(id);
    if (!state.run.cancelled) {
      if (state.run.finished) throw new ApiError('conflict', `bootstrap run ${id} has finished (every phone is secure, failed or cancelled): there is nothing left to cancel`);
      this.cancelRun(state, why);
    }
    return snapshot(state.run);
  }

  /** The runs kept (under way, or finished within the hour), newest first. */
  list(): BootstrapRun[] {
    this.sweep();
    return [...this.runs.values()].map((s) => snapshot(s.run)).sort((a, b) => b.started - a.started);
  }

  /** The run kept in memory whose rollout this is, if any (swept runs and runs of another process: none). */
  byRollout(rolloutId: string): { run: BootstrapRun; retryOptions: BootstrapOptions | null } | null {
    this.sweep();
    for (const state of this.runs.values()) if (state.run.rolloutId === rolloutId) return { run: snapshot(state.run), retryOptions: state.retryOptions };
    return null;
  }

  /** The sheet of every phone that can still use its PIN; refused until every phone is prepared. */
  pinSheet(id: string, format: 'csv' | 'html'): FileResult {
    const state = this.stateOf(id);
    const { run } = state;
    if (run.pin === 'none') throw new ApiError('not-found', 'this bootstrap uses no PINs: there is no PIN sheet');
    if (state.pins.size === 0 && run.finished) throw new ApiError('not-found', 'the PINs of this run are gone: they are kept only while its phones are being bootstrapped');
    const preparing = run.devices.filter((d) => d.state === 'preparing').length;
    if (preparing > 0) {
      throw new ApiError('conflict', `the PIN sheet is ready once every phone of the run is prepared (${run.total - preparing} of ${run.total} so far): a sheet now would miss phones; wait for the rest`);
    }
    const rows = sheetRows(state);
    if (rows.length === 0) throw new ApiError('not-found', 'no phone of this run can use a PIN any more: each is secure, failed or cancelled without one');
    const stamp = new Date(run.started).toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
    return {
      filename: `localdls-pins-${stamp}.${format}`,
      mimeType: format === 'csv' ? 'text/csv' : 'text/html',
      content: pinSheet(rows, format),
    };
  }

  /** Follows the runs' jobs (called with every batch of changed jobs). */
  onJobs(jobs: readonly Job[]): void {
    if (this.closed || jobs.length === 0) return;
    const byId = new Map(jobs.map((j) => [j.id, j]));
    for (const state of this.runs.values()) {
      if (state.run.finished) continue;
      let changed = false;
      /** The newest moment one of its jobs was cancelled by someone else. */
      let cancelledElsewhereAt: number | null = null;
      for (const d of state.run.devices) {
        const job = d.jobId === null ? undefined : byId.get(d.jobId);
        if (!job || d.state === 'preparing') continue;
        const next = deviceStateOf(job);
        if (next.state !== d.state || next.jobState !== d.jobState || next.error !== d.error) {
          if (job.state === 'cancelled' && d.state !== 'cancelled' && job.error !== JOB_CANCELLED_WITH_RUN) {
            cancelledElsewhereAt = Math.max(cancelledElsewhereAt ?? 0, job.finished ?? job.updated);
          }
          Object.assign(d, next);
          changed = true;
        }
      }
      if (cancelledElsewhereAt !== null && this.abandoned(state, cancelledElsewhereAt)) this.cancelRun(state, CANCELLED_ELSEWHERE);
      else if (changed) this.changed(state);
    }
  }

  /**
   * Starts no further phone and forgets the PINs. Settles once the phones being prepared now are
   * done (their certificate made and job queued, or failed): the service closes its store and
   * releases the data folder after this, and a certificate written after that would belong to no
   * job (a test found one written into a folder already removed).
   */
  async close(): Promise<void> {
    this.closed = true;
    for (const state of this.runs.values()) state.pins.clear();
    this.runs.clear();
    await Promise.allSettled([...this.preparing]);
  }

  private async prepare(state: RunState, secure: { pki: Pki; protector: KeyProtector; securePort: number }, pin: PinChoice, maxPinRetries: number): Promise<void> {
    const { run } = state;
    // Several phones at a time (keys on every core); each is announced as soon as it is ready.
    await forEachConcurrently(run.devices.length, BOOTSTRAP_CONCURRENCY, async (i) => {
      const d = run.devices[i]!;
      // A cancelled run starts no further phone (cancelRun marked the ones not started).
      if (this.closed || run.cancelled) return;
      state.inFlight.add(i);
      try {
        const [p] = await prepareBootstraps(this.deps.store, secure.pki, secure.protector, [d.mac], { pin, securePort: secure.securePort, maxPinRetries, rolloutAt: run.started });
        if (this.closed) return;
        d.jobId = p!.jobId;
        d.state = 'pending';
        d.jobState = 'queued';
        if (p!.pin) {
          d.hasPin = true;
          state.pins.set(d.mac, p!.pin);
        }
        // Made while the run was being cancelled: its job goes before a phone can take it.
        // (read again: cancel() may have run while this phone's certificate was being made)
        const cancelled = (run as BootstrapRun).cancelled;
        if (cancelled) this.cancelJob(d.jobId, cancelled.at);
        // The phone may have taken its job while the next certificate was made.
        const job = this.deps.store.jobs.get(p!.jobId);
        if (job) Object.assign(d, deviceStateOf(job));
      } catch (e) {
        if (this.closed) return;
        d.state = 'failed';
        d.error = e instanceof Error ? e.message : String(e);
      } finally {
        state.inFlight.delete(i);
      }
      run.prepared++;
      this.changed(state);
    });
  }

  private stateOf(id: string): RunState {
    this.sweep();
    const state = this.runs.get(id);
    if (!state) throw new ApiError('not-found', `no bootstrap run ${id}: runs are kept while the service runs, and for an hour after they finish; start a new one`, [{ key: 'noBootstrapRun', params: { id } }]);
    return state;
  }

  private cancelRun(state: RunState, why: string): void {
    const { run } = state;
    const at = this.now();
    run.cancelled = { at, why };
    run.devices.forEach((d, i) => {
      if (d.state === 'preparing' && !state.inFlight.has(i)) {
        d.state = 'cancelled';
        d.error = NOT_PREPARED;
      } else if (d.state === 'pending' && d.jobId !== null) {
        this.cancelJob(d.jobId, at);
        const job = this.deps.store.jobs.get(d.jobId);
        if (job) Object.assign(d, deviceStateOf(job));
      }
    });
    this.changed(state);
  }

  /** Cancels a job of the run unless the phone already has it (sent): that phone stays followed. */
  private cancelJob(jobId: number, at: number): void {
    const job = this.deps.store.jobs.get(jobId);
    if (job && (job.state === 'queued' || job.state === 'waiting-busy')) this.deps.store.cancelJob(jobId, at, JOB_CANCELLED_WITH_RUN);
  }

  /**
   * A job of the run was cancelled elsewhere at `at`: the run is abandoned when phones are still to
   * be prepared and every job it had queued by then is cancelled (jobs made later do not count:
   * they were being prepared while the user cancelled).
   */
  private abandoned(state: RunState, at: number): boolean {
    const { run } = state;
    if (run.cancelled || !run.devices.some((d) => d.state === 'preparing')) return false;
    const before = run.devices.filter((d) => d.jobId !== null && (this.deps.store.jobs.get(d.jobId)?.created ?? Infinity) <= at);
    return before.length > 0 && before.every((d) => d.state === 'cancelled');
  }

  /** After any change to a run: the sheet's readiness, the end, the event. */
  private changed(state: RunState): void {
    const { run } = state;
    run.pinsAvailable = state.pins.size > 0 && !run.devices.some((d) => d.state === 'preparing') && sheetRows(state).length > 0;
    this.maybeFinish(state);
    this.deps.emit(snapshot(run));
  }

  private maybeFinish(state: RunState): void {
    const { run } = state;
    if (run.finished) return;
    if (!run.devices.every((d) => d.state === 'secure' || d.state === 'failed' || d.state === 'cancelled')) return;
    run.finished = true;
    state.finishedAt = this.now();
    state.pins.clear();
    run.pinsAvailable = false;
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, state] of this.runs) {
      if (state.finishedAt !== null && now - state.finishedAt > KEEP_FINISHED_MS) this.runs.delete(id);
      else if (now - state.run.started > MAX_RUN_MS) {
        state.pins.clear();
        state.run.pinsAvailable = false;
      }
    }
  }
}

/** The phones the PIN sheet lists: those with a PIN that can still be typed or was (not failed or cancelled). */
function sheetRows(state: RunState): { mac: string; e164: string | null; jobId: number; pin: string }[] {
  return state.run.devices
    .filter((d) => state.pins.has(d.mac) && (d.state === 'pending' || d.state === 'secure'))
    .map((d) => ({ mac: d.mac, e164: d.e164, jobId: d.jobId ?? 0, pin: state.pins.get(d.mac)! }));
}

function deviceStateOf(job: Job): Pick<BootstrapDevice, 'state' | 'jobState' | 'error'> {
  switch (job.state) {
    case 'done':
      return { state: 'secure', jobState: job.state, error: null };
    case 'failed':
      return { state: 'failed', jobState: job.state, error: job.error ?? 'failed' };
    case 'cancelled':
      return { state: 'cancelled', jobState: job.state, error: job.error ?? 'cancelled' };
    default:
      // Waiting: the busy note, or what happened to contact-me (failed N of M times, with why).
      return { state: 'pending', jobState: job.state, error: job.state === 'waiting-busy' || job.state === 'queued' ? job.error : null };
  }
}

function snapshot(run: BootstrapRun): BootstrapRun {
  return { ...run, devices: run.devices.map((d) => ({ ...d })) };
}
