/**
 * The LocalDlsApi (src/shared/api.ts) over a running Service, for the Electron IPC bridge and the
 * web UI's WebSocket bridge. Every call is one command of src/main/commands (which validates its
 * arguments and holds the rules); this object adds what only a long-lived front end needs: the
 * events (exchange batches, device and job changes, bootstrap runs) and the service status.
 */
import { networkInterfaces as osNetworkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import packageJson from '../../../package.json';
import { CATALOGUE } from '../../shared/catalogue';
import { ApiArgumentError, ApiError, isApiMethod, type AddJobsResult, type BootstrapOptions, type BootstrapRun, type CatalogueEntry, type ContactResult, type DeviceView, type FileResult, type JobFilter, type JobList, type JobSpec, type ProfileApplyResult, type ProfileInput, type SecureStatus, type ApiEvent, type ApiEventPayloads, type ApiMethod, type DeviceDetail, type ExchangeDetail, type ExchangeFilter, type ExchangeList, type ExchangePage, type ExportFormat, type ExportResult, type HostAddress, type ListenerStatus, type LocalDlsApi, type ServiceStatus, type TlsKeyLogStatus, type TlsListener, type TlsProfileName, type Unsubscribe, type UpstreamSettingInput, type UpstreamSettingView, type DeviceTimeline, type InteractionLadder, type RetryResult, type Rollout, type RolloutSummary } from '../../shared/api';
import { API_ARGS } from '../../shared/api-args';
import type { ExchangeSummary, ItemValue, Job, Profile } from '../../shared/model';
import * as commands from '../commands';
import { deviceView } from '../commands/devices';
import { KEY_PASSPHRASE_ENV, KEY_PASSPHRASE_FILE_ENV, protectorFromEnvironment } from '../pki';
import { DEFAULT_SECURE_PORT, type Service } from '../app/service';
import { SECURE_MODE_NOT_RELAYED } from '../../shared/relay-failures';
import type { Store, StoreChange } from '../store';

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
  /** How often the store looks for commits of other processes (the CLI), ms; default EXTERNAL_CHECK_MS. */
  externalCheckMs?: number;
  networkInterfaces?: () => NodeJS.Dict<NetworkInterfaceInfo[]>;
  /** Why Secure Mode is off, when the shell knows better than "no key passphrase". */
  secureOffReason?: string;
}

/** What the API needs of the Service: the store and its exchanges; contact-me and Secure Mode when present. */
export type ApiService = Pick<Service, 'store' | 'onExchange'> & Partial<Pick<Service, 'contacts' | 'pki' | 'keyProtector' | 'setTlsProfile' | 'relayStatus' | 'setTlsKeyLog' | 'tlsKeyLogPath'>>;

/**
 * After another process commits, jobs changed this far back are read again: its `updated` stamp
 * is taken before its commit lands.
 */
const JOB_LOOKBACK_MS = 5000;


type Listeners = { [E in ApiEvent]: Set<(payload: ApiEventPayloads[E]) => void> };

export class LocalDlsApiHost implements LocalDlsApi {
  private readonly store: Store;
  private listeners: ListenerStatus[];
  private readonly subscribers: Listeners = { exchanges: new Set(), devicesChanged: new Set(), status: new Set(), jobsChanged: new Set(), bootstrap: new Set() };
  private queue: ExchangeSummary[] = [];
  private batchTimer: NodeJS.Timeout | null = null;
  private statusTimer: NodeJS.Timeout | null = null;
  /** Last announced state of each device, so a re-read after another process's commit sends only what changed. */
  private readonly deviceKeys = new Map<string, string>();
  private readonly offExchange: () => void;
  private readonly offStore: () => void;
  private closed = false;
  /** The key log a UI switched on (else the one in use came with the service's start). */
  private uiKeyLog: string | null = null;
  /** What the store said changed since the last batch. */
  private changed = { jobs: new Set<number>(), macs: new Set<string>(), external: false };
  /** When jobs were last re-read for another process's commit, and the version of each job announced since (id → key). */
  private externalReadAt = Date.now();
  private readonly jobKeys = new Map<number, { key: string; updated: number }>();
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
    // Live views follow the store's own change notices, not a timer over its tables.
    this.offStore = this.store.onChange((c) => this.onStoreChange(c), options.externalCheckMs);
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
      relaying: () => this.service.relayStatus?.upstream ?? null,
      ...(setTls
        ? {
            setTlsProfile: async (which: TlsListener, chosen: TlsProfileName) => {
              await setTls(which, chosen);
              this.listeners = this.listeners.map((l) => (l.kind === which ? { ...l, tlsProfile: chosen } : l));
              this.emit('status', this.status());
            },
          }
        : {}),
      ...(service.setTlsKeyLog
        ? {
            setTlsKeyLog: (path: string | null) => {
              service.setTlsKeyLog!(path);
              this.uiKeyLog = service.tlsKeyLogPath ?? null;
              // Every open UI (and one reloaded later) shows the key log the service really writes.
              this.emit('status', this.status());
              return this.uiKeyLog;
            },
          }
        : {}),
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

  /** Settles once the bootstrap runs' phones being prepared are done (BootstrapRuns.close): stop the service after it. */
  close(): Promise<void> {
    this.closed = true;
    this.offExchange();
    this.offStore();
    const runs = this.runs.close();
    if (this.batchTimer) clearTimeout(this.batchTimer);
    if (this.statusTimer) clearTimeout(this.statusTimer);
    for (const set of Object.values(this.subscribers)) set.clear();
    return runs;
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
    return commands.addJob(this.ctx, macs, spec);
  }

  cancelJob(id: number): Promise<Job> {
    return commands.cancelJob(this.ctx, id);
  }

  async contactNow(macs: string[]): Promise<ContactResult[]> {
    return commands.contactNow(this.ctx, macs);
  }

  listProfiles(): Promise<Profile[]> {
    return commands.listProfiles(this.ctx);
  }

  setProfile(profile: ProfileInput): Promise<Profile> {
    return commands.setProfile(this.ctx, profile);
  }

  async applyProfile(name: string, macs: string[]): Promise<ProfileApplyResult[]> {
    return commands.applyProfile(this.ctx, name, macs);
  }

  getOverrides(mac: string): Promise<ItemValue[]> {
    return commands.getOverrides(this.ctx, mac);
  }

  setOverrides(mac: string, items: ItemValue[]): Promise<number> {
    return commands.setOverrides(this.ctx, mac, items);
  }

  clearOverrides(mac: string, items: { name: string; index?: number }[] | null): Promise<number> {
    return commands.clearOverrides(this.ctx, mac, items);
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
    return commands.startBootstrap(this.ctx, macs, options);
  }

  getBootstrapRun(runId: string): Promise<BootstrapRun> {
    return commands.getBootstrapRun(this.ctx, runId);
  }

  bootstrapPinSheet(runId: string, format: 'csv' | 'html'): Promise<FileResult> {
    return commands.bootstrapPinSheet(this.ctx, runId, format);
  }

  cancelBootstrapRun(runId: string): Promise<BootstrapRun> {
    return commands.cancelBootstrapRun(this.ctx, runId);
  }

  exportTraffic(filter: ExchangeFilter, format: ExportFormat): Promise<ExportResult> {
    return commands.exportTraffic(this.ctx, filter, format);
  }

  getInteraction(id: number): Promise<InteractionLadder> {
    return commands.getInteraction(this.ctx, id);
  }

  getDeviceTimeline(mac: string): Promise<DeviceTimeline> {
    return commands.getDeviceTimeline(this.ctx, mac);
  }

  listRollouts(): Promise<RolloutSummary[]> {
    return commands.listRollouts(this.ctx);
  }

  getRollout(id: string): Promise<Rollout> {
    return commands.getRollout(this.ctx, id);
  }

  async retryFailed(id: string): Promise<RetryResult> {
    return commands.retryFailed(this.ctx, id);
  }

  setTlsKeyLog(path: string | null): Promise<{ path: string | null }> {
    return commands.setTlsKeyLog(this.ctx, path);
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
    else this.scheduleFlush();
  }

  private scheduleFlush(): void {
    this.batchTimer ??= setTimeout(() => this.flush(), this.options.batchMs ?? 100);
  }

  private onStoreChange(change: StoreChange): void {
    if (this.closed) return;
    for (const [id, mac] of change.jobs) {
      this.changed.jobs.add(id);
      this.changed.macs.add(mac);
    }
    for (const mac of change.devices) this.changed.macs.add(mac);
    if (change.external) this.changed.external = true;
    this.scheduleFlush();
  }

  /** Sends the waiting exchanges as one batch, then the jobs and devices the store says changed. */
  flush(): void {
    if (this.batchTimer) clearTimeout(this.batchTimer);
    this.batchTimer = null;
    if (this.closed) return;
    const batch = this.queue;
    this.queue = [];
    if (batch.length > 0) this.emit('exchanges', batch);
    this.announceChanges();
    if (batch.length === 0) return;
    this.statusTimer ??= setTimeout(() => {
      this.statusTimer = null;
      if (!this.closed && this.subscribers.status.size > 0) this.emit('status', this.status());
    }, 1000);
  }

  /**
   * Announces the jobs and devices the store reported changed. After another process's commit
   * (the CLI) it cannot name the rows: then the jobs changed lately and every device are read
   * again and only what differs from what was announced is sent.
   */
  private announceChanges(): void {
    const { jobs: ids, macs, external } = this.changed;
    this.changed = { jobs: new Set(), macs: new Set(), external: false };
    const jobs = this.store.jobsById(ids);
    if (external) {
      const now = Date.now();
      const since = Math.min(this.externalReadAt, now) - JOB_LOOKBACK_MS;
      this.externalReadAt = now;
      jobs.push(...this.store.jobsChangedSince(since).filter((j) => !ids.has(j.id)));
    }
    // What was announced is remembered only as long as a re-read could bring it back.
    const forgetBefore = Date.now() - 2 * JOB_LOOKBACK_MS;
    for (const [id, seen] of this.jobKeys) if (seen.updated < forgetBefore) this.jobKeys.delete(id);
    const changedJobs = jobs.filter((job) => {
      const key = jobKey(job);
      if (this.jobKeys.get(job.id)?.key === key) return false;
      this.jobKeys.set(job.id, { key, updated: job.updated });
      return true;
    });
    if (changedJobs.length > 0) {
      this.runs.onJobs(changedJobs);
      this.emit('jobsChanged', changedJobs.map(commands.maskJob));
    }
    for (const job of changedJobs) macs.add(job.mac);
    if (external) this.emitDevices(this.store.devices().map((d) => d.mac), true);
    else this.emitDevices([...macs], false);
  }

  /** Announces these devices as they are now (with their waiting jobs); with `onlyChanged`, those that differ from the last announcement. */
  private emitDevices(macs: readonly string[], onlyChanged: boolean): void {
    if (macs.length === 0 || this.closed) return;
    const counts = this.store.pendingJobCounts();
    // Overrides are not part of the view, but the device page lists them: a change made by another
    // process (`localdls profile override`) must announce the device too.
    const overrides = this.store.jobs.overrideDigests(onlyChanged ? null : macs);
    const devices = macs.flatMap((m) => {
      const d = this.store.device(m);
      if (!d) return [];
      const view = deviceView(d, counts.get(m));
      const key = `${deviceKey(view)}|${overrides.get(m) ?? ''}`;
      if (onlyChanged && this.deviceKeys.get(m) === key) return [];
      this.deviceKeys.set(m, key);
      return [view];
    });
    if (devices.length > 0) this.emit('devicesChanged', devices);
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
      deviceCount: this.store.deviceCount(),
      exchangeCount: this.store.exchangeCount(),
      now: Date.now(),
      ...(this.service.setTlsKeyLog ? { tlsKeyLog: this.keyLogStatus() } : {}),
    };
  }

  private keyLogStatus(): TlsKeyLogStatus | null {
    const path = this.service.tlsKeyLogPath ?? null;
    return path === null ? null : { path, startedBy: path === this.uiKeyLog ? 'ui' : 'start' };
  }

  /** The bound Secure-Mode port: as the shell reported it, else as the service recorded it. */
  private securePort(): number | null {
    const listener = this.listeners.find((l) => l.kind === 'secure');
    if (listener) return listener.port;
    const stored = Number(this.store.setting('secure_port'));
    return Number.isInteger(stored) && stored > 0 ? stored : null;
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
  return [d.state, d.mode, d.bootstrap, d.lastContact, d.tlsProtocol, d.softwareVersion, d.e164, d.profile, d.jobs.queued, d.jobs.sent, d.jobs.waitingBusy,
    // Contact-me: without these a change made by another process (the CLI's contact) was never announced.
    d.lastContactMe, d.lastContactMeOutcome, d.lastContactMeError, d.contactFailures, d.lastContactError].join('|');
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

