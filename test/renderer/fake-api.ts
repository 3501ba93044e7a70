/**
 * An in-memory LocalDlsApi for component tests: the same contract as the preload and the web
 * bridge, with helpers to push live events. Filtering mirrors the service loosely (enough for
 * the views); the real SQL is tested in test/web/exchange-filter.test.ts.
 */
import { validateArgs } from '../../src/shared/api-args';
import {
  type AddJobsResult,
  type BootstrapOptions,
  type BootstrapRun,
  type CatalogueEntry,
  type ContactResult,
  type DeviceDetail,
  type DeviceView,
  type ExchangeDetail,
  type ExchangeFilter,
  type ExchangeList,
  type ExchangePage,
  type FileResult,
  type JobFilter,
  type JobList,
  type JobSpec,
  type LocalDlsApi,
  type ProfileApplyResult,
  type ProfileInput,
  type SecureStatus,
  type ServiceStatus,
  type UpstreamSettingInput,
  type UpstreamSettingView,
  type DeviceTimeline,
  type InteractionLadder,
  type RetryResult,
  type Rollout,
  type RolloutSummary,
} from '../../src/shared/api';
import catalogue from '../../src/shared/item-catalogue.json';
import type { ExchangeSummary, ItemValue, Job, JobKind, Profile } from '../../src/shared/model';
import { MASK } from '../../src/shared/secrets';

/** Hex of a string's UTF-8 bytes (the web project has no Buffer). */
export const hex = (s: string) => [...new TextEncoder().encode(s)].map((b) => b.toString(16).padStart(2, '0')).join('');

export function summary(id: number, over: Partial<ExchangeSummary> = {}): ExchangeSummary {
  return {
    id, kind: 'wpi', started: 1_764_151_200_000 + id * 10, ended: 1_764_151_200_000 + id * 10 + 3, listener: 'default', localPort: 18443,
    peerAddress: '192.0.2.10', peerPort: 40000 + id, tlsProtocol: 'TLSv1.3', tlsCipher: 'TLS_AES_256_GCM_SHA384', method: 'POST',
    path: '/DeploymentService/LoginService', httpStatus: 200, mac: '00:1A:E8:00:00:01', interactionId: 1, reason: 'start-up',
    replyAction: null, replyStatus: null, nonce: `N${id}`, fragment: null, itemCount: 3, refusedItems: 0, action: 'ReadAllItems', error: null, warning: null,
    requestBytes: 900, responseBytes: 300, ...over,
  };
}

export const DEVICE: DeviceView = {
  mac: '00:1A:E8:00:00:01', e164: '498972231001', deviceType: 'OpenStage 60', softwareVersion: 'V3 R5.12.0', partNumber: 'S30817-S7403-A101',
  contactMeUri: 'http://192.0.2.10:8085/contact_dls.html/ContactDLS', lastAddress: '192.0.2.10', mode: 'default', state: 'idle',
  tlsProtocol: 'TLSv1', profile: null, lastContactMe: null, bootstrap: null, certSerial: null,
  firstContact: 1_764_151_200_000, lastContact: 1_764_151_260_000, contactFailures: 0, lastContactError: null, lastContactMeOutcome: null, lastContactMeError: null, jobs: { queued: 0, sent: 0, waitingBusy: 0 },
};

export function device(n: number, over: Partial<DeviceView> = {}): DeviceView {
  const hex = n.toString(16).toUpperCase().padStart(2, '0');
  return { ...DEVICE, mac: `00:1A:E8:00:00:${hex}`, e164: `4989722310${String(n).padStart(2, '0')}`, lastAddress: `192.0.2.${n + 9}`, ...over };
}

export function job(id: number, over: Partial<Job> = {}): Job {
  return {
    id, mac: DEVICE.mac, kind: 'WriteItems', items: [{ name: 'sntp-addr', value: 'pool.ntp.org' }], expect: null, state: 'queued', attempts: 0, unanswered: 0, partsDone: 0,
    created: 1_764_151_300_000 + id, updated: 1_764_151_300_000 + id, sent: null, finished: null, results: [], error: null, source: 'ui', rolloutAt: 1_764_151_300_000 + id, ...over,
  };
}

const SPEC_KINDS: Record<JobSpec['kind'], JobKind> = {
  write: 'WriteItems', read: 'ReadItems', 'read-all': 'ReadAllItems', restart: 'Restart', 'factory-reset': 'FactoryReset', file: 'FileDeployment', firmware: 'SoftwareDeployment',
};

export const REQUEST_XML =
  '<?xml version="1.0" encoding="UTF-8"?>\n<WorkpointMessage xmlns="http://www.siemens.com/DLS"><Message nonce="N1" maxItems="-1">' +
  '<ReasonForContact>start-up</ReasonForContact><ItemList><Item name="e164">498972231001</Item>' +
  `<Item name="user-pwd">${MASK}</Item><Item name="function-key-def" index="2">line</Item></ItemList></Message></WorkpointMessage>`;

export class FakeApi implements LocalDlsApi {
  rows: ExchangeSummary[] = [];
  devices: DeviceView[] = [DEVICE];
  jobs: Job[] = [];
  profiles: Profile[] = [];
  secure: SecureStatus = {
    on: true, reason: null, securePort: 18444, protector: 'passphrase',
    ca: { subject: 'CN=LocalDLS CA testhost, O=LocalDLS', fingerprint: 'AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89', notAfter: 2_000_000_000_000, imported: false },
    keyPool: { ready: 3, size: 64 },
  };
  runs = new Map<string, BootstrapRun>();
  rollouts: Rollout[] = [];
  /** What retryFailed answers. */
  retryResult: RetryResult = { rolloutId: null, retried: 0, skipped: [] };
  contactResults: ContactResult[] | null = null;
  /** The next command fails with this (as the service words it). */
  failNext: Error | null = null;
  calls: { method: string; args: unknown[] }[] = [];
  private exchangeListeners = new Set<(b: ExchangeSummary[]) => void>();
  private deviceListeners = new Set<(d: DeviceView[]) => void>();
  private statusListeners = new Set<(s: ServiceStatus) => void>();
  private jobListeners = new Set<(j: Job[]) => void>();
  private bootstrapListeners = new Set<(r: BootstrapRun) => void>();

  status: ServiceStatus = {
    version: '0.1.0', dataDir: '/home/me/.localdls',
    listeners: [{ kind: 'default', host: '0.0.0.0', port: 18443, tlsProfile: 'modern', state: 'listening', error: null }],
    addresses: [{ interface: 'eth0', family: 'IPv4', address: '192.168.2.19', linkLocal: false }],
    deviceCount: 1, exchangeCount: 0, now: 0,
  };

  private matches(x: ExchangeSummary, f: ExchangeFilter): boolean {
    if (f.sinceId !== undefined && x.id <= f.sinceId) return false;
    if (f.device && !(x.mac ?? '').includes(f.device) && !x.peerAddress.includes(f.device)) return false;
    if (f.reason && x.reason !== f.reason) return false;
    if (f.action && x.action !== f.action) return false;
    if (f.errorsOnly && !(x.error || x.kind === 'tls-failure' || x.httpStatus >= 400)) return false;
    if (f.text && !JSON.stringify(x).includes(f.text)) return false;
    return true;
  }

  async getStatus() {
    this.calls.push({ method: 'getStatus', args: [] });
    return this.status;
  }

  async listExchanges(filter: ExchangeFilter, page: ExchangePage): Promise<ExchangeList> {
    this.calls.push({ method: 'listExchanges', args: [filter, page] });
    let all = this.rows.filter((x) => this.matches(x, filter));
    if (page.afterId !== undefined) all = all.filter((x) => x.id > page.afterId!);
    if (page.beforeId !== undefined) all = all.filter((x) => x.id < page.beforeId!);
    const rows = page.afterId !== undefined ? all.slice(0, page.limit) : all.slice(-page.limit);
    const counts = page.counts !== false;
    return {
      exchanges: rows,
      matched: counts ? this.rows.filter((x) => this.matches(x, filter)).length : null,
      total: counts ? this.rows.filter((x) => x.id > (filter.sinceId ?? 0)).length : null,
      newestId: counts ? (this.rows.at(-1)?.id ?? 0) : null,
      hasOlder: page.afterId === undefined && all.length > rows.length,
      hasNewer: page.afterId !== undefined && all.length > rows.length,
    };
  }

  async getExchange(id: number): Promise<ExchangeDetail> {
    this.calls.push({ method: 'getExchange', args: [id] });
    const s = this.rows.find((x) => x.id === id);
    if (!s) throw new Error(`no exchange ${id}`);
    const message = (text: string, items: ExchangeDetail['request']['items']) => ({
      startLine: 'POST /DeploymentService/LoginService HTTP/1.1', headers: [['Content-Type', 'text/xml']] as [string, string][], contentType: 'text/xml',
      bytes: text.length, text, truncated: false, invalidUtf8: false, withheld: false, isXml: true, xmlProblem: null, items, wpiProblem: null,
    });
    return {
      summary: s,
      request: message(REQUEST_XML, [
        { name: 'e164', index: null, value: '498972231001', status: null, secret: false },
        { name: 'user-pwd', index: null, value: MASK, status: null, secret: true },
        { name: 'function-key-def', index: 2, value: 'line', status: null, secret: false },
      ]),
      response: message('<DLSMessage><Message nonce="N1"><Action>ReadAllItems</Action></Message></DLSMessage>', []),
      tls: { protocol: s.tlsProtocol, cipher: s.tlsCipher, legacy: false, clientCertificate: null },
      interaction: { id: 1, mac: s.mac, peer: s.peerAddress, listener: 'default', reason: 'start-up', started: s.started, ended: s.ended + 100, endReason: 'CleanUp' },
      chain: this.rows.filter((x) => x.interactionId === s.interactionId).slice(0, 5),
    };
  }

  async revealExchangeItem(id: number, side: 'request' | 'response', position: number) {
    this.calls.push({ method: 'revealExchangeItem', args: [id, side, position] });
    return 'secret-123456';
  }

  async exportExchanges(ids: number[], format: 'json' | 'har') {
    this.calls.push({ method: 'exportExchanges', args: [ids, format] });
    return { filename: `x.${format}`, mimeType: 'application/json', content: '{}', count: ids.length, tlsFailures: this.rows.filter((x) => ids.includes(x.id) && x.kind === 'tls-failure').length };
  }

  async clearView() {
    this.calls.push({ method: 'clearView', args: [] });
    return { throughId: this.rows.at(-1)?.id ?? 0 };
  }

  async listDevices() {
    return this.devices;
  }

  private command(method: string, args: unknown[]): void {
    this.calls.push({ method, args });
    const fail = this.failNext;
    this.failNext = null;
    if (fail) throw fail;
  }

  async listJobs(filter: JobFilter): Promise<JobList> {
    this.command('listJobs', [filter]);
    const all = this.jobs
      .filter((j) => (!filter.mac || j.mac === filter.mac) && (!filter.states?.length || filter.states.includes(j.state)) && (!filter.kinds?.length || filter.kinds.includes(j.kind)))
      .sort((a, b) => b.id - a.id);
    return { jobs: all.slice(0, filter.limit ?? 500), matched: all.length };
  }

  async addJob(macs: string[], spec: JobSpec): Promise<AddJobsResult> {
    this.command('addJob', [macs, spec]);
    // The same argument checks as every transport.
    const [list, checked] = validateArgs('addJob', [macs, spec]);
    const items: ItemValue[] = checked.kind === 'write' ? checked.items : checked.kind === 'read' ? checked.items.map((i) => ({ ...i, value: '' })) : [];
    const made = list.map((mac) => job(this.jobs.length + 1 + list.indexOf(mac), { mac, kind: SPEC_KINDS[checked.kind], items }));
    this.jobs.push(...made);
    this.pushJobs(...made);
    const unknown = items.filter((i) => !(catalogue as CatalogueEntry[]).some((c) => c.name === i.name)).map((i) => i.name);
    return { jobs: made, notes: unknown.length ? [`not in LocalDLS's item catalogue (the phone may answer "unknown item"): ${unknown.join(', ')}`] : [], same: [] };
  }

  async cancelJob(id: number): Promise<Job> {
    this.command('cancelJob', [id]);
    const j = this.jobs.find((x) => x.id === id);
    if (!j) throw new Error(`no job ${id}`);
    if (!['queued', 'sent', 'waiting-busy'].includes(j.state)) throw new Error(`job ${id} is ${j.state}: only queued, sent or waiting-busy jobs can be cancelled`);
    Object.assign(j, { state: 'cancelled', error: 'cancelled by the user' });
    this.pushJobs({ ...j });
    return { ...j };
  }

  async contactNow(macs: string[]): Promise<ContactResult[]> {
    this.command('contactNow', [macs]);
    return this.contactResults ?? macs.map((mac) => ({ mac, ok: true }));
  }

  async listProfiles(): Promise<Profile[]> {
    this.command('listProfiles', []);
    return this.profiles;
  }

  async setProfile(p: ProfileInput): Promise<Profile> {
    this.command('setProfile', [p]);
    const saved = { ...p, created: 1, updated: 1 };
    this.profiles = [...this.profiles.filter((x) => x.name !== p.name), saved];
    return saved;
  }

  async applyProfile(name: string, macs: string[]): Promise<ProfileApplyResult[]> {
    this.command('applyProfile', [name, macs]);
    return macs.map((mac, i) => ({ mac, jobId: 100 + i, differs: 1 }));
  }

  overrides = new Map<string, ItemValue[]>();

  async getOverrides(mac: string): Promise<ItemValue[]> {
    this.command('getOverrides', [mac]);
    return this.overrides.get(mac) ?? [];
  }

  async setOverrides(mac: string, items: ItemValue[]): Promise<number> {
    this.command('setOverrides', [mac, items]);
    const same = (a: ItemValue, b: ItemValue) => a.name === b.name && (a.index ?? null) === (b.index ?? null);
    this.overrides.set(mac, [...(this.overrides.get(mac) ?? []).filter((o) => !items.some((i) => same(i, o))), ...items]);
    return items.length;
  }

  async clearOverrides(mac: string, items: { name: string; index?: number }[] | null): Promise<number> {
    this.command('clearOverrides', [mac, items]);
    const before = this.overrides.get(mac) ?? [];
    const after = items === null ? [] : before.filter((o) => !items.some((i) => i.name === o.name && (i.index ?? null) === (o.index ?? null)));
    this.overrides.set(mac, after);
    return before.length - after.length;
  }

  async itemCatalogue(): Promise<CatalogueEntry[]> {
    return catalogue as CatalogueEntry[];
  }

  async getSecureStatus(): Promise<SecureStatus> {
    return this.secure;
  }

  async startBootstrap(macs: string[], options: BootstrapOptions): Promise<BootstrapRun> {
    this.command('startBootstrap', [macs, options]);
    validateArgs('startBootstrap', [macs, options]);
    const run: BootstrapRun = {
      id: `run${this.runs.size + 1}`, started: 1_764_151_400_000, rolloutId: 'j1764151400000-Bootstrap', pin: options.pin === 'none' ? 'none' : options.pin === 'auto' ? 'auto' : 'given',
      total: macs.length, prepared: 0, error: null, finished: false, pinsAvailable: false, cancelled: null,
      devices: macs.map((mac) => ({ mac, e164: this.devices.find((d) => d.mac === mac)?.e164 ?? null, jobId: null, state: 'preparing', jobState: null, error: null, hasPin: false })),
    };
    this.runs.set(run.id, run);
    return run;
  }

  async getBootstrapRun(runId: string): Promise<BootstrapRun> {
    const r = this.runs.get(runId);
    if (!r) throw new Error(`no bootstrap run ${runId}`);
    return r;
  }

  async bootstrapPinSheet(runId: string, format: 'csv' | 'html'): Promise<FileResult> {
    this.command('bootstrapPinSheet', [runId, format]);
    const r = this.runs.get(runId)!;
    const csv = ['mac,e164,pin', ...r.devices.filter((d) => d.hasPin).map((d, i) => `${d.mac},${d.e164 ?? ''},1234567${i}`)].join('\n') + '\n';
    return { filename: `localdls-pins.${format}`, mimeType: format === 'csv' ? 'text/csv' : 'text/html', content: csv };
  }

  async cancelBootstrapRun(runId: string): Promise<BootstrapRun> {
    this.command('cancelBootstrapRun', [runId]);
    validateArgs('cancelBootstrapRun', [runId]);
    const r = this.runs.get(runId);
    if (!r) throw new Error(`no bootstrap run ${runId}`);
    r.cancelled ??= { at: 1_764_151_500_000, why: 'cancelled from the run view' };
    for (const d of r.devices) {
      if (d.state === 'preparing') Object.assign(d, { state: 'cancelled', error: 'not prepared: the bootstrap run was cancelled' });
      else if (d.state === 'pending' && d.jobState !== 'sent') Object.assign(d, { state: 'cancelled', jobState: 'cancelled', error: 'cancelled with its bootstrap run' });
    }
    r.finished = r.devices.every((d) => d.state !== 'preparing' && d.state !== 'pending');
    return r;
  }

  async setTlsProfile(listener: 'default' | 'secure', profile: 'modern' | 'legacy'): Promise<void> {
    this.command('setTlsProfile', [listener, profile]);
    this.status = { ...this.status, listeners: this.status.listeners.map((l) => (l.kind === listener ? { ...l, tlsProfile: profile } : l)) };
    for (const l of this.statusListeners) l(this.status);
  }

  async setUpstream(setting: UpstreamSettingInput): Promise<UpstreamSettingView | null> {
    this.command('setUpstream', [setting]);
    const stored = setting && { url: setting.url, caFile: setting.caFile ?? null, fingerprints: setting.fingerprints ?? [] };
    this.status = { ...this.status, upstreamSetting: stored };
    for (const l of this.statusListeners) l(this.status);
    return stored;
  }

  // The inspector's views are tested against the real service (test/e2e, test/commands); here
  // they only need to answer.
  async exportTraffic(filter: ExchangeFilter, format: 'json' | 'har') {
    this.command('exportTraffic', [filter, format]);
    return { filename: `localdls-exchanges.${format}`, mimeType: 'application/json', content: '{}', count: 0, tlsFailures: 0 };
  }

  async getInteraction(id: number): Promise<InteractionLadder> {
    this.command('getInteraction', [id]);
    const exchanges = this.rows.filter((x) => x.interactionId === id);
    return { interaction: { id, mac: exchanges[0]?.mac ?? null, peer: '192.0.2.10', listener: 'default', reason: 'start-up', started: 0, ended: null, endReason: null }, exchanges, jobs: [], previousId: null, nextId: null };
  }

  async getDeviceTimeline(mac: string): Promise<DeviceTimeline> {
    this.command('getDeviceTimeline', [mac]);
    return { mac, entries: [], truncated: false };
  }

  async listRollouts(): Promise<RolloutSummary[]> {
    this.command('listRollouts', []);
    return this.rollouts.map(({ devices: _d, ...r }) => r);
  }

  async getRollout(id: string): Promise<Rollout> {
    this.command('getRollout', [id]);
    const found = this.rollouts.find((r) => r.id === id);
    if (!found) throw new Error(`no rollout ${id}`);
    return structuredClone(found);
  }

  async retryFailed(id: string): Promise<RetryResult> {
    this.command('retryFailed', [id]);
    return this.retryResult;
  }

  async setTlsKeyLog(path: string | null) {
    this.command('setTlsKeyLog', [path]);
    return { path };
  }

  async getDevice(mac: string): Promise<DeviceDetail> {
    const device = this.devices.find((d) => d.mac === mac);
    if (!device) throw new Error(`no device ${mac}`);
    return {
      device,
      items: [
        { name: 'e164', index: null, value: '498972231001', status: null, secret: false, updated: 0 },
        { name: 'function-key-def', index: 1, value: 'line', status: null, secret: false, updated: 0 },
        { name: 'function-key-def', index: 2, value: 'forward', status: null, secret: false, updated: 0 },
        { name: 'sip-pwd', index: null, value: MASK, status: null, secret: true, updated: 0 },
      ],
      traffic: this.rows.filter((x) => x.mac === mac),
      trafficTotal: this.rows.filter((x) => x.mac === mac).length,
    };
  }

  async revealDeviceItem(mac: string, name: string, index: number | null) {
    this.calls.push({ method: 'revealDeviceItem', args: [mac, name, index] });
    return 'sip-secret';
  }

  onExchanges(l: (b: ExchangeSummary[]) => void) {
    this.exchangeListeners.add(l);
    return () => this.exchangeListeners.delete(l);
  }

  onDevicesChanged(l: (d: DeviceView[]) => void) {
    this.deviceListeners.add(l);
    return () => this.deviceListeners.delete(l);
  }

  onStatus(l: (s: ServiceStatus) => void) {
    this.statusListeners.add(l);
    return () => this.statusListeners.delete(l);
  }

  onJobsChanged(l: (j: Job[]) => void) {
    this.jobListeners.add(l);
    return () => this.jobListeners.delete(l);
  }

  onBootstrap(l: (r: BootstrapRun) => void) {
    this.bootstrapListeners.add(l);
    return () => this.bootstrapListeners.delete(l);
  }

  pushJobs(...jobs: Job[]): void {
    for (const j of jobs) {
      const i = this.jobs.findIndex((x) => x.id === j.id);
      if (i >= 0) this.jobs[i] = j;
      else this.jobs.push(j);
    }
    for (const l of this.jobListeners) l(jobs);
  }

  pushBootstrap(run: BootstrapRun): void {
    this.runs.set(run.id, run);
    for (const l of this.bootstrapListeners) l(run);
  }

  /** The service recorded these: store them and announce them, as the real one does. */
  push(...batch: ExchangeSummary[]): void {
    this.rows.push(...batch);
    for (const l of this.exchangeListeners) l(batch);
  }

  pushDevices(...devices: DeviceView[]): void {
    for (const l of this.deviceListeners) l(devices);
  }
}
