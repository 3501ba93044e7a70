/**
 * The LocalDlsApi (src/shared/api.ts) over a running Service, for the Electron IPC bridge and the
 * web UI's WebSocket bridge. Every call is one command of src/main/commands (which validates its
 * arguments and holds the rules); this object adds what only a long-lived front end needs: the
 * events (exchange batches, device and job changes, bootstrap runs) and the service status.
 */
import { networkInterfaces as osNetworkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import packageJson from '../../../package.json';
import { CATALOGUE } from '../../shared/catalogue';
import { ApiArgumentError, ApiError, isApiMethod, type AddJobsResult, type BootstrapOptions, type BootstrapRun, type CatalogueEntry, type ContactResult, type DeviceView, type FileResult, type JobFilter, type JobList, type JobSpec, type ProfileApplyResult, type ProfileInput, type SecureStatus, type ApiEvent, type ApiEventPayloads, type ApiMethod, type DeviceDetail, type ExchangeDetail, type ExchangeFilter, type ExchangeList, type ExchangePage, type ExportFormat, type ExportResult, type HostAddress, type ListenerStatus, type LocalDlsApi, type ServiceStatus, type TlsListener, type TlsProfileName, type Unsubscribe, type UpstreamSettingInput, type UpstreamSettingView } from '../../shared/api';
import { API_ARGS } from '../../shared/api-args';
import type { ExchangeSummary, Job, Profile } from '../../shared/model';
import * as commands from '../commands';
import { deviceView } from '../commands/devices';
import { KEY_PASSPHRASE_ENV, KEY_PASSPHRASE_FILE_ENV, protectorFromEnvironment } from '../pki';
import { DEFAULT_SECURE_PORT, type Service } from '../app/service';
import { SECURE_MODE_NOT_RELAYED } from '../app/relay-handler';
import type { Store } from '../store';
import { deviceCount } from '../store/exchange-filter';
import { jobsChangedSince, pendingJobCounts } from '../store/job-queries';

export { EXPORT_LIMIT, VIEW_TEXT_LIMIT } from '../commands';
export { maskJob } from '../commands';
export { maskXml } from '../commands/traffic-views';

export interface ApiOptions {
  dataDir: string;
  /** The listeners as the shell or CLI started them; update with setListeners(). */
  listeners?: ListenerStatus[];
  /** New exchanges are sent in batches: at most this often (ms)… */
  batchMs?: number;
  /** …or as soon as this many are waiting. */
  batchMax?: number;
  /** How often device records are compared for changes no exchange announces (expired interactions). */
  devicePollMs?: number;
  /** How often the jobs table is read for changes (jobs added by the CLI, moved by phones). */
  jobPollMs?: number;
  networkInterfaces?: () => NodeJS.Dict<NetworkInterfaceInfo[]>;
  /** Why Secure Mode is off, when the shell knows better than "no key passphrase". */
  secureOffReason?: string;
}

/** What the API needs of the Service: the store and its exchanges; contact-me and Secure Mode when present. */
export type ApiService = Pick<Service, 'store' | 'onExchange'> & Partial<Pick<Service, 'contacts' | 'pki' | 'keyProtector' | 'setTlsProfile' | 'relayStatus'>>;

/** Job changes are read back this far, so a change committed a little late by another process is not missed. */
const JOB_LOOKBACK_MS = 5000;


type Listeners = { [E in ApiEvent]: Set<(payload: ApiEventPayloads[E]) => void> };

export class LocalDlsApiHost implements LocalDlsApi {
  private readonly store: Store;
  private listeners: ListenerStatus[];
  private readonly subscribers: Listeners = { exchanges: new Set(), devicesChanged: new Set(), status: new Set(), jobsChanged: new Set(), bootstrap: new Set() };
  private queue: ExchangeSummary[] = [];
  private batchTimer: NodeJS.Timeout | null = null;
  private statusTimer: NodeJS.Timeout | null = null;
  private readonly devicePoll: NodeJS.Timeout;
  /** Last known state of each device, to notice changes no exchange reports. */
  private deviceKeys: Map<string, string> | null = null;
  private readonly offExchange: () => void;
  private closed = false;
  private readonly jobPoll: NodeJS.Timeout;
  /** When the jobs table was last read, and the version of each job seen since (id → key). */
  private jobsReadAt = Date.now();
  private readonly jobKeys = new Map<number, { key: string; updated: number }>();
  private jobPollSoon: NodeJS.Immediate | null = null;
  private readonly runs: commands.BootstrapRuns;
  /** What every command of this front end runs against. */
  private readonly ctx: commands.CommandContext;

  constructor(
    private readonly service: ApiService,
    private readonly options: ApiOptions,
  ) {
    this.store = service.store;
    this.listeners = options.listeners ?? [];
    this.offExchange = service.onExchange((x) => this.enqueue(x));
    this.devicePoll = setInterval(() => this.pollDevices(), options.devicePollMs ?? 5000);
    this.devicePoll.unref();
    this.jobPoll = setInterval(() => this.pollJobsIfWatched(), options.jobPollMs ?? 500);
    this.jobPoll.unref();
    this.runs = new commands.BootstrapRuns({
      store: this.store,
      secure: () => {
        const pki = this.service.pki;
        const protector = this.service.keyProtector;
        return pki && protector ? { pki, protector, securePort: this.securePort() ?? DEFAULT_SECURE_PORT } : null;
      },
      offReason: () => this.secureOffReason(),
      emit: (run) => this.emit('bootstrap', run),
    });
    const setTls = service.setTlsProfile?.bind(service);
    this.ctx = {
      store: this.store,
      dataDir: options.dataDir,
      source: 'ui',
      secure: async () => {
        const { pki, keyProtector: protector } = this.service;
        if (!pki || !protector) throw new ApiError('unavailable', `Secure Mode is off: ${this.secureOffReason()}`);
        return { pki, protector, securePort: this.securePort() ?? DEFAULT_SECURE_PORT };
      },
      ...(service.keyProtector ? { protectorKind: service.keyProtector.kind } : {}),
      ...(service.contacts ? { contacts: service.contacts } : {}),
      ...(setTls
        ? {
            setTlsProfile: async (which: TlsListener, chosen: TlsProfileName) => {
              await setTls(which, chosen);
              this.listeners = this.listeners.map((l) => (l.kind === which ? { ...l, tlsProfile: chosen } : l));
              this.emit('status', this.status());
            },
          }
        : {}),
      changed: () => this.pollJobsSoon(),
      bootstrapRuns: this.runs,
    };
  }

  /** Dispatches a transport's call by name; the command validates the arguments themselves. */
  call(method: string, args: unknown): Promise<unknown> {
    if (!isApiMethod(method)) return Promise.reject(new ApiArgumentError(`unknown method "${String(method).slice(0, 40)}"`));
    if (!Array.isArray(args)) return Promise.reject(new ApiArgumentError(`${method}: arguments must be a list`));
    const n = API_ARGS[method].length;
    if (args.length !== n) return Promise.reject(new ApiArgumentError(`${method}: this call ${n === 0 ? 'takes no arguments' : `takes ${n} argument${n === 1 ? '' : 's'}, not ${args.length}`}`));
    const fn = this[method as ApiMethod] as (...a: unknown[]) => Promise<unknown>;
    return fn.apply(this, args);
  }

  setListeners(listeners: ListenerStatus[]): void {
    this.listeners = listeners.map((l) => ({ ...l }));
    this.emit('status', this.status());
  }

  close(): void {
    this.closed = true;
    this.offExchange();
    clearInterval(this.devicePoll);
    clearInterval(this.jobPoll);
    if (this.jobPollSoon) clearImmediate(this.jobPollSoon);
    this.runs.close();
    if (this.batchTimer) clearTimeout(this.batchTimer);
    if (this.statusTimer) clearTimeout(this.statusTimer);
    for (const set of Object.values(this.subscribers)) set.clear();
  }

  // --- commands: each one of src/main/commands ------------------------------------------------

  /** Stored for the next start; the status shows it at once. */
  async setUpstream(setting: UpstreamSettingInput): Promise<UpstreamSettingView | null> {
    const stored = await commands.setUpstream(this.ctx, setting);
    this.emit('status', this.status());
    return stored;
  }

  async getStatus(): Promise<ServiceStatus> {
    return this.status();
  }

  listExchanges(filter: ExchangeFilter, page: ExchangePage): Promise<ExchangeList> {
    return commands.listExchanges(this.ctx, filter, page);
  }

  getExchange(id: number): Promise<ExchangeDetail> {
    return commands.getExchange(this.ctx, id);
  }

  revealExchangeItem(id: number, side: 'request' | 'response', position: number): Promise<string> {
    return commands.revealExchangeItem(this.ctx, id, side, position);
  }

  exportExchanges(ids: number[], format: ExportFormat): Promise<ExportResult> {
    return commands.exportExchanges(this.ctx, ids, format);
  }

  clearView(): Promise<{ throughId: number }> {
    return commands.clearView(this.ctx);
  }

  listDevices(): Promise<DeviceView[]> {
    return commands.listDevices(this.ctx);
  }

  getDevice(mac: string): Promise<DeviceDetail> {
    return commands.getDevice(this.ctx, mac);
  }

  revealDeviceItem(mac: string, name: string, index: number | null): Promise<string> {
    return commands.revealDeviceItem(this.ctx, mac, name, index);
  }

  listJobs(filter: JobFilter): Promise<JobList> {
    return commands.listJobs(this.ctx, filter);
  }

  async addJob(macs: string[], spec: JobSpec): Promise<AddJobsResult> {
    this.refuseWhileRelaying('queue jobs');
    return commands.addJob(this.ctx, macs, spec);
  }

  cancelJob(id: number): Promise<Job> {
    return commands.cancelJob(this.ctx, id);
  }

  async contactNow(macs: string[]): Promise<ContactResult[]> {
    this.refuseWhileRelaying('send contact-me');
    return commands.contactNow(this.ctx, macs);
  }

  listProfiles(): Promise<Profile[]> {
    return commands.listProfiles(this.ctx);
  }

  setProfile(profile: ProfileInput): Promise<Profile> {
    return commands.setProfile(this.ctx, profile);
  }

  async applyProfile(name: string, macs: string[]): Promise<ProfileApplyResult[]> {
    this.refuseWhileRelaying('apply profiles');
    return commands.applyProfile(this.ctx, name, macs);
  }

  async itemCatalogue(): Promise<CatalogueEntry[]> {
    return [...CATALOGUE];
  }

  getSecureStatus(): Promise<SecureStatus> {
    return commands.getSecureStatus(this.ctx);
  }

  setTlsProfile(listener: TlsListener, profile: TlsProfileName): Promise<void> {
    return commands.setTlsProfile(this.ctx, listener, profile);
  }

  async startBootstrap(macs: string[], options: BootstrapOptions): Promise<BootstrapRun> {
    this.refuseWhileRelaying('bootstrap phones');
    return commands.startBootstrap(this.ctx, macs, options);
  }

  getBootstrapRun(runId: string): Promise<BootstrapRun> {
    return commands.getBootstrapRun(this.ctx, runId);
  }

  bootstrapPinSheet(runId: string, format: 'csv' | 'html'): Promise<FileResult> {
    return commands.bootstrapPinSheet(this.ctx, runId, format);
  }

  // --- events ----------------------------------------------------------------------------------

  onExchanges(listener: (batch: ExchangeSummary[]) => void): Unsubscribe {
    return this.subscribe('exchanges', listener);
  }

  onDevicesChanged(listener: (devices: DeviceView[]) => void): Unsubscribe {
    return this.subscribe('devicesChanged', listener);
  }

  onStatus(listener: (status: ServiceStatus) => void): Unsubscribe {
    return this.subscribe('status', listener);
  }

  onJobsChanged(listener: (jobs: Job[]) => void): Unsubscribe {
    return this.subscribe('jobsChanged', listener);
  }

  onBootstrap(listener: (run: BootstrapRun) => void): Unsubscribe {
    return this.subscribe('bootstrap', listener);
  }

  private subscribe<E extends ApiEvent>(event: E, listener: (payload: ApiEventPayloads[E]) => void): Unsubscribe {
    if (typeof listener !== 'function') throw new ApiError('bad-argument', `on${event}: listener must be a function`);
    const set = this.subscribers[event] as Set<(payload: ApiEventPayloads[E]) => void>;
    set.add(listener);
    return () => set.delete(listener);
  }

  private emit<E extends ApiEvent>(event: E, payload: ApiEventPayloads[E]): void {
    for (const listener of this.subscribers[event] as Set<(payload: ApiEventPayloads[E]) => void>) {
      try {
        listener(payload);
      } catch {
        // One broken subscriber (a closed window, a dead socket) must not starve the others.
      }
    }
  }

  private enqueue(x: ExchangeSummary): void {
    if (this.closed) return;
    this.queue.push(x);
    if (this.queue.length >= (this.options.batchMax ?? 200)) this.flush();
    else this.batchTimer ??= setTimeout(() => this.flush(), this.options.batchMs ?? 100);
  }

  /** Sends the waiting exchanges as one batch, then the devices they touched. */
  flush(): void {
    if (this.batchTimer) clearTimeout(this.batchTimer);
    this.batchTimer = null;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0 || this.closed) return;
    this.emit('exchanges', batch);
    // The exchanges' jobs changed in the same commit: announce them with the devices.
    const jobMacs = this.pollJobs(false);
    const macs = new Set([...batch.flatMap((x) => (x.mac ? [x.mac] : [])), ...jobMacs]);
    this.emitDevices([...macs]);
    this.statusTimer ??= setTimeout(() => {
      this.statusTimer = null;
      if (!this.closed && this.subscribers.status.size > 0) this.emit('status', this.status());
    }, 1000);
  }

  /** Announces these devices as they are now (with their waiting jobs). */
  private emitDevices(macs: readonly string[]): void {
    if (macs.length === 0 || this.closed) return;
    const counts = pendingJobCounts(this.store.db);
    const devices = macs.flatMap((m) => {
      const d = this.store.device(m);
      return d ? [deviceView(d, counts.get(m))] : [];
    });
    if (this.deviceKeys) for (const d of devices) this.deviceKeys.set(d.mac, deviceKey(d));
    if (devices.length > 0) this.emit('devicesChanged', devices);
  }

  private pollDevices(): void {
    if (this.closed || this.subscribers.devicesChanged.size === 0) return;
    const counts = pendingJobCounts(this.store.db);
    const devices = this.store.devices().map((d) => deviceView(d, counts.get(d.mac)));
    const known = this.deviceKeys;
    this.deviceKeys = new Map(devices.map((d) => [d.mac, deviceKey(d)]));
    if (!known) return;
    const changed = devices.filter((d) => known.get(d.mac) !== this.deviceKeys!.get(d.mac));
    if (changed.length > 0) this.emit('devicesChanged', changed);
  }

  private pollJobsIfWatched(): void {
    const s = this.subscribers;
    if (s.jobsChanged.size + s.devicesChanged.size + s.bootstrap.size > 0 || this.runs.active > 0) this.pollJobs(true);
  }

  /** Reads jobs again right after an action, so its effect is shown at once. */
  private pollJobsSoon(): void {
    this.jobPollSoon ??= setImmediate(() => {
      this.jobPollSoon = null;
      this.pollJobs(true);
    });
  }

  /**
   * Reads the jobs changed lately and announces those not announced in this version yet (jobs
   * are changed by phones' exchanges, by the CLI in another process, by the user). Returns the
   * devices they belong to; with `announceDevices` also sends those devices.
   */
  private pollJobs(announceDevices: boolean): string[] {
    if (this.closed) return [];
    const now = Date.now();
    const since = Math.min(this.jobsReadAt, now) - JOB_LOOKBACK_MS;
    this.jobsReadAt = now;
    const changed: Job[] = [];
    for (const job of jobsChangedSince(this.store.db, since)) {
      const key = jobKey(job);
      if (this.jobKeys.get(job.id)?.key === key) continue;
      this.jobKeys.set(job.id, { key, updated: job.updated });
      changed.push(job);
    }
    for (const [id, seen] of this.jobKeys) if (seen.updated < since) this.jobKeys.delete(id);
    if (changed.length === 0) return [];
    this.runs.onJobs(changed);
    this.emit('jobsChanged', changed.map(commands.maskJob));
    const macs = [...new Set(changed.map((j) => j.mac))];
    if (announceDevices) this.emitDevices(macs);
    return macs;
  }

  // --- helpers ---------------------------------------------------------------------------------

  private status(): ServiceStatus {
    return {
      version: packageJson.version,
      dataDir: this.options.dataDir,
      listeners: this.listeners.map((l) => ({ ...l })),
      relay: this.service.relayStatus ?? null,
      upstreamSetting: commands.upstreamSetting(this.store),
      addresses: hostAddresses(this.options.networkInterfaces ?? osNetworkInterfaces),
      deviceCount: deviceCount(this.store.db),
      exchangeCount: this.store.exchangeCount(),
      now: Date.now(),
    };
  }

  /** The bound Secure-Mode port: as the shell reported it, else as the service recorded it. */
  private securePort(): number | null {
    const listener = this.listeners.find((l) => l.kind === 'secure');
    if (listener) return listener.port;
    const stored = Number(this.store.setting('secure_port'));
    return Number.isInteger(stored) && stored > 0 ? stored : null;
  }

  /** Relay mode acts on nothing (docs/relay.md): the phones' DLS is the upstream. */
  private refuseWhileRelaying(what: string): void {
    const relay = this.service.relayStatus;
    if (relay) throw new ApiError('unavailable', `LocalDLS relays to ${relay.upstream} and does not ${what}: do it on that DLS, or run LocalDLS without an upstream`);
  }

  private secureOffReason(): string {
    if (this.service.relayStatus) return `${SECURE_MODE_NOT_RELAYED} (LocalDLS relays to ${this.service.relayStatus.upstream}).`;
    if (this.options.secureOffReason) return this.options.secureOffReason;
    if (this.service.keyProtector && !this.service.pki) return 'the service has not opened its CA: it is still starting, or starting Secure Mode failed (see its log)';
    const restart = ' Then start the service again (`localdls serve` reads it at start-up).';
    if (process.env[KEY_PASSPHRASE_ENV] || process.env[KEY_PASSPHRASE_FILE_ENV]) {
      return `a key passphrase is set, but Secure Mode did not start with it (a wrong passphrase, or an unreadable passphrase file: see the warning in the service's log).${restart}`;
    }
    try {
      // Only to word the reason: with no passphrase in the environment this throws at once.
      protectorFromEnvironment({ env: {}, dataDir: this.options.dataDir });
    } catch (e) {
      return `${(e as Error).message}${restart}`;
    }
    return `no key passphrase.${restart}`;
  }
}

function deviceKey(d: DeviceView): string {
  return [d.state, d.mode, d.bootstrap, d.lastContact, d.tlsProtocol, d.softwareVersion, d.e164, d.profile, d.jobs.queued, d.jobs.sent, d.jobs.waitingBusy].join('|');
}

function jobKey(j: Job): string {
  return [j.state, j.updated, j.attempts, j.partsDone, j.results.length, j.error].join('|');
}

/** This machine's addresses a phone could be pointed at: not loopback, IPv4 first. */
export function hostAddresses(read: () => NodeJS.Dict<NetworkInterfaceInfo[]>): HostAddress[] {
  const out: HostAddress[] = [];
  for (const [name, infos] of Object.entries(read())) {
    for (const info of infos ?? []) {
      if (info.internal) continue;
      const family = info.family === 'IPv6' ? 'IPv6' : 'IPv4';
      out.push({ interface: name, family, address: info.address, linkLocal: family === 'IPv6' && /^fe[89ab]/i.test(info.address) });
    }
  }
  return out.sort((a, b) => (a.family === b.family ? Number(a.linkLocal) - Number(b.linkLocal) : a.family === 'IPv4' ? -1 : 1));
}

