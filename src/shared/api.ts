/**
 * The one API contract between the service and every UI: the Electron preload (IPC), the web UI
 * bridge (WebSocket) and the renderer's test fake all implement or consume `LocalDlsApi`.
 * Only plain serialisable values cross it. Argument validation lives here too, so every transport
 * and the implementation refuse the same inputs with the same words.
 */
import { JOB_KINDS, JOB_STATES, type Device, type ExchangeKind, type ExchangeSummary, type Interaction, type ItemValue, type Job, type JobKind, type JobState, type ListenerKind, type Profile } from './model';

// ---------------------------------------------------------------------------------------------
// Values

/** What the traffic list asks for. Every field is optional; absent means "any". */
export interface ExchangeFilter {
  /** MAC (any separators, partial) or peer address (partial). */
  device?: string;
  /** ReasonForContact of the phone's message, exactly. */
  reason?: string;
  /** Action of the service's answer, exactly. */
  action?: string;
  /** `200`, `4xx`, an HTTP status, or a reply status (`accepted`, `failed`, `busy`). */
  status?: string;
  /** Which listener (mode) took the connection. */
  listener?: ListenerKind;
  kind?: ExchangeKind;
  /** Refused requests, failed TLS handshakes, HTTP ≥ 400 and failed/busy replies. */
  errorsOnly?: boolean;
  /** Free text: searched in the raw request and response bodies (exact bytes) and, case-insensitively, in the summary fields. */
  text?: string;
  interactionId?: number;
  /** Only exchanges after this id: the floor a "clear view" sets. */
  sinceId?: number;
}

export interface ExchangePage {
  /** At most this many rows (1–5000). */
  limit: number;
  /** The newest rows older than this id (loading further back). */
  beforeId?: number;
  /** The oldest rows newer than this id (catching up). */
  afterId?: number;
  /** Also count matching rows (costs a scan when filtering by text). Default true. */
  counts?: boolean;
}

export interface ExchangeList {
  /** Oldest first. */
  exchanges: ExchangeSummary[];
  /** Rows matching the filter (null when counts were not asked for). */
  matched: number | null;
  /** Rows after the filter's sinceId, filtered or not (null when counts were not asked for). */
  total: number | null;
  /** The newest exchange id of all at the time of the counts (null when counts were not asked for). */
  newestId: number | null;
  /** More matching rows exist before the first one returned. */
  hasOlder: boolean;
  /** More matching rows exist after the last one returned (afterId pages only). */
  hasNewer: boolean;
}

/** One item of a message or a device, ready to show: secret values are already masked. */
export interface ItemView {
  name: string;
  index: number | null;
  value: string;
  status: string | null;
  /** The value shown is masked; `reveal…Item` returns the real one. */
  secret: boolean;
}

export interface DeviceItemView extends ItemView {
  updated: number;
}

export interface XmlProblem {
  line: number;
  column: number;
  message: string;
}

/** One side of an exchange as text (secrets masked), with what could be read from it. */
export interface MessageView {
  /** `POST /DeploymentService/LoginService HTTP/1.1` or `HTTP/1.1 200 OK`; empty for a failed handshake. */
  startLine: string;
  headers: [string, string][];
  contentType: string | null;
  /** Body size in bytes as stored. */
  bytes: number;
  /** The body as UTF-8 text with secret item values masked; otherwise byte for byte. */
  text: string;
  /** The text was cut at the view limit; the export carries the rest. */
  truncated: boolean;
  /** The body is not valid UTF-8; `text` shows replacement characters where bytes were invalid. */
  invalidUtf8: boolean;
  isXml: boolean;
  /** Where the XML is not well-formed (fast-xml-parser's validator), else null. */
  xmlProblem: XmlProblem | null;
  /** Parsed WPI items in document order (empty when the body is not a WPI message). */
  items: ItemView[];
  /** Why the body could not be read as a WPI message, else null. */
  wpiProblem: string | null;
}

export interface TlsView {
  protocol: string | null;
  cipher: string | null;
  /** TLSv1 / TLSv1.1: only the legacy profile accepts them (old firmware). */
  legacy: boolean;
}

export interface ExchangeDetail {
  summary: ExchangeSummary;
  request: MessageView;
  response: MessageView;
  tls: TlsView;
  interaction: Interaction | null;
  /** The interaction's exchanges, first message to CleanUp (at most 500). */
  chain: ExchangeSummary[];
}

/** How many of a device's jobs still wait, by state. */
export interface PendingJobCounts {
  queued: number;
  sent: number;
  /** The phone was in a call: the job goes when the call ends (manual p.46). */
  waitingBusy: number;
}

/** A device as the views show it: its record and how many jobs wait for it. */
export interface DeviceView extends Device {
  jobs: PendingJobCounts;
}

export interface DeviceDetail {
  device: DeviceView;
  items: DeviceItemView[];
  /** The device's newest exchanges, oldest first (at most 500). */
  traffic: ExchangeSummary[];
  trafficTotal: number;
}

export type ListenerState = 'listening' | 'stopped' | 'failed';

/** The WPI listeners whose TLS profile can be chosen, and the profiles (net/tls-profile.ts). */
export const TLS_LISTENERS = ['default', 'secure'] as const;
export type TlsListener = (typeof TLS_LISTENERS)[number];
export const TLS_PROFILE_NAMES = ['modern', 'legacy'] as const;
export type TlsProfileName = (typeof TLS_PROFILE_NAMES)[number];

export interface ListenerStatus {
  kind: ListenerKind;
  host: string;
  port: number;
  /** `modern` | `legacy` (see net/tls-profile.ts). */
  tlsProfile: string;
  state: ListenerState;
  error: string | null;
}

export interface HostAddress {
  interface: string;
  family: 'IPv4' | 'IPv6';
  address: string;
  /** fe80::/10 — phones need a scope id to reach it; rarely what to configure. */
  linkLocal: boolean;
}

export interface ServiceStatus {
  version: string;
  dataDir: string;
  listeners: ListenerStatus[];
  /** This machine's non-internal addresses: what a phone can be pointed at. */
  addresses: HostAddress[];
  deviceCount: number;
  exchangeCount: number;
  now: number;
}

export type ExportFormat = 'json' | 'har';

export interface ExportResult {
  filename: string;
  mimeType: string;
  /** The file's content (UTF-8), secrets masked. */
  content: string;
  count: number;
}

// --- jobs, profiles, contact-me, Secure Mode -------------------------------------------------

/** What the jobs view asks for; absent fields mean "any". */
export interface JobFilter {
  /** Exactly this device (any MAC spelling). */
  mac?: string;
  states?: JobState[];
  kinds?: JobKind[];
  /** At most this many jobs, newest first (1–5000, default 500). */
  limit?: number;
}

export interface JobList {
  /** Newest first; secret item values masked. */
  jobs: Job[];
  /** Jobs matching the filter, however many were returned. */
  matched: number;
}

/** An item to read: a name, and an index for indexed items (0 is a real index). */
export interface ItemRef {
  name: string;
  index?: number;
}

export interface FileDelete {
  /** The file's name on the phone, e.g. logo.png. */
  name: string;
  /** Its file type, e.g. LOGO. */
  type: string;
}

/** File types of FileDeployment (manual p.53–55). */
export const FILE_TYPES = ['RINGTONE', 'LOGO', 'MOH', 'PIC', 'LDAP', 'SCREENSAVER'] as const;

/** A job to queue, in the words of `localdls job add`: the service builds the items. */
export type JobSpec =
  | { kind: 'write'; items: ItemValue[] }
  | { kind: 'read'; items: ItemRef[] }
  | { kind: 'read-all' }
  | { kind: 'restart' }
  | { kind: 'factory-reset' }
  /** Files from https:// or ftp://user:password@host/path/name URLs; several get indexes and file-action. */
  | { kind: 'file'; fileType?: string; urls: string[]; deletes?: FileDelete[] }
  /** Firmware `version` like 3.5.12.0 from one URL; done when the phone reports that version. */
  | { kind: 'firmware'; version: string; url: string; swType?: string; priority?: 'normal' | 'immediate' };

export type JobSpecKind = JobSpec['kind'];
export const JOB_SPEC_KINDS = ['write', 'read', 'read-all', 'restart', 'factory-reset', 'file', 'firmware'] as const satisfies readonly JobSpecKind[];

export interface AddJobsResult {
  /** One per device, in the order given; item values masked. */
  jobs: Job[];
  /** Worth knowing but not wrong, e.g. items not in the catalogue. */
  notes: string[];
}

export interface ContactResult {
  mac: string;
  /** The phone answered and will call back. */
  ok: boolean;
  /** Not sent (contact gap, no contact-me URI, …): why. */
  skipped?: string;
  /** When a contact-me may go to this phone again (ms). */
  nextAt?: number;
  /** Sent, but the phone did not answer as it should. */
  error?: string;
}

export interface ProfileInput {
  /** Letters, digits, . _ - (up to 64). */
  name: string;
  deviceType: string | null;
  matchMac: string | null;
  matchE164: string | null;
  /** A secret value sent back as the mask (••••••) keeps the value stored for that item. */
  items: ItemValue[];
}

export interface ProfileApplyResult {
  mac: string;
  /** The WriteItems queued, or null when nothing differs or the device was skipped. */
  jobId: number | null;
  /** Items that differ from what the phone last reported. */
  differs: number;
  skipped?: string;
}

export type { CatalogueEntry } from './catalogue';
import type { CatalogueEntry } from './catalogue';

export interface SecureStatus {
  /** Secure Mode is on: the CA is open and the mutual-TLS listener runs. */
  on: boolean;
  /** Why it is off, and what to do (null when on). */
  reason: string | null;
  /** The port Secure-Mode phones use. */
  securePort: number | null;
  ca: { subject: string; fingerprint: string; notAfter: number; imported: boolean } | null;
  /** Which key protector seals the keys ("passphrase", "safeStorage"). */
  protector: string | null;
}

/** `none`: credentials in dls-client-certificate; `auto`: a random PIN per phone; or the PIN itself (one phone). */
export type PinChoice = 'none' | 'auto' | string;

export interface BootstrapOptions {
  pin: PinChoice;
  /** How often the PIN may be mistyped on the phone (1–10, manual p.67). */
  maxPinRetries: number;
  /** Length of generated PINs (6–16, default 8). */
  pinDigits?: number;
}

export type BootstrapDeviceState = 'preparing' | 'pending' | 'secure' | 'failed';

export interface BootstrapDevice {
  mac: string;
  e164: string | null;
  jobId: number | null;
  state: BootstrapDeviceState;
  /** The bootstrap job's state while pending (sent = the phone has it, and must come back on the secure port). */
  jobState: JobState | null;
  /** The job's error when failed. */
  error: string | null;
  /** This phone has a PIN (on the sheet). */
  hasPin: boolean;
}

/** One bootstrap started from the UI, as it moves. PINs never travel in it: only in the PIN sheet. */
export interface BootstrapRun {
  id: string;
  started: number;
  pin: 'none' | 'auto' | 'given';
  total: number;
  /** Devices whose certificate and job are ready. */
  prepared: number;
  /** Preparation stopped with this error (devices not prepared are failed with it). */
  error: string | null;
  /** Every device is secure or failed. */
  finished: boolean;
  /** The PIN sheet can still be fetched (PINs are forgotten when the run finishes). */
  pinsAvailable: boolean;
  devices: BootstrapDevice[];
}

export interface FileResult {
  filename: string;
  mimeType: string;
  content: string;
}

export type Unsubscribe = () => void;

// ---------------------------------------------------------------------------------------------
// The contract

/** Calls: one named async method per operation. */
export interface LocalDlsCommands {
  getStatus(): Promise<ServiceStatus>;
  listExchanges(filter: ExchangeFilter, page: ExchangePage): Promise<ExchangeList>;
  getExchange(id: number): Promise<ExchangeDetail>;
  /** The real value of one secret item of a message (`position` = its place in `MessageView.items`). */
  revealExchangeItem(id: number, side: 'request' | 'response', position: number): Promise<string>;
  exportExchanges(ids: number[], format: ExportFormat): Promise<ExportResult>;
  /** Starts the traffic view afresh: returns the newest id, to use as `ExchangeFilter.sinceId`. Deletes nothing. */
  clearView(): Promise<{ throughId: number }>;
  listDevices(): Promise<DeviceView[]>;
  getDevice(mac: string): Promise<DeviceDetail>;
  revealDeviceItem(mac: string, name: string, index: number | null): Promise<string>;
  listJobs(filter: JobFilter): Promise<JobList>;
  /** Queues one job per device, built and checked as `localdls job add` does. */
  addJob(macs: string[], spec: JobSpec): Promise<AddJobsResult>;
  cancelJob(id: number): Promise<Job>;
  /** Contact-me now, within each phone's contact gap (skipped ones say why and when). */
  contactNow(macs: string[]): Promise<ContactResult[]>;
  listProfiles(): Promise<Profile[]>;
  setProfile(profile: ProfileInput): Promise<Profile>;
  /** Queues a WriteItems of what differs from the profile (with overrides), per device. */
  applyProfile(name: string, macs: string[]): Promise<ProfileApplyResult[]>;
  itemCatalogue(): Promise<CatalogueEntry[]>;
  getSecureStatus(): Promise<SecureStatus>;
  /** Prepares certificates and bootstrap jobs; progress and per-device states arrive as `bootstrap` events. */
  startBootstrap(macs: string[], options: BootstrapOptions): Promise<BootstrapRun>;
  getBootstrapRun(runId: string): Promise<BootstrapRun>;
  /** The PINs of a run as CSV or printable HTML, while the run is under way. */
  bootstrapPinSheet(runId: string, format: 'csv' | 'html'): Promise<FileResult>;
  /**
   * TLS compatibility of a WPI listener: `legacy` adds TLS 1.0/1.1 with RSA key exchange and CBC
   * ciphers for old firmware. Stored, and applied to the running listener without closing its port;
   * the status then shows it.
   */
  setTlsProfile(listener: TlsListener, profile: TlsProfileName): Promise<void>;
}

/** Events: each returns its unsubscribe function. */
export interface LocalDlsEvents {
  /** New exchanges, batched (oldest first). */
  onExchanges(listener: (batch: ExchangeSummary[]) => void): Unsubscribe;
  /** Devices whose record changed (new contact, state, TLS, …). */
  onDevicesChanged(listener: (devices: DeviceView[]) => void): Unsubscribe;
  onStatus(listener: (status: ServiceStatus) => void): Unsubscribe;
  /** Jobs that were added or changed, batched. */
  onJobsChanged(listener: (jobs: Job[]) => void): Unsubscribe;
  /** A bootstrap run moved (prepared one more, a device became secure or failed). */
  onBootstrap(listener: (run: BootstrapRun) => void): Unsubscribe;
}

export type LocalDlsApi = LocalDlsCommands & LocalDlsEvents;

export type ApiMethod = keyof LocalDlsCommands;
export type ApiEvent = 'exchanges' | 'devicesChanged' | 'status' | 'jobsChanged' | 'bootstrap';

export const API_METHODS = [
  'getStatus',
  'listExchanges',
  'getExchange',
  'revealExchangeItem',
  'exportExchanges',
  'clearView',
  'listDevices',
  'getDevice',
  'revealDeviceItem',
  'listJobs',
  'addJob',
  'cancelJob',
  'contactNow',
  'listProfiles',
  'setProfile',
  'applyProfile',
  'itemCatalogue',
  'getSecureStatus',
  'startBootstrap',
  'getBootstrapRun',
  'bootstrapPinSheet',
  'setTlsProfile',
] as const satisfies readonly ApiMethod[];

// Compile-time check that API_METHODS names every command.
type Missing = Exclude<ApiMethod, (typeof API_METHODS)[number]>;
const _allMethodsListed: Missing extends never ? true : never = true;
void _allMethodsListed;

export const API_EVENTS = ['exchanges', 'devicesChanged', 'status', 'jobsChanged', 'bootstrap'] as const satisfies readonly ApiEvent[];
type MissingEvent = Exclude<ApiEvent, (typeof API_EVENTS)[number]>;
const _allEventsListed: MissingEvent extends never ? true : never = true;
void _allEventsListed;

export interface ApiEventPayloads {
  exchanges: ExchangeSummary[];
  devicesChanged: DeviceView[];
  status: ServiceStatus;
  jobsChanged: Job[];
  bootstrap: BootstrapRun;
}

/** The subscribe method of each event, for transports that forward them all. */
export const EVENT_SUBSCRIBERS = {
  exchanges: 'onExchanges',
  devicesChanged: 'onDevicesChanged',
  status: 'onStatus',
  jobsChanged: 'onJobsChanged',
  bootstrap: 'onBootstrap',
} as const satisfies { [E in ApiEvent]: keyof LocalDlsEvents };

/** Subscribes to one event by name (IPC and the WebSocket bridge forward every event this way). */
export function subscribeEvent<E extends ApiEvent>(api: LocalDlsEvents, event: E, listener: (payload: ApiEventPayloads[E]) => void): Unsubscribe {
  const subscribe = api[EVENT_SUBSCRIBERS[event]] as (l: (payload: ApiEventPayloads[E]) => void) => Unsubscribe;
  return subscribe.call(api, listener);
}

export function isApiMethod(name: unknown): name is ApiMethod {
  return typeof name === 'string' && (API_METHODS as readonly string[]).includes(name);
}

// ---------------------------------------------------------------------------------------------
// Validation

export const LIMITS = {
  pageSize: 5000,
  exportIds: 5000,
  text: 200,
  field: 64,
  mac: 32,
  itemName: 128,
  itemValue: 16 * 1024,
  items: 1000,
  macs: 2000,
  url: 2048,
  jobs: 5000,
} as const;

export type ApiErrorCode = 'bad-argument' | 'not-found' | 'conflict' | 'too-large' | 'unavailable' | 'internal';

/** An error every transport carries across as {code, message}, so the UI can say what happened. */
export class ApiError extends Error {
  override readonly name: string = 'ApiError';
  constructor(
    readonly code: ApiErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** A call the API refuses because of its arguments; the message says which and why. */
export class ApiArgumentError extends ApiError {
  override readonly name = 'ApiArgumentError';
  constructor(message: string) {
    super('bad-argument', message);
  }
}

/** How an error crosses a transport. Internal errors keep their message (a local, trusted user). */
export function toWireError(e: unknown): { code: ApiErrorCode; message: string } {
  if (e instanceof ApiError) return { code: e.code, message: e.message };
  return { code: 'internal', message: e instanceof Error ? e.message : String(e) };
}

export function fromWireError(w: unknown): ApiError {
  const r = (typeof w === 'object' && w !== null ? w : {}) as { code?: unknown; message?: unknown };
  const codes: ApiErrorCode[] = ['bad-argument', 'not-found', 'conflict', 'too-large', 'unavailable', 'internal'];
  const code = codes.includes(r.code as ApiErrorCode) ? (r.code as ApiErrorCode) : 'internal';
  return new ApiError(code, typeof r.message === 'string' ? r.message : 'the call failed');
}

export const LISTENER_KINDS = ['default', 'secure', 'dcmp', 'contact-me'] as const satisfies readonly ListenerKind[];
export const EXCHANGE_KINDS = ['wpi', 'tls-failure', 'contact-me', 'dcmp'] as const satisfies readonly ExchangeKind[];
// Compile-time checks that the lists above name every kind the model knows.
const _allListeners: Exclude<ListenerKind, (typeof LISTENER_KINDS)[number]> extends never ? true : never = true;
const _allKinds: Exclude<ExchangeKind, (typeof EXCHANGE_KINDS)[number]> extends never ? true : never = true;
void _allListeners;
void _allKinds;
const LISTENERS: readonly string[] = LISTENER_KINDS;
const KINDS: readonly string[] = EXCHANGE_KINDS;

function fail(what: string, rule: string): never {
  throw new ApiArgumentError(`${what} ${rule}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function id(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(what, 'must be a whole number ≥ 0');
  return v;
}

function str(v: unknown, what: string, max: number): string {
  if (typeof v !== 'string') fail(what, 'must be a string');
  if (v.length > max) fail(what, `must be at most ${max} characters`);
  return v;
}

function only(v: Record<string, unknown>, what: string, keys: readonly string[]): void {
  for (const k of Object.keys(v)) if (!keys.includes(k)) fail(what, `has an unknown field "${k.slice(0, 40)}"`);
}

function optional<T>(v: unknown, check: (x: unknown) => T): T | undefined {
  return v === undefined || v === null ? undefined : check(v);
}

export function validateFilter(v: unknown): ExchangeFilter {
  if (!isRecord(v)) fail('filter', 'must be an object');
  only(v, 'filter', ['device', 'reason', 'action', 'status', 'listener', 'kind', 'errorsOnly', 'text', 'interactionId', 'sinceId']);
  const f: ExchangeFilter = {};
  const text = (key: keyof ExchangeFilter, max: number) => {
    const s = optional(v[key], (x) => str(x, `filter.${key}`, max).trim());
    if (s) (f as Record<string, unknown>)[key] = s;
  };
  text('device', LIMITS.field);
  text('reason', LIMITS.field);
  text('action', LIMITS.field);
  text('status', LIMITS.field);
  text('text', LIMITS.text);
  const listener = optional(v.listener, (x) => x);
  if (listener !== undefined) {
    if (!LISTENERS.includes(listener as string)) fail('filter.listener', `must be one of ${LISTENERS.join(', ')}`);
    f.listener = listener as ListenerKind;
  }
  const kind = optional(v.kind, (x) => x);
  if (kind !== undefined) {
    if (!KINDS.includes(kind as string)) fail('filter.kind', `must be one of ${KINDS.join(', ')}`);
    f.kind = kind as ExchangeKind;
  }
  const errorsOnly = optional(v.errorsOnly, (x) => x);
  if (errorsOnly !== undefined) {
    if (typeof errorsOnly !== 'boolean') fail('filter.errorsOnly', 'must be true or false');
    if (errorsOnly) f.errorsOnly = true;
  }
  const interactionId = optional(v.interactionId, (x) => id(x, 'filter.interactionId'));
  if (interactionId !== undefined) f.interactionId = interactionId;
  const sinceId = optional(v.sinceId, (x) => id(x, 'filter.sinceId'));
  if (sinceId !== undefined) f.sinceId = sinceId;
  return f;
}

export function validatePage(v: unknown): ExchangePage {
  if (!isRecord(v)) fail('page', 'must be an object');
  only(v, 'page', ['limit', 'beforeId', 'afterId', 'counts']);
  const limit = id(v.limit, 'page.limit');
  if (limit < 1 || limit > LIMITS.pageSize) fail('page.limit', `must be from 1 to ${LIMITS.pageSize}`);
  const page: ExchangePage = { limit };
  const beforeId = optional(v.beforeId, (x) => id(x, 'page.beforeId'));
  const afterId = optional(v.afterId, (x) => id(x, 'page.afterId'));
  if (beforeId !== undefined && afterId !== undefined) fail('page', 'takes beforeId or afterId, not both');
  if (beforeId !== undefined) page.beforeId = beforeId;
  if (afterId !== undefined) page.afterId = afterId;
  if (v.counts !== undefined) {
    if (typeof v.counts !== 'boolean') fail('page.counts', 'must be true or false');
    page.counts = v.counts;
  }
  return page;
}

function mac(v: unknown, what = 'mac'): string {
  const s = str(v, what, LIMITS.mac).trim();
  if (!/^[0-9A-Fa-f]{2}([:-]?[0-9A-Fa-f]{2}){5}$/.test(s)) fail(what, `"${s}" is not a MAC address (e.g. 00:1A:E8:00:00:01)`);
  return s.replace(/[:-]/g, '').toUpperCase().replace(/(..)(?!$)/g, '$1:');
}

/** A list of devices: at least one, no duplicates (kept in the order given). */
function macList(v: unknown, what = 'macs'): string[] {
  if (!Array.isArray(v)) fail(what, 'must be a list of MAC addresses');
  if (v.length === 0) fail(what, 'must name at least one device');
  if (v.length > LIMITS.macs) fail(what, `may name at most ${LIMITS.macs} devices`);
  return [...new Set(v.map((x, i) => mac(x, `${what}[${i}]`)))];
}

function list<T>(v: unknown, what: string, max: number, each: (x: unknown, what: string) => T): T[] {
  if (!Array.isArray(v)) fail(what, 'must be a list');
  if (v.length > max) fail(what, `may hold at most ${max} entries`);
  return v.map((x, i) => each(x, `${what}[${i}]`));
}

/** Item names as the phones use them (`function-key-def`, `sntp-addr`, …). */
export const ITEM_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_.-]*$/;
/** Largest item index accepted (the CLI's name[index] takes up to 6 digits). */
export const MAX_ITEM_INDEX = 999_999;

function item(v: unknown, what: string, needValue: true): ItemValue;
function item(v: unknown, what: string, needValue: false): ItemRef;
function item(v: unknown, what: string, needValue: boolean): ItemValue | ItemRef {
  if (!isRecord(v)) fail(what, needValue ? 'must be an item {name, index?, value}' : 'must be an item {name, index?}');
  if (!needValue && v.value !== undefined) fail(what, 'a read names items without values');
  only(v, what, needValue ? ['name', 'index', 'value'] : ['name', 'index']);
  const name = str(v.name, `${what}.name`, LIMITS.itemName).trim();
  if (!ITEM_NAME_PATTERN.test(name)) fail(`${what}.name`, `"${name}" is not an item name (a letter, then letters, digits, - _ .)`);
  const index = optional(v.index, (x) => id(x, `${what}.index`));
  if (index !== undefined && index > MAX_ITEM_INDEX) fail(`${what}.index`, `must be from 0 to ${MAX_ITEM_INDEX}`);
  const out: ItemValue | ItemRef = needValue ? { name, value: str(v.value, `${what}.value`, LIMITS.itemValue) } : { name };
  if (index !== undefined) out.index = index;
  return out;
}

function items<N extends boolean>(v: unknown, what: string, needValue: N): N extends true ? ItemValue[] : ItemRef[] {
  const out = list(v, what, LIMITS.items, (x, w) => (needValue ? item(x, w, true) : item(x, w, false)));
  if (out.length === 0) fail(what, needValue ? 'must hold at least one item to write' : 'must name at least one item to read');
  return out as N extends true ? ItemValue[] : ItemRef[];
}

function oneOf<T extends string>(v: unknown, what: string, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !allowed.includes(v as T)) fail(what, `must be one of ${allowed.join(', ')}`);
  return v as T;
}

function optionalText(v: unknown, what: string, max: number): string | undefined {
  const s = optional(v, (x) => str(x, what, max).trim());
  return s ? s : undefined;
}

export function validateJobSpec(v: unknown): JobSpec {
  if (!isRecord(v)) fail('spec', 'must be an object with a kind');
  const kind = oneOf(v.kind, 'spec.kind', JOB_SPEC_KINDS);
  switch (kind) {
    case 'write':
      only(v, 'spec', ['kind', 'items']);
      return { kind, items: items(v.items, 'spec.items', true) };
    case 'read':
      only(v, 'spec', ['kind', 'items']);
      return { kind, items: items(v.items, 'spec.items', false) };
    case 'read-all':
    case 'restart':
    case 'factory-reset':
      only(v, 'spec', ['kind']);
      return { kind };
    case 'file': {
      only(v, 'spec', ['kind', 'fileType', 'urls', 'deletes']);
      const spec: JobSpec = { kind, urls: list(v.urls ?? [], 'spec.urls', 20, (x, w) => str(x, w, LIMITS.url).trim()) };
      const fileType = optionalText(v.fileType, 'spec.fileType', LIMITS.field);
      if (fileType) spec.fileType = fileType;
      if (v.deletes !== undefined && v.deletes !== null) {
        spec.deletes = list(v.deletes, 'spec.deletes', 20, (x, w) => {
          if (!isRecord(x)) fail(w, 'must be {name, type}');
          only(x, w, ['name', 'type']);
          const name = str(x.name, `${w}.name`, 255).trim();
          const type = str(x.type, `${w}.type`, LIMITS.field).trim();
          if (!name || !type) fail(w, 'needs a file name and a file type, e.g. logo.png and LOGO');
          return { name, type };
        });
      }
      return spec;
    }
    case 'firmware': {
      only(v, 'spec', ['kind', 'version', 'url', 'swType', 'priority']);
      const spec: JobSpec = { kind, version: str(v.version, 'spec.version', LIMITS.field).trim(), url: str(v.url, 'spec.url', LIMITS.url).trim() };
      const swType = optionalText(v.swType, 'spec.swType', LIMITS.field);
      if (swType) spec.swType = swType;
      if (v.priority !== undefined && v.priority !== null) spec.priority = oneOf(v.priority, 'spec.priority', ['normal', 'immediate'] as const);
      return spec;
    }
  }
}

export function validateJobFilter(v: unknown): JobFilter {
  if (!isRecord(v)) fail('filter', 'must be an object');
  only(v, 'filter', ['mac', 'states', 'kinds', 'limit']);
  const f: JobFilter = {};
  const m = optional(v.mac, (x) => (typeof x === 'string' && x.trim() === '' ? undefined : mac(x, 'filter.mac')));
  if (m) f.mac = m;
  if (v.states !== undefined && v.states !== null) {
    const states = list(v.states, 'filter.states', JOB_STATES.length, (x, w) => oneOf(x, w, JOB_STATES));
    if (states.length) f.states = [...new Set(states)];
  }
  if (v.kinds !== undefined && v.kinds !== null) {
    const kinds = list(v.kinds, 'filter.kinds', JOB_KINDS.length, (x, w) => oneOf(x, w, JOB_KINDS));
    if (kinds.length) f.kinds = [...new Set(kinds)];
  }
  const limit = optional(v.limit, (x) => id(x, 'filter.limit'));
  if (limit !== undefined) {
    if (limit < 1 || limit > LIMITS.jobs) fail('filter.limit', `must be from 1 to ${LIMITS.jobs}`);
    f.limit = limit;
  }
  return f;
}

export const PROFILE_NAME_PATTERN = /^[\w.-]{1,64}$/;

export function validateProfileInput(v: unknown): ProfileInput {
  if (!isRecord(v)) fail('profile', 'must be an object');
  only(v, 'profile', ['name', 'deviceType', 'matchMac', 'matchE164', 'items']);
  const name = str(v.name, 'profile.name', LIMITS.field).trim();
  if (!PROFILE_NAME_PATTERN.test(name)) fail('profile.name', 'must be letters, digits, . _ - (up to 64)');
  return {
    name,
    deviceType: optionalText(v.deviceType, 'profile.deviceType', LIMITS.field) ?? null,
    matchMac: optionalText(v.matchMac, 'profile.matchMac', LIMITS.field) ?? null,
    matchE164: optionalText(v.matchE164, 'profile.matchE164', LIMITS.field) ?? null,
    items: items(v.items, 'profile.items', true),
  };
}

export function validateBootstrapOptions(v: unknown): BootstrapOptions {
  if (!isRecord(v)) fail('options', 'must be an object {pin, maxPinRetries}');
  only(v, 'options', ['pin', 'maxPinRetries', 'pinDigits']);
  const pin = str(v.pin, 'options.pin', 16).trim();
  if (pin !== 'none' && pin !== 'auto' && !/^\d{6,16}$/.test(pin)) fail('options.pin', 'must be "none", "auto" or a PIN of 6 to 16 digits');
  const retries = id(v.maxPinRetries, 'options.maxPinRetries');
  if (retries < 1 || retries > 10) fail('options.maxPinRetries', 'must be from 1 to 10');
  const options: BootstrapOptions = { pin, maxPinRetries: retries };
  const digits = optional(v.pinDigits, (x) => id(x, 'options.pinDigits'));
  if (digits !== undefined) {
    if (digits < 6 || digits > 16) fail('options.pinDigits', 'must be from 6 to 16');
    options.pinDigits = digits;
  }
  return options;
}

function runId(v: unknown): string {
  const s = str(v, 'runId', LIMITS.field);
  if (!/^[A-Za-z0-9_-]+$/.test(s)) fail('runId', 'is not a bootstrap run id');
  return s;
}

function noArgs(args: unknown[]): [] {
  if (args.length !== 0) fail('this call', 'takes no arguments');
  return [];
}

function arity(args: unknown[], n: number): void {
  if (args.length !== n) fail('this call', `takes ${n} argument${n === 1 ? '' : 's'}, not ${args.length}`);
}

const VALIDATORS: { [M in ApiMethod]: (args: unknown[]) => Parameters<LocalDlsCommands[M]> } = {
  getStatus: noArgs,
  listExchanges: (a) => {
    arity(a, 2);
    return [validateFilter(a[0]), validatePage(a[1])];
  },
  getExchange: (a) => {
    arity(a, 1);
    return [id(a[0], 'id')];
  },
  revealExchangeItem: (a) => {
    arity(a, 3);
    if (a[1] !== 'request' && a[1] !== 'response') fail('side', 'must be "request" or "response"');
    return [id(a[0], 'id'), a[1], id(a[2], 'position')];
  },
  exportExchanges: (a) => {
    arity(a, 2);
    if (!Array.isArray(a[0])) fail('ids', 'must be a list of exchange ids');
    if (a[0].length === 0) fail('ids', 'must name at least one exchange');
    if (a[0].length > LIMITS.exportIds) fail('ids', `may name at most ${LIMITS.exportIds} exchanges`);
    const ids = a[0].map((x, i) => id(x, `ids[${i}]`));
    if (a[1] !== 'json' && a[1] !== 'har') fail('format', 'must be "json" or "har"');
    return [ids, a[1]];
  },
  clearView: noArgs,
  listDevices: noArgs,
  getDevice: (a) => {
    arity(a, 1);
    return [mac(a[0])];
  },
  revealDeviceItem: (a) => {
    arity(a, 3);
    const name = str(a[1], 'name', LIMITS.itemName);
    const index = a[2] === null ? null : id(a[2], 'index');
    return [mac(a[0]), name, index];
  },
  listJobs: (a) => {
    arity(a, 1);
    return [validateJobFilter(a[0])];
  },
  addJob: (a) => {
    arity(a, 2);
    return [macList(a[0]), validateJobSpec(a[1])];
  },
  cancelJob: (a) => {
    arity(a, 1);
    return [id(a[0], 'id')];
  },
  contactNow: (a) => {
    arity(a, 1);
    return [macList(a[0])];
  },
  listProfiles: noArgs,
  setProfile: (a) => {
    arity(a, 1);
    return [validateProfileInput(a[0])];
  },
  applyProfile: (a) => {
    arity(a, 2);
    const name = str(a[0], 'name', LIMITS.field).trim();
    if (!PROFILE_NAME_PATTERN.test(name)) fail('name', 'is not a profile name (letters, digits, . _ -, up to 64)');
    return [name, macList(a[1])];
  },
  itemCatalogue: noArgs,
  getSecureStatus: noArgs,
  startBootstrap: (a) => {
    arity(a, 2);
    return [macList(a[0]), validateBootstrapOptions(a[1])];
  },
  getBootstrapRun: (a) => {
    arity(a, 1);
    return [runId(a[0])];
  },
  bootstrapPinSheet: (a) => {
    arity(a, 2);
    return [runId(a[0]), oneOf(a[1], 'format', ['csv', 'html'] as const)];
  },
  setTlsProfile: (a) => {
    arity(a, 2);
    return [oneOf(a[0], 'listener', TLS_LISTENERS), oneOf(a[1], 'profile', TLS_PROFILE_NAMES)];
  },
};

/** Checks and normalises a call's arguments; throws ApiArgumentError with a clear message. */
export function validateArgs<M extends ApiMethod>(method: M, args: unknown[]): Parameters<LocalDlsCommands[M]> {
  if (!isApiMethod(method)) throw new ApiArgumentError(`unknown method "${String(method).slice(0, 40)}"`);
  try {
    return VALIDATORS[method](args) as Parameters<LocalDlsCommands[M]>;
  } catch (e) {
    if (e instanceof ApiArgumentError) throw new ApiArgumentError(`${method}: ${e.message}`);
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// The web UI's WebSocket wire format (one JSON text message each)

export const WS_PATH = '/api';
/** Largest request a client may send; bigger ones close the socket (1009). */
export const WS_MAX_REQUEST_BYTES = 64 * 1024;

export interface WireRequest {
  id: number;
  method: string;
  args: unknown[];
}

export type WireResponse =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: { code: ApiErrorCode; message: string } };

/** `resync`: events were dropped for a slow client; reload what is shown. */
export type WireEvent = { event: ApiEvent; data: unknown } | { event: 'resync' };

// ---------------------------------------------------------------------------------------------
// Electron IPC channel names (preload and src/main/ipc.ts)

export const ipcChannel = (method: ApiMethod) => `localdls:${method}`;
export const ipcEventChannel = (event: ApiEvent) => `localdls:event:${event}`;

/** How a result crosses IPC: an envelope, so the API's error code and message arrive intact. */
export type IpcEnvelope = { ok: true; result: unknown } | { ok: false; error: { code: ApiErrorCode; message: string } };
