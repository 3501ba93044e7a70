/**
 * Secure Mode bootstraps (manual p.62–68): the one rule for which phones may be bootstrapped, the
 * CLI's bootstrap (prepared at once, PINs returned for the sheet), the UI's runs (prepared in the
 * background, bootstrap-runs.ts), undo, forget, and the status of every phone.
 *
 * A phone gets one bootstrap at a time: a second one is refused while the first job is queued,
 * sent or waiting, from any front end; once it is done, failed or cancelled a new one may start.
 */
import * as v from 'valibot';
import { ApiArgumentError, ApiError, type BootstrapOptions, type BootstrapRun, type FileResult } from '../../shared/api';
import { API_ARGS } from '../../shared/api-args';
import { bootstrapJobRole, UNDO_SOURCE, type BootstrapJobRole, type Device } from '../../shared/model';
import { BootstrapOptionsSchema, Mac, MacList } from '../../shared/schemas';
import { BootstrapIncompleteError, openJobPin, prepareBootstraps, type PinChoice, type PreparedBootstrap } from '../app/bootstrap';
import { BootstrapUnderWayError, jobRolloutId, PENDING_STATES, serviceSeemsRunning, type Store } from '../store';
import type { BootstrapRuns } from './bootstrap-runs';
import type { CommandContext } from './context';
import { bootstrapUnderWay, defineCommand } from './define';
import { NO_DEVICE_HINT } from './jobs';
import { refuseWhileRelaying } from './relay-guard';

export const SEVERAL_WITH_ONE_PIN = 'one PIN for several phones would let any of them take any credential: choose generated PINs (auto) for several phones';

/**
 * The rule, once: each phone known, in the right mode, and no bootstrap of it under way. With
 * `all` (the phones are bootstrapCandidates() of a moment ago) one that another front end has
 * started since is not an error: prepareBootstraps leaves it to that front end and says so.
 */
export function checkBootstrapTargets(store: Store, macs: readonly string[], options: { pin: string; renew?: boolean; all?: boolean }): Device[] {
  const given = options.pin !== 'none' && options.pin !== 'auto';
  if (given && macs.length > 1) throw new ApiArgumentError(SEVERAL_WITH_ONE_PIN);
  if (options.renew && options.pin !== 'none') throw new ApiArgumentError('a renewal travels over the secure channel and needs no PIN');
  return macs.map((mac) => {
    const d = store.device(mac);
    if (!d) throw new ApiError('not-found', `no device ${mac}: a phone must contact the service once before it can be bootstrapped`, [{ key: 'noDevice', params: { mac } }]);
    if (d.mode === 'secure' && !options.renew) throw new ApiError('conflict', `${mac} is already in Secure Mode (to give it a new certificate: localdls bootstrap --mac ${mac} --renew)`, [{ key: 'alreadySecure', params: { mac } }]);
    if (d.mode !== 'secure' && options.renew) throw new ApiError('conflict', `${mac} is not in Secure Mode: bootstrap it first`, [{ key: 'notSecure', params: { mac } }]);
    const pending = options.all ? undefined : store.bootstrapUnderWay(mac);
    if (pending) throw bootstrapUnderWay(new BootstrapUnderWayError(pending));
    return d;
  });
}

export function pinChoiceOf(pin: string, pinDigits?: number): PinChoice {
  return pin === 'none' ? { kind: 'none' } : pin === 'auto' ? { kind: 'auto', ...(pinDigits ? { digits: pinDigits } : {}) } : { kind: 'given', pin };
}

/** The phones `bootstrap --all` takes: in Default Mode, with no bootstrap under way. */
export const bootstrapCandidates = defineCommand('bootstrapCandidates', [], (ctx): string[] =>
  ctx.store.devices().filter((d) => d.mode === 'default' && !ctx.store.bootstrapUnderWay(d.mac)).map((d) => d.mac),
);

const CliBootstrapOptions = v.pipe(
  v.looseObject({ renew: v.optional(v.boolean('must be true or false')), all: v.optional(v.boolean('must be true or false')) }),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const { renew, all, ...rest } = dataset.value as Record<string, unknown>;
    const r = v.safeParse(BootstrapOptionsSchema, rest);
    if (!r.success) {
      for (const issue of r.issues) addIssue({ message: issue.message, path: issue.path as never });
      return NEVER;
    }
    return { ...r.output, renew: renew === true, all: all === true };
  }),
);

export interface CliBootstrapResult {
  /** The phones whose jobs were queued, in the order asked, with their PINs for the sheet. */
  prepared: PreparedBootstrap[];
  /** The phones that were not (another front end started them meanwhile, or the run stopped), and why. */
  notQueued: { mac: string; reason: string }[];
  securePort: number;
  /** The jobs as a rollout (`localdls rollout show`): all of them share this id. */
  rolloutId: string;
}

/**
 * Certificates and jobs for these phones, prepared at once in this process (the CLI's bootstrap,
 * and "retry failed" of a bootstrap rollout where no service keeps runs). Every job is created
 * with the same time, which makes them one rollout.
 */
export async function bootstrapNow(ctx: CommandContext, macs: readonly string[], options: BootstrapOptions & { renew?: boolean; all?: boolean }): Promise<CliBootstrapResult> {
  checkBootstrapTargets(ctx.store, macs, options);
  const secure = await ctx.secure();
  const rolloutAt = ctx.store.rollouts.claimTime(Date.now(), 'Bootstrap');
  const rolloutId = jobRolloutId(rolloutAt, 'Bootstrap');
  try {
    const prepared = await prepareBootstraps(ctx.store, secure.pki, secure.protector, macs, {
      pin: pinChoiceOf(options.pin, options.pinDigits),
      securePort: secure.securePort,
      maxPinRetries: options.maxPinRetries,
      rolloutAt,
      ...(options.renew ? { renew: true } : {}),
      ...(ctx.progress ? { onProgress: ctx.progress } : {}),
    });
    return { prepared, notQueued: [], securePort: secure.securePort, rolloutId };
  } catch (e) {
    if (!(e instanceof BootstrapIncompleteError)) throw e;
    return { prepared: e.prepared, notQueued: e.notQueued, securePort: secure.securePort, rolloutId };
  }
}

/**
 * Certificates and bootstrap jobs for these phones now (the CLI). Returns the PINs for the sheet,
 * also when some phones could not be queued: the ones that were must still get their PINs.
 */
export const bootstrap = defineCommand('bootstrap', [['macs', MacList], ['options', CliBootstrapOptions]], (ctx, macs, options): Promise<CliBootstrapResult> => {
  refuseWhileRelaying(ctx, 'bootstrap phones');
  return bootstrapNow(ctx, macs, options);
});

/**
 * A new copy of the PIN sheet: every PIN bootstrap still under way (queued, waiting or sent), its
 * PIN opened from the job. For a sheet lost, not written, or left in a UI run that ended with the
 * service. Needs the key passphrase, like making the bootstraps did.
 */
export const pendingPinSheet = defineCommand('pendingPinSheet', [], async (ctx): Promise<{ rows: PreparedBootstrap[]; unreadable: string[] }> => {
  const rows: PreparedBootstrap[] = [];
  const unreadable: string[] = [];
  const jobs = ctx.store.jobs.list({ states: PENDING_STATES, limit: 100_000 }).filter((j) => j.kind === 'Bootstrap' && j.source === 'bootstrap:pin');
  if (jobs.length === 0) return { rows, unreadable };
  const { protector } = await ctx.secure();
  for (const job of jobs) {
    const sealed = ctx.store.jobs.secret(job.id);
    const pin = sealed ? openJobPin(protector, sealed) : undefined;
    if (pin === undefined) unreadable.push(job.mac);
    else rows.push({ mac: job.mac, e164: ctx.store.device(job.mac)?.e164 ?? null, jobId: job.id, pin });
  }
  return { rows, unreadable };
});

/** Whether a `serve` (or the desktop app) seems to run on this data folder, to deliver what was queued. */
export const serviceRunning = defineCommand('serviceRunning', [], (ctx): boolean => serviceSeemsRunning(ctx.dataDir));

/** Phones in Default Mode that `bootstrap --all` leaves out because a bootstrap of theirs is under way. */
export const bootstrapsUnderWay = defineCommand('bootstrapsUnderWay', [], (ctx): number =>
  ctx.store.devices().filter((d) => d.mode === 'default' && ctx.store.bootstrapUnderWay(d.mac)).length,
);

function runs(ctx: CommandContext): BootstrapRuns {
  if (!ctx.bootstrapRuns) throw new ApiError('unavailable', 'bootstrap runs are kept by the running service: use `localdls bootstrap` here');
  return ctx.bootstrapRuns;
}

/** The UI's bootstrap: checked at once, prepared in the background, followed as a run. */
export const startBootstrap = defineCommand('startBootstrap', API_ARGS.startBootstrap, (ctx, macs, options): BootstrapRun => {
  refuseWhileRelaying(ctx, 'bootstrap phones');
  return runs(ctx).start(macs, options);
});

export const getBootstrapRun = defineCommand('getBootstrapRun', API_ARGS.getBootstrapRun, (ctx, id): BootstrapRun => runs(ctx).get(id));

export const bootstrapPinSheet = defineCommand('bootstrapPinSheet', API_ARGS.bootstrapPinSheet, (ctx, id, format): FileResult => runs(ctx).pinSheet(id, format));

/** Stops a run: nothing more is prepared, its unsent jobs are cancelled; already-sent phones are still followed. */
export const cancelBootstrapRun = defineCommand('cancelBootstrapRun', API_ARGS.cancelBootstrapRun, (ctx, id): BootstrapRun => runs(ctx).cancel(id, 'cancelled from the run view'));

function secureDevice(ctx: CommandContext, mac: string): Device {
  const device = ctx.store.device(mac);
  if (!device) throw new ApiError('not-found', `no device ${mac}: ${NO_DEVICE_HINT}`, [{ key: 'noDevice', params: { mac } }]);
  if (device.mode !== 'secure') throw new ApiError('conflict', `${mac} is not in Secure Mode`, [{ key: 'notSecure', params: { mac } }]);
  return device;
}

/** Back to Default Mode: a factory reset over the secure channel; the certificate is revoked when the reset is sent. */
export const undoBootstrap = defineCommand('undoBootstrap', [['mac', Mac]], (ctx, mac): number => {
  secureDevice(ctx, mac);
  // A factory reset returns the phone to its delivery state, Default Mode (wpi-protocol.md §5.7).
  // One transaction checks that no bootstrap or undo is under way and queues it.
  return ctx.store.queueBootstrap({ mac, kind: 'FactoryReset', items: [], source: UNDO_SOURCE }, Date.now()).id;
});

/** The phone was reset by hand: revoke its certificate and accept it on the Default-Mode port again. */
export const forgetBootstrap = defineCommand('forgetBootstrap', [['mac', Mac]], async (ctx, mac): Promise<string | null> => {
  secureDevice(ctx, mac);
  return ctx.store.forgetCertificate(mac, Date.now());
});

export interface BootstrapStatusRow {
  mac: string;
  e164: string | null;
  mode: Device['mode'];
  bootstrap: Device['bootstrap'];
  job: number | null;
  /** What that job does: a bootstrap, a renewal of the certificate, or the undo (factory reset). */
  role: BootstrapJobRole | null;
  state: string | null;
  why: string | null;
  certSerial: string | null;
}

export const bootstrapStatus = defineCommand('bootstrapStatus', [], (ctx): BootstrapStatusRow[] =>
  ctx.store.devices().map((d) => {
    const last = ctx.store.jobs.list({ mac: d.mac }).filter((j) => bootstrapJobRole(j) !== null).at(-1);
    return { mac: d.mac, e164: d.e164, mode: d.mode, bootstrap: d.bootstrap, job: last?.id ?? null, role: last ? bootstrapJobRole(last) : null, state: last?.state ?? null, why: last?.error ?? null, certSerial: d.certSerial };
  }),
);
