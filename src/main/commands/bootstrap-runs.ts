/**
 * Bootstraps started from the UI ("runs"): certificates and jobs are prepared several phones at a
 * time (prepareBootstraps, as `localdls bootstrap` does, after the same checks: checkBootstrapTargets), progress is announced, and each phone's state
 * follows its bootstrap job until it is secure or failed.
 *
 * The PINs of a run live only here, in this process's memory, while the run is under way: the
 * store keeps them sealed inside the job (bootstrap.ts), events never carry them, and they are
 * forgotten as soon as every phone of the run is secure or failed. Only the PIN sheet shows them.
 */
import { randomBytes } from 'node:crypto';
import { ApiError, type BootstrapDevice, type BootstrapOptions, type BootstrapRun, type FileResult } from '../../shared/api';
import type { Job } from '../../shared/model';
import { BOOTSTRAP_CONCURRENCY, forEachConcurrently, pinSheet, prepareBootstraps, type PinChoice } from '../app/bootstrap';
import type { KeyProtector, Pki } from '../pki';
import type { Store } from '../store';
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
}

/** Finished runs are kept this long (their states, not their PINs) for a reloaded page. */
const KEEP_FINISHED_MS = 60 * 60_000;
/** A run nobody finishes still forgets its PINs after this long. */
const MAX_RUN_MS = 24 * 60 * 60_000;

export class BootstrapRuns {
  private readonly runs = new Map<string, RunState>();
  private readonly now: () => number;
  private closed = false;

  constructor(private readonly deps: BootstrapRunsDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Runs whose phones are not all secure or failed yet. */
  get active(): number {
    return [...this.runs.values()].filter((r) => !r.run.finished).length;
  }

  /** Checks everything that can be checked at once, then prepares in the background. */
  start(macs: readonly string[], options: BootstrapOptions): BootstrapRun {
    this.sweep();
    const secure = this.deps.secure();
    if (!secure) throw new ApiError('unavailable', `Secure Mode is off: ${this.deps.offReason()}`);
    const { store } = this.deps;
    const devices: BootstrapDevice[] = checkBootstrapTargets(store, macs, options).map((d) => ({
      mac: d.mac, e164: d.e164, jobId: null, state: 'preparing', jobState: null, error: null, hasPin: false,
    }));
    const run: BootstrapRun = {
      id: randomBytes(9).toString('base64url'),
      started: this.now(),
      pin: options.pin === 'none' ? 'none' : options.pin === 'auto' ? 'auto' : 'given',
      total: devices.length,
      prepared: 0,
      error: null,
      finished: false,
      pinsAvailable: false,
      devices,
    };
    const retryOptions = options.pin === 'none' || options.pin === 'auto' ? { ...options } : null;
    const state: RunState = { run, pins: new Map(), finishedAt: null, retryOptions };
    this.runs.set(run.id, state);
    const choice: PinChoice = pinChoiceOf(options.pin, options.pinDigits);
    void this.prepare(state, secure, choice, options.maxPinRetries);
    return snapshot(run);
  }

  get(id: string): BootstrapRun {
    this.sweep();
    const state = this.runs.get(id);
    if (!state) throw new ApiError('not-found', `no bootstrap run ${id} (runs are kept while the service runs, and for an hour after they finish)`, [{ key: 'noBootstrapRun', params: { id } }]);
    return snapshot(state.run);
  }

  /** The runs kept (under way, or finished within the hour), newest first. */
  list(): BootstrapRun[] {
    this.sweep();
    return [...this.runs.values()].map((s) => snapshot(s.run)).sort((a, b) => b.started - a.started);
  }

  /** The options to bootstrap a run's failed phones again with, or null (a PIN given by hand is not kept). */
  retryOptions(id: string): BootstrapOptions | null {
    this.get(id);
    return this.runs.get(id)?.retryOptions ?? null;
  }

  pinSheet(id: string, format: 'csv' | 'html'): FileResult {
    this.sweep();
    const state = this.runs.get(id);
    if (!state) throw new ApiError('not-found', `no bootstrap run ${id}: runs are kept while the service runs, and for an hour after they finish; start a new one`, [{ key: 'noBootstrapRun', params: { id } }]);
    const { run } = state;
    if (run.pin === 'none') throw new ApiError('not-found', 'this bootstrap uses no PINs: there is no PIN sheet');
    if (state.pins.size === 0) {
      throw new ApiError('not-found', run.finished
        ? 'the PINs of this run are gone: they are kept only while its phones are being bootstrapped'
        : 'no PIN is ready yet: wait until the phones are prepared');
    }
    const rows = run.devices.filter((d) => state.pins.has(d.mac)).map((d) => ({ mac: d.mac, e164: d.e164, jobId: d.jobId ?? 0, pin: state.pins.get(d.mac)! }));
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
      for (const d of state.run.devices) {
        const job = d.jobId === null ? undefined : byId.get(d.jobId);
        if (!job || d.state === 'preparing') continue;
        const next = deviceStateOf(job);
        if (next.state !== d.state || next.jobState !== d.jobState || next.error !== d.error) {
          Object.assign(d, next);
          changed = true;
        }
      }
      if (changed) {
        this.maybeFinish(state);
        this.deps.emit(snapshot(state.run));
      }
    }
  }

  close(): void {
    this.closed = true;
    for (const state of this.runs.values()) state.pins.clear();
    this.runs.clear();
  }

  private async prepare(state: RunState, secure: { pki: Pki; protector: KeyProtector; securePort: number }, pin: PinChoice, maxPinRetries: number): Promise<void> {
    const { run } = state;
    // Several phones at a time (keys on every core); each is announced as soon as it is ready.
    await forEachConcurrently(run.devices.length, BOOTSTRAP_CONCURRENCY, async (i) => {
      const d = run.devices[i]!;
      if (this.closed) return;
      try {
        const [p] = await prepareBootstraps(this.deps.store, secure.pki, secure.protector, [d.mac], { pin, securePort: secure.securePort, maxPinRetries });
        if (this.closed) return;
        d.jobId = p!.jobId;
        d.state = 'pending';
        d.jobState = 'queued';
        if (p!.pin) {
          d.hasPin = true;
          state.pins.set(d.mac, p!.pin);
        }
        // The phone may have taken its job while the next certificate was made.
        const job = this.deps.store.jobs.get(p!.jobId);
        if (job) Object.assign(d, deviceStateOf(job));
      } catch (e) {
        if (this.closed) return;
        d.state = 'failed';
        d.error = e instanceof Error ? e.message : String(e);
      }
      run.prepared++;
      run.pinsAvailable = state.pins.size > 0;
      this.maybeFinish(state);
      this.deps.emit(snapshot(run));
    });
  }

  private maybeFinish(state: RunState): void {
    const { run } = state;
    if (run.finished || run.prepared < run.total) return;
    if (!run.devices.every((d) => d.state === 'secure' || d.state === 'failed')) return;
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

function deviceStateOf(job: Job): Pick<BootstrapDevice, 'state' | 'jobState' | 'error'> {
  switch (job.state) {
    case 'done':
      return { state: 'secure', jobState: job.state, error: null };
    case 'failed':
    case 'cancelled':
      return { state: 'failed', jobState: job.state, error: job.error ?? (job.state === 'cancelled' ? 'cancelled' : 'failed') };
    default:
      // Waiting: the busy note, or what happened to contact-me (failed N of M times, with why).
      return { state: 'pending', jobState: job.state, error: job.state === 'waiting-busy' || job.state === 'queued' ? job.error : null };
  }
}

function snapshot(run: BootstrapRun): BootstrapRun {
  return { ...run, devices: run.devices.map((d) => ({ ...d })) };
}
