/**
 * The LocalDlsApi (src/shared/api.ts), implemented once over the Service. The Electron IPC
 * handlers and the web UI's WebSocket bridge both call this object; it validates every argument
 * itself, so no transport can skip the checks. Reads go through the store (and its
 * exchange-filter and job-queries modules). Writes are the user's actions: jobs (built by
 * job-builder.ts, as the CLI builds them), profiles, contact-me and bootstraps (bootstrap-runs.ts).
 */
import { networkInterfaces as osNetworkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { STATUS_CODES } from 'node:http';
import { XMLValidator } from 'fast-xml-parser';
import packageJson from '../../package.json';
import { CATALOGUE } from '../shared/catalogue';
import {
  ApiArgumentError,
  ApiError,
  isApiMethod,
  validateArgs,
  type AddJobsResult,
  type BootstrapOptions,
  type BootstrapRun,
  type CatalogueEntry,
  type ContactResult,
  type DeviceView,
  type FileResult,
  type JobFilter,
  type JobList,
  type JobSpec,
  type PendingJobCounts,
  type ProfileApplyResult,
  type ProfileInput,
  type SecureStatus,
  type ApiEvent,
  type ApiEventPayloads,
  type ApiMethod,
  type DeviceDetail,
  type DeviceItemView,
  type ExchangeDetail,
  type ExchangeFilter,
  type ExchangeList,
  type ExchangePage,
  type ExportFormat,
  type ExportResult,
  type HostAddress,
  type ItemView,
  type ListenerStatus,
  type LocalDlsApi,
  type MessageView,
  type ServiceStatus,
  type TlsListener,
  type TlsProfileName,
  type Unsubscribe,
} from '../shared/api';
import type { Device, Exchange, ExchangeSummary, Job, Profile } from '../shared/model';
import { isSecretItem, MASK, maskItemValue, maskSecretsInXml, maskUrlPasswords } from '../shared/secrets';
import { BootstrapRuns } from './bootstrap-runs';
import { API_WORDS, buildJob, JobSpecError } from './job-builder';
import { isLegacyProtocol } from './net/tls-profile';
import { KEY_PASSPHRASE_ENV, KEY_PASSPHRASE_FILE_ENV, protectorFromEnvironment } from './pki';
import { applyProfileTo } from './profile-apply';
import { DEFAULT_SECURE_PORT, type Service } from './service';
import type { Store } from './store';
import { countExchanges, deviceCount, listExchanges, newestExchangeId } from './store/exchange-filter';
import { jobsChangedSince, listJobsNewest, NO_PENDING_JOBS, pendingJobCounts } from './store/job-queries';
import { parseDLSMessage, parseWorkpointMessage, type Item } from './wpi';

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
export type ApiService = Pick<Service, 'store' | 'onExchange'> & Partial<Pick<Service, 'contacts' | 'pki' | 'keyProtector' | 'setTlsProfile'>>;

/** Job changes are read back this far, so a change committed a little late by another process is not missed. */
const JOB_LOOKBACK_MS = 5000;

/** Longest body text a view gets; exports carry everything. */
export const VIEW_TEXT_LIMIT = 512 * 1024;
/** Largest export produced in one call. */
export const EXPORT_LIMIT = 64 * 1024 * 1024;
const CHAIN_LIMIT = 500;
const DEVICE_TRAFFIC_LIMIT = 500;

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
  private readonly runs: BootstrapRuns;

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
    this.runs = new BootstrapRuns({
      store: this.store,
      secure: () => {
        const pki = this.service.pki;
        const protector = this.service.keyProtector;
        return pki && protector ? { pki, protector, securePort: this.securePort() ?? DEFAULT_SECURE_PORT } : null;
      },
      offReason: () => this.secureOffReason(),
      emit: (run) => this.emit('bootstrap', run),
    });
  }

  /** Dispatches a transport's call by name; the method validates its own arguments. */
  call(method: string, args: unknown): Promise<unknown> {
    if (!isApiMethod(method)) return Promise.reject(new ApiArgumentError(`unknown method "${String(method).slice(0, 40)}"`));
    if (!Array.isArray(args)) return Promise.reject(new ApiArgumentError(`${method}: arguments must be a list`));
    try {
      // Checks the arity too, which the typed methods below cannot see.
      const checked = validateArgs(method, args) as unknown[];
      const fn = this[method as ApiMethod] as (...a: unknown[]) => Promise<unknown>;
      return fn.apply(this, checked);
    } catch (e) {
      return Promise.reject(e);
    }
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

  // --- commands --------------------------------------------------------------------------------

  async getStatus(): Promise<ServiceStatus> {
    return this.status();
  }

  async listExchanges(filter: ExchangeFilter, page: ExchangePage): Promise<ExchangeList> {
    const [f, p] = validateArgs('listExchanges', [filter, page]);
    return listExchanges(this.store.db, f, p);
  }

  async getExchange(id: number): Promise<ExchangeDetail> {
    const [exchangeId] = validateArgs('getExchange', [id]);
    const x = this.exchangeOrThrow(exchangeId);
    const { requestHeaders: _a, requestBody: _b, responseHeaders: _c, responseBody: _d, ...summary } = x;
    const interaction = x.interactionId === null ? null : (this.store.interaction(x.interactionId) ?? null);
    const chain = x.interactionId === null ? [] : this.store.exchanges({ interactionId: x.interactionId, newestFirst: false, limit: CHAIN_LIMIT });
    return {
      summary,
      request: messageView(x, 'request'),
      response: messageView(x, 'response'),
      tls: { protocol: x.tlsProtocol, cipher: x.tlsCipher, legacy: isLegacyProtocol(x.tlsProtocol) },
      interaction,
      chain,
    };
  }

  async revealExchangeItem(id: number, side: 'request' | 'response', position: number): Promise<string> {
    const [exchangeId, s, pos] = validateArgs('revealExchangeItem', [id, side, position]);
    const items = parsedItems(this.exchangeOrThrow(exchangeId), s).items;
    const item = items[pos];
    if (!item) throw new ApiError('not-found', `exchange ${exchangeId} has no ${s} item at position ${pos}`);
    return item.value;
  }

  async exportExchanges(ids: number[], format: ExportFormat): Promise<ExportResult> {
    const [list, fmt] = validateArgs('exportExchanges', [ids, format]);
    const exchanges: Exchange[] = [];
    let size = 0;
    for (const exchangeId of [...new Set(list)].sort((a, b) => a - b)) {
      const x = this.exchangeOrThrow(exchangeId);
      size += x.requestBody.length + x.responseBody.length;
      if (size > EXPORT_LIMIT) {
        throw new ApiError('too-large', `the selection is over ${EXPORT_LIMIT / 1024 / 1024} MB of message bodies: export fewer exchanges at a time`);
      }
      exchanges.push(x);
    }
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
    const content = fmt === 'har' ? JSON.stringify(toHar(exchanges), null, 2) : JSON.stringify(toJsonExport(exchanges), null, 2);
    return {
      filename: `localdls-exchanges-${stamp}.${fmt}`,
      mimeType: 'application/json',
      content,
      count: exchanges.length,
    };
  }

  async clearView(): Promise<{ throughId: number }> {
    return { throughId: newestExchangeId(this.store.db) };
  }

  async listDevices(): Promise<DeviceView[]> {
    const counts = pendingJobCounts(this.store.db);
    return this.store.devices().map((d) => deviceView(d, counts.get(d.mac)));
  }

  async getDevice(mac: string): Promise<DeviceDetail> {
    const [m] = validateArgs('getDevice', [mac]);
    const device = deviceView(this.deviceOrThrow(m), pendingJobCounts(this.store.db, m).get(m));
    const items: DeviceItemView[] = this.store.items(m).map((i) => ({ ...itemView(i.name, i.index, i.value, i.status), updated: i.updated }));
    const traffic = this.store.exchanges({ mac: m, limit: DEVICE_TRAFFIC_LIMIT }).reverse();
    return { device, items, traffic, trafficTotal: countExchanges(this.store.db, { device: m }) };
  }

  async revealDeviceItem(mac: string, name: string, index: number | null): Promise<string> {
    const [m, n, i] = validateArgs('revealDeviceItem', [mac, name, index]);
    this.deviceOrThrow(m);
    const item = this.store.items(m).find((x) => x.name === n && x.index === i);
    if (!item) throw new ApiError('not-found', `device ${m} has no item ${n}${i === null ? '' : `[${i}]`}`);
    return item.value;
  }

  async listJobs(filter: JobFilter): Promise<JobList> {
    const [f] = validateArgs('listJobs', [filter]);
    const { jobs, matched } = listJobsNewest(this.store.db, f);
    return { jobs: jobs.map(maskJob), matched };
  }

  async addJob(macs: string[], spec: JobSpec): Promise<AddJobsResult> {
    const [list, s] = validateArgs('addJob', [macs, spec]);
    let built;
    try {
      built = buildJob(s, API_WORDS);
    } catch (e) {
      // A refused file URL is quoted in the reason: not its password.
      if (e instanceof JobSpecError) throw new ApiArgumentError(`addJob: ${maskUrlPasswords(e.message)}`);
      throw e;
    }
    for (const m of list) this.deviceOrThrow(m, 'a phone must contact the service once before it can get jobs');
    const { notes, ...job } = built;
    const now = Date.now();
    const jobs = this.store.db.transaction(() => list.map((mac) => this.store.jobs.add({ mac, ...job, source: 'ui' }, now)))();
    this.pollJobsSoon();
    return { jobs: jobs.map(maskJob), notes };
  }

  async cancelJob(id: number): Promise<Job> {
    const [jobId] = validateArgs('cancelJob', [id]);
    const job = this.store.jobs.get(jobId);
    if (!job) throw new ApiError('not-found', `no job ${jobId}`);
    if (!this.store.jobs.cancel(jobId, Date.now())) throw new ApiError('conflict', `job ${jobId} is ${job.state}: only queued, sent or waiting-busy jobs can be cancelled`);
    // A cancelled bootstrap leaves the phone in Default Mode: no longer "pending".
    if (job.kind === 'Bootstrap' && this.store.device(job.mac)?.bootstrap === 'pending') this.store.updateDevice(job.mac, { bootstrap: 'failed' });
    this.pollJobsSoon();
    return maskJob(this.store.jobs.get(jobId)!);
  }

  async contactNow(macs: string[]): Promise<ContactResult[]> {
    const [list] = validateArgs('contactNow', [macs]);
    const contacts = this.service.contacts;
    if (!contacts) throw new ApiError('unavailable', 'contact-me is not available here: the service is not running');
    const outcomes = new Map((await contacts.contactMany(list)).map((o) => [o.mac, o]));
    return list.map((mac) => {
      const o = outcomes.get(mac)!;
      const r: ContactResult = { mac, ok: o.ok };
      if (o.skipped) r.skipped = o.skipped;
      if (o.nextAt) r.nextAt = o.nextAt;
      if (o.error) r.error = o.error;
      return r;
    });
  }

  async listProfiles(): Promise<Profile[]> {
    return this.store.jobs.profiles().map(maskProfile);
  }

  async setProfile(profile: ProfileInput): Promise<Profile> {
    const [p] = validateArgs('setProfile', [profile]);
    const before = this.store.jobs.profile(p.name);
    const key = (i: { name: string; index?: number | null }) => `${i.name}#${i.index ?? ''}`;
    const stored = new Map((before?.items ?? []).map((i) => [key(i), i.value]));
    // A masked secret sent back unchanged keeps the stored value.
    const items = p.items.map((i) => {
      if (i.value !== MASK) return i;
      const value = stored.get(key(i));
      if (value === undefined) throw new ApiArgumentError(`setProfile: ${i.name} has the mask (${MASK}) as its value: type the real value`);
      return { ...i, value };
    });
    return maskProfile(this.store.jobs.setProfile({ ...p, items }, Date.now()));
  }

  async applyProfile(name: string, macs: string[]): Promise<ProfileApplyResult[]> {
    const [n, list] = validateArgs('applyProfile', [name, macs]);
    const profile = this.store.jobs.profile(n);
    if (!profile) throw new ApiError('not-found', `no profile "${n}"`);
    const results = applyProfileTo(this.store, profile, list);
    this.pollJobsSoon();
    return results;
  }

  async itemCatalogue(): Promise<CatalogueEntry[]> {
    return [...CATALOGUE];
  }

  async getSecureStatus(): Promise<SecureStatus> {
    const pki = this.service.pki ?? null;
    const protector = this.service.keyProtector;
    if (!pki || !protector) return { on: false, reason: this.secureOffReason(), securePort: null, ca: null, protector: protector?.kind ?? null };
    const ca = pki.caSummary();
    return {
      on: true,
      reason: null,
      securePort: this.securePort(),
      ca: { subject: ca.subject, fingerprint: ca.fingerprint, notAfter: ca.notAfter, imported: ca.imported },
      protector: protector.kind,
    };
  }

  async setTlsProfile(listener: TlsListener, profile: TlsProfileName): Promise<void> {
    const [which, chosen] = validateArgs('setTlsProfile', [listener, profile]);
    if (!this.service.setTlsProfile) throw new ApiError('unavailable', 'the TLS profile cannot be changed here: the service is not running');
    await this.service.setTlsProfile(which, chosen);
    this.listeners = this.listeners.map((l) => (l.kind === which ? { ...l, tlsProfile: chosen } : l));
    this.emit('status', this.status());
  }

  async startBootstrap(macs: string[], options: BootstrapOptions): Promise<BootstrapRun> {
    const [list, o] = validateArgs('startBootstrap', [macs, options]);
    const run = this.runs.start(list, o);
    this.pollJobsSoon();
    return run;
  }

  async getBootstrapRun(runId: string): Promise<BootstrapRun> {
    const [id] = validateArgs('getBootstrapRun', [runId]);
    return this.runs.get(id);
  }

  async bootstrapPinSheet(runId: string, format: 'csv' | 'html'): Promise<FileResult> {
    const [id, f] = validateArgs('bootstrapPinSheet', [runId, format]);
    return this.runs.pinSheet(id, f);
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
    this.emit('jobsChanged', changed.map(maskJob));
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
      addresses: hostAddresses(this.options.networkInterfaces ?? osNetworkInterfaces),
      deviceCount: deviceCount(this.store.db),
      exchangeCount: this.store.exchangeCount(),
      now: Date.now(),
    };
  }

  private exchangeOrThrow(id: number): Exchange {
    const x = this.store.exchange(id);
    if (!x) throw new ApiError('not-found', `no exchange ${id}`);
    return x;
  }

  private deviceOrThrow(mac: string, hint?: string): Device {
    const d = this.store.device(mac);
    if (!d) throw new ApiError('not-found', `no device ${mac}${hint ? `: ${hint}` : ''}`);
    return d;
  }

  /** The bound Secure-Mode port: as the shell reported it, else as the service recorded it. */
  private securePort(): number | null {
    const listener = this.listeners.find((l) => l.kind === 'secure');
    if (listener) return listener.port;
    const stored = Number(this.store.setting('secure_port'));
    return Number.isInteger(stored) && stored > 0 ? stored : null;
  }

  private secureOffReason(): string {
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

function deviceView(d: Device, jobs: PendingJobCounts | undefined): DeviceView {
  return { ...d, jobs: jobs ?? { ...NO_PENDING_JOBS } };
}

function jobKey(j: Job): string {
  return [j.state, j.updated, j.attempts, j.partsDone, j.results.length, j.error].join('|');
}

/** A job as the UIs get it: secret item values masked. */
export function maskJob(j: Job): Job {
  return { ...j, items: j.items.map((i) => ({ ...i, value: maskItemValue(i.name, i.value) })) };
}

function maskProfile(p: Profile): Profile {
  return { ...p, items: p.items.map((i) => ({ ...i, value: maskItemValue(i.name, i.value) })) };
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

// --- message views -------------------------------------------------------------------------------

function itemView(name: string, index: number | null | undefined, value: string, status: string | null | undefined): ItemView {
  return { name, index: index ?? null, value: maskItemValue(name, value), status: status ?? null, secret: value !== '' && isSecretItem(name) };
}

function header(headers: [string, string][], name: string): string | null {
  return headers.find(([n]) => n.toLowerCase() === name)?.[1] ?? null;
}

function decode(bytes: Uint8Array): { text: string; invalid: boolean } {
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes), invalid: false };
  } catch {
    return { text: new TextDecoder('utf-8').decode(bytes), invalid: true };
  }
}

/** The shared masking rule for raw message views and exports. */
export function maskXml(xml: string): string {
  return maskSecretsInXml(xml);
}

function looksLikeXml(contentType: string | null, text: string): boolean {
  return /xml/i.test(contentType ?? '') || text.trimStart().startsWith('<');
}

/** The WPI items of one side, unmasked (callers mask), or why they could not be read. */
function parsedItems(x: Exchange, side: 'request' | 'response'): { items: Item[]; problem: string | null } {
  const body = side === 'request' ? x.requestBody : x.responseBody;
  if (x.kind !== 'wpi' || body.length === 0) return { items: [], problem: null };
  const headers = side === 'request' ? x.requestHeaders : x.responseHeaders;
  if (!looksLikeXml(header(headers, 'content-type'), decode(body.subarray(0, 256)).text)) return { items: [], problem: null };
  try {
    return { items: (side === 'request' ? parseWorkpointMessage(body) : parseDLSMessage(body)).items, problem: null };
  } catch (e) {
    return { items: [], problem: e instanceof Error ? e.message : String(e) };
  }
}

function messageView(x: Exchange, side: 'request' | 'response'): MessageView {
  const headers = side === 'request' ? x.requestHeaders : x.responseHeaders;
  const body = side === 'request' ? x.requestBody : x.responseBody;
  const contentType = header(headers, 'content-type');
  const { text: full, invalid } = decode(body);
  const isXml = body.length > 0 && looksLikeXml(contentType, full);
  const masked = isXml ? maskXml(full) : full;
  let xmlProblem: MessageView['xmlProblem'] = null;
  if (isXml) {
    const result = XMLValidator.validate(full);
    if (result !== true) xmlProblem = { line: result.err.line, column: result.err.col, message: result.err.msg };
  }
  const parsed = parsedItems(x, side);
  let startLine = '';
  if (x.kind !== 'tls-failure' && x.method) {
    startLine = side === 'request' ? `${x.method ?? ''} ${x.path ?? ''} HTTP/1.1` : `HTTP/1.1 ${x.httpStatus} ${STATUS_CODES[x.httpStatus] ?? ''}`.trimEnd();
  }
  return {
    startLine,
    headers,
    contentType,
    bytes: body.length,
    text: masked.length > VIEW_TEXT_LIMIT ? masked.slice(0, VIEW_TEXT_LIMIT) : masked,
    truncated: masked.length > VIEW_TEXT_LIMIT,
    invalidUtf8: invalid,
    isXml,
    xmlProblem,
    items: parsed.items.map((i) => itemView(i.name, i.index, i.value, i.status)),
    wpiProblem: parsed.problem,
  };
}

// --- exports -------------------------------------------------------------------------------------

function bodyText(x: Exchange, side: 'request' | 'response'): string {
  const body = side === 'request' ? x.requestBody : x.responseBody;
  const headers = side === 'request' ? x.requestHeaders : x.responseHeaders;
  const { text } = decode(body);
  return looksLikeXml(header(headers, 'content-type'), text) ? maskXml(text) : text;
}

function exportedItems(x: Exchange, side: 'request' | 'response'): ItemView[] {
  return parsedItems(x, side).items.map((i) => itemView(i.name, i.index, i.value, i.status));
}

function toJsonExport(exchanges: Exchange[]) {
  return {
    generator: `LocalDLS ${packageJson.version}`,
    exported: new Date().toISOString(),
    secretsMasked: true,
    exchanges: exchanges.map((x) => {
      const { requestHeaders, requestBody, responseHeaders, responseBody, ...summary } = x;
      return {
        ...summary,
        startedIso: new Date(x.started).toISOString(),
        request: { headers: requestHeaders, bytes: requestBody.length, body: bodyText(x, 'request'), items: exportedItems(x, 'request') },
        response: { headers: responseHeaders, bytes: responseBody.length, body: bodyText(x, 'response'), items: exportedItems(x, 'response') },
      };
    }),
  };
}

/** HAR 1.2 with LocalDLS fields prefixed `_`; failed handshakes (no HTTP) go to `_tlsErrors`. */
function toHar(exchanges: Exchange[]) {
  const harHeaders = (h: [string, string][]) => h.map(([name, value]) => ({ name, value }));
  const entries = exchanges.filter((x) => x.kind !== 'tls-failure').map((x) => {
    // contact-me is our own request to the phone's plain-HTTP port; everything else came to a listener.
    const outgoing = x.kind === 'contact-me';
    const host = header(x.requestHeaders, 'host') ?? (outgoing ? `${x.peerAddress}:${x.peerPort}` : `localhost:${x.localPort}`);
    const scheme = outgoing || x.kind === 'dcmp' || x.tlsProtocol === null ? 'http' : 'https';
    return {
      startedDateTime: new Date(x.started).toISOString(),
      time: x.ended - x.started,
      request: {
        method: x.method ?? 'POST',
        url: `${scheme}://${host}${x.path ?? '/'}`,
        httpVersion: 'HTTP/1.1',
        cookies: [],
        headers: harHeaders(x.requestHeaders),
        queryString: [],
        postData: { mimeType: header(x.requestHeaders, 'content-type') ?? '', text: bodyText(x, 'request') },
        headersSize: -1,
        bodySize: x.requestBody.length,
      },
      response: {
        status: x.httpStatus,
        statusText: STATUS_CODES[x.httpStatus] ?? '',
        httpVersion: 'HTTP/1.1',
        cookies: [],
        headers: harHeaders(x.responseHeaders),
        content: { size: x.responseBody.length, mimeType: header(x.responseHeaders, 'content-type') ?? '', text: bodyText(x, 'response') },
        redirectURL: '',
        headersSize: -1,
        bodySize: x.responseBody.length,
      },
      cache: {},
      timings: { send: 0, wait: x.ended - x.started, receive: 0 },
      connection: String(x.peerPort),
      _localdls: {
        id: x.id, peer: `${x.peerAddress}:${x.peerPort}`, listener: x.listener, mac: x.mac, interactionId: x.interactionId,
        reason: x.reason, replyAction: x.replyAction, replyStatus: x.replyStatus, fragment: x.fragment, itemCount: x.itemCount,
        action: x.action, tlsProtocol: x.tlsProtocol, tlsCipher: x.tlsCipher, error: x.error, warning: x.warning,
      },
    };
  });
  const tlsErrors = exchanges.filter((x) => x.kind === 'tls-failure').map((x) => ({
    id: x.id, time: new Date(x.started).toISOString(), peer: `${x.peerAddress}:${x.peerPort}`, localPort: x.localPort,
    listener: x.listener, error: x.error, hint: x.warning,
  }));
  return {
    log: {
      version: '1.2',
      creator: { name: 'LocalDLS', version: packageJson.version },
      comment: 'Secret item values are masked.',
      entries,
      ...(tlsErrors.length ? { _tlsErrors: tlsErrors } : {}),
    },
  };
}
