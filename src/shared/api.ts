/**
 * The one API contract between the service and every UI: the Electron preload (IPC), the web UI
 * bridge (WebSocket) and the renderer's test fake all implement or consume `LocalDlsApi`.
 * Only plain serialisable values cross it. The arguments' types come from the schemas in
 * schemas.ts; API_ARGS (api-args.ts) names each call's arguments and their schema, and the command
 * layer (src/main/commands) validates with them, so every front end refuses the same inputs with
 * the same words. This module imports no schema library at run time (the sandboxed preload uses it).
 */
import type { CertificateSummary, Device, ExchangeSummary, Interaction, ItemValue, Job, JobKind, JobState, ListenerKind, Profile } from './model';
import type {
  BootstrapOptions,
  ExchangeFilter,
  ExchangePage,
  ExportFormat,
  JobFilter,
  JobSpec,
  ProfileInput,
  TlsListener,
  TlsProfileName,
  UpstreamSettingInput,
} from './schemas';

export { EXCHANGE_KINDS, FILE_TYPES, ITEM_NAME_PATTERN, JOB_SPEC_KINDS, LIMITS, LISTENER_KINDS, MAX_ITEM_INDEX, PROFILE_NAME_PATTERN, TLS_LISTENERS, TLS_PROFILE_NAMES } from './constants';
export type {
  BootstrapOptions,
  ExchangeFilter,
  ExchangePage,
  ExportFormat,
  FileDelete,
  ItemRef,
  JobFilter,
  JobSpec,
  JobSpecKind,
  ProfileInput,
  TlsListener,
  TlsProfileName,
  UpstreamSettingInput,
} from './schemas';

// ---------------------------------------------------------------------------------------------
// Values

export interface ExchangeList {
  /** Oldest first. */
  exchanges: ExchangeSummary[];
  /** Rows matching the filter (null when counts were not asked for). */
  matched: number | null;
  /**
   * `matched` is a lower bound ("500+"): free text counts its matches only so far
   * (store/exchange-filter.ts).
   */
  matchedAtLeast?: boolean;
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
  /** A secret LocalDLS never keeps (a phone's private key, the PIN's TAN): nothing to reveal. */
  notStored?: true;
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
  /** The body holds NUL bytes (UTF-16, say): no mask can be trusted on it, so `text` is empty (shared/body-text.ts). */
  withheld: boolean;
  isXml: boolean;
  /** Where the XML is not well-formed (the service's own parser, saxes), else null. */
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
  /** The certificate the client presented (secure port), else null. */
  clientCertificate: CertificateSummary | null;
}

/**
 * Relay mode: the upstream DLS's side of a relayed exchange, kept apart from the phone's side
 * (`summary` and `tls` are what the phone saw of LocalDLS).
 */
export interface UpstreamView {
  /** https://host:port the request went to. */
  url: string;
  started: number;
  /** TLS handshake done; null when an open keep-alive connection was reused. */
  connected: number | null;
  /** The upstream's answer began (null: none came). */
  firstByte: number | null;
  ended: number;
  /** The upstream's HTTP status; null when it gave no answer (`error` says why). */
  httpStatus: number | null;
  reused: boolean;
  tlsProtocol: string | null;
  tlsCipher: string | null;
  /** SHA-256 of the upstream's certificate. */
  fingerprint: string | null;
  subject: string | null;
  /** How its certificate was accepted: the CA given, or an accepted fingerprint. */
  trustedBy: 'ca' | 'fingerprint' | null;
  failure: 'unreachable' | 'timeout' | 'certificate' | 'too-large' | 'protocol' | 'not-relayed' | null;
  error: string | null;
  /**
   * The request's header pairs as LocalDLS wrote them to the upstream (its Via, Host, Connection
   * and Content-Length, not the phone's), credentials masked; null when no request was written (no
   * connection, a refused certificate) or the row is older than this record (schema 26).
   */
  requestHeaders: [string, string][] | null;
  /** The answer's header pairs as the upstream wrote them, hop-by-hop ones included (also of an answer not passed on: too large, cut off, not writable); null without an answer. */
  responseHeaders: [string, string][] | null;
  /** False for an exchange relayed by a LocalDLS before it recorded the headers (schema 26): null then says nothing. */
  headersRecorded: boolean;
}

export interface ExchangeDetail {
  summary: ExchangeSummary;
  request: MessageView;
  response: MessageView;
  tls: TlsView;
  /** Relayed exchanges: the upstream's side (absent or null for LocalDLS's own traffic). */
  upstream?: UpstreamView | null;
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

/** Relay mode: LocalDLS passes every phone request on to the site's DLS and answers nothing itself. */
export interface RelayStatus {
  /** https://host:port of the upstream DLS. */
  upstream: string;
  /** How its certificate is checked: a CA file, accepted fingerprints, or both. */
  ca: boolean;
  fingerprints: string[];
}

/** The stored relay choice, fingerprints normalised (AB:CD:…). */
export interface UpstreamSettingView {
  url: string;
  caFile: string | null;
  fingerprints: string[];
}

export interface ServiceStatus {
  version: string;
  dataDir: string;
  listeners: ListenerStatus[];
  /** Present and not null while the service relays to an upstream DLS. */
  relay?: RelayStatus | null;
  /** The upstream chosen in the app's settings, used from the next start (null: none). */
  upstreamSetting?: UpstreamSettingView | null;
  /** This machine's non-internal addresses: what a phone can be pointed at. */
  addresses: HostAddress[];
  deviceCount: number;
  exchangeCount: number;
  now: number;
  /** The TLS key log the service writes now (null: off; absent: a front end without one). */
  tlsKeyLog?: TlsKeyLogStatus | null;
}

export interface TlsKeyLogStatus {
  /** The file the TLS secrets are appended to. */
  path: string;
  /** 'start': with the service (serve --tls-keylog); 'ui': switched on from a UI in this run. */
  startedBy: 'start' | 'ui';
}

export interface ExportResult {
  filename: string;
  mimeType: string;
  /** The file's content (UTF-8), secrets masked. */
  content: string;
  /** Exchanges in the file, failed TLS handshakes included. */
  count: number;
  /**
   * Of `count`, the failed TLS handshakes: HAR has no place for a request that never happened,
   * so a HAR file holds them in log._tlsErrors, not in log.entries (JSON lists them with the rest).
   */
  tlsFailures: number;
}

// --- jobs, profiles, contact-me, Secure Mode -------------------------------------------------

export interface JobList {
  /** Newest first; secret item values masked. */
  jobs: Job[];
  /** Jobs matching the filter, however many were returned. */
  matched: number;
}

export interface AddJobsResult {
  /** One per device, in the order given; item values masked. */
  jobs: Job[];
  /** Worth knowing but not wrong, e.g. items not in the catalogue. */
  notes: string[];
  /** Devices that got no job: the same one waits for them already (not gone out yet), with its id. */
  same: { mac: string; jobId: number }[];
}

export interface ContactResult {
  mac: string;
  /** The phone answered and will call back. */
  ok: boolean;
  /** Not sent (contact gap, no contact-me URI, …): why, in English and as a key for the UI's language. */
  skipped?: string;
  skip?: Skip;
  /** When a contact-me may go to this phone again (ms). */
  nextAt?: number;
  /** Sent, but the phone did not answer as it should. */
  error?: string;
  /** Failed contact-me requests to this phone in a row, this one included. */
  failures?: number;
  /** Its waiting jobs that failed now because the phone could not be reached. */
  failedJobs?: number[];
}

export interface ProfileApplyResult {
  mac: string;
  /** The WriteItems queued, or null when nothing differs or the device was skipped. */
  jobId: number | null;
  /**
   * Items that differ from what the phone last reported and the queued job writes (those a
   * WriteItems still waiting for the phone writes already are left out); with `skipped`, all that differ.
   */
  differs: number;
  /** Why the device was skipped, in English and as a key for the UI's language. */
  skipped?: string;
  skip?: Skip;
}

export type { CatalogueEntry } from './catalogue';
import type { Skip } from './skip-reasons';
import type { CatalogueEntry } from './catalogue';

export interface SecureStatus {
  /** Secure Mode is on: the CA is open and the mutual-TLS listener runs. */
  on: boolean;
  /** Why it is off, and what to do (null when on). */
  reason: string | null;
  /** Off because the service relays to this DLS (its Secure-Mode phones talk to it directly); else absent. */
  relaying?: string;
  /** The port Secure-Mode phones use. */
  securePort: number | null;
  ca: { subject: string; fingerprint: string; notAfter: number; imported: boolean } | null;
  /** Which key protector seals the keys ("passphrase", "safeStorage"). */
  protector: string | null;
  /**
   * Device keys made ahead while the service is idle (docs/pki.md "Key pool"): `ready` of at most
   * `size` (0: the pool is off, LOCALDLS_KEY_POOL_SIZE=0). Null while Secure Mode is off.
   */
  keyPool: KeyPoolStatus | null;
}

export interface KeyPoolStatus {
  ready: number;
  size: number;
}

/** cancelled: its job was cancelled (the run was cancelled, or the job from elsewhere) or it was never prepared. */
export type BootstrapDeviceState = 'preparing' | 'pending' | 'secure' | 'failed' | 'cancelled';

export interface BootstrapDevice {
  mac: string;
  e164: string | null;
  jobId: number | null;
  state: BootstrapDeviceState;
  /** The bootstrap job's state while pending (sent = the phone has it, and must come back on the secure port). */
  jobState: JobState | null;
  /** The job's error when failed; while waiting, why (busy, contact-me failed). */
  error: string | null;
  /** This phone has a PIN (on the sheet). */
  hasPin: boolean;
}

/** One bootstrap started from the UI, as it moves. PINs never travel in it: only in the PIN sheet. */
export interface BootstrapRun {
  id: string;
  started: number;
  /** The run as a rollout (`j<started>-Bootstrap`): its jobs, kept after the service stops. */
  rolloutId: string;
  pin: 'none' | 'auto' | 'given';
  total: number;
  /** Devices whose certificate and job are ready. */
  prepared: number;
  /** Preparation stopped with this error (devices not prepared are failed with it). */
  error: string | null;
  /** Every device is secure, failed or cancelled. */
  finished: boolean;
  /**
   * The PIN sheet can be fetched: every phone of the run is prepared (or preparation stopped
   * because the run was cancelled), and PINs are forgotten when the run finishes.
   */
  pinsAvailable: boolean;
  /** The run was cancelled: when and why (from the run view, or its jobs were cancelled elsewhere); null while not. */
  cancelled: { at: number; why: string } | null;
  devices: BootstrapDevice[];
}

// --- the inspector: ladders, timelines, rollouts ----------------------------------------------

/** One interaction as a sequence of messages (phone <-> LocalDLS), for the ladder view. */
export interface InteractionLadder {
  interaction: Interaction;
  /** Its exchanges, first message to CleanUp (at most 500), oldest first. */
  exchanges: ExchangeSummary[];
  /** The device's jobs sent or finished during this interaction (items masked): a failed one marks its exchange. */
  jobs: Job[];
  /** The device's interactions just before and after this one (null: none), to step through. */
  previousId: number | null;
  nextId: number | null;
  /** Relay mode: the upstream DLS that answered (its URL), when the interaction was relayed; else null. */
  relayedTo?: string | null;
}

/** One item value that changed, old -> new; secret values masked. */
export interface ItemChangeView {
  name: string;
  index: number | null;
  /** null: the item was new. */
  oldValue: string | null;
  /** null: the item disappeared (a complete read without it). */
  newValue: string | null;
  secret: boolean;
  /** Set on the row that stands for the phone's first complete read: how many items it brought (not listed one by one). */
  firstRead?: number;
}

export type TimelineEntry =
  | { kind: 'interaction'; at: number; interaction: Interaction; exchanges: number; errors: number; changes: ItemChangeView[] }
  | { kind: 'job'; at: number; event: 'queued' | 'finished'; job: Job }
  | { kind: 'exchange'; at: number; exchange: ExchangeSummary }
  | { kind: 'items'; at: number; exchangeId: number | null; changes: ItemChangeView[] };

/** Everything that happened to one phone, newest first. */
export interface DeviceTimeline {
  mac: string;
  entries: TimelineEntry[];
  /** Entries were left out beyond the limits (older history exists). */
  truncated: boolean;
}

export const ROLLOUT_PHASES = ['queued', 'contacted', 'pin', 'busy', 'done', 'failed', 'unreachable', 'cancelled'] as const;
/**
 * Where one phone of a rollout stands: queued (nothing sent yet; in a bootstrap run also while its
 * certificate is being made), contacted (contact-me sent, or the job is on its way), pin (a PIN
 * bootstrap the phone took: it waits for someone to type the PIN), busy (in a call: waits), done
 * (for a bootstrap: secure), failed, unreachable (contact-me failed:
 * still pending, the job waits for the phone, with the reason), cancelled (by hand or with its
 * run: not a failure). Finished: every phone done, failed or cancelled.
 */
export type RolloutPhase = (typeof ROLLOUT_PHASES)[number];

export interface RolloutDevice {
  mac: string;
  e164: string | null;
  jobId: number | null;
  jobState: JobState | null;
  phase: RolloutPhase;
  /** Why it failed or cannot be reached. */
  error: string | null;
  /** The interaction to open its ladder at (the newest since the rollout started), if any. */
  interactionId: number | null;
  /**
   * A failed phone whose job was queued again since (a retry from the CLI, another window, or the
   * same job by hand), while that job has not failed or been cancelled: "Retry failed" leaves it alone.
   */
  retriedBy: { jobId: number; rolloutId: string } | null;
}

export interface RolloutSummary {
  /**
   * `j<moment>-<kind>`: the jobs queued together share the moment claimed for them (their
   * creation time, or the next free millisecond when another rollout of that kind has it), a
   * bootstrap run's jobs the moment the run was started (so it is found again after a restart). `b-<run id>` (a
   * run of the running service) is also accepted and opens the run's `j…-Bootstrap` rollout.
   */
  id: string;
  kind: 'jobs' | 'bootstrap';
  /** The job kind (WriteItems, Restart, …, Bootstrap). */
  jobKind: JobKind;
  started: number;
  total: number;
  counts: Record<RolloutPhase, number>;
  /** Every phone is done or failed. */
  finished: boolean;
}

export interface Rollout extends RolloutSummary {
  devices: RolloutDevice[];
}

/** The known reasons a failed phone is not retried. */
export type RetrySkipKey = 'pinByHand' | 'removed' | 'secureNow' | 'cancelled' | 'sealed';

export interface RetryResult {
  /** The rollout the retries form (their own, new one), or null when nothing was retried. */
  rolloutId: string | null;
  retried: number;
  /**
   * Failed phones not retried, and why; `retriedBy`: the job that already does it again; `key`: the
   * reason as the UI says it in its language (rollout.json `skip.*`), where it is one of the known ones.
   */
  skipped: { mac: string; reason: string; retriedBy?: number; key?: RetrySkipKey }[];
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
  /** A device's overrides (its own values, laid over every profile applied to it), secrets masked. */
  getOverrides(mac: string): Promise<ItemValue[]>;
  /** Adds or replaces overrides of a device (the same name and index replaced); held to the write rules. Returns how many were set. */
  setOverrides(mac: string, items: ItemValue[]): Promise<number>;
  /** Removes the named overrides of a device, or every one (null). Returns how many went. */
  clearOverrides(mac: string, items: { name: string; index?: number }[] | null): Promise<number>;
  itemCatalogue(): Promise<CatalogueEntry[]>;
  getSecureStatus(): Promise<SecureStatus>;
  /** Prepares certificates and bootstrap jobs; progress and per-device states arrive as `bootstrap` events. */
  startBootstrap(macs: string[], options: BootstrapOptions): Promise<BootstrapRun>;
  getBootstrapRun(runId: string): Promise<BootstrapRun>;
  /** The PINs of a run as CSV or printable HTML, while the run is under way. */
  bootstrapPinSheet(runId: string, format: 'csv' | 'html'): Promise<FileResult>;
  /**
   * Cancels a run: no further phone is prepared, its jobs not yet sent are cancelled, phones whose
   * bootstrap was already sent keep being followed. Cancelling a cancelled run returns it as it is.
   */
  cancelBootstrapRun(runId: string): Promise<BootstrapRun>;
  /**
   * TLS compatibility of a WPI listener: `legacy` adds TLS 1.0/1.1 with RSA key exchange and CBC
   * ciphers for old firmware. Stored, and applied to the running listener without closing its port;
   * the status then shows it.
   */
  setTlsProfile(listener: TlsListener, profile: TlsProfileName): Promise<void>;
  /**
   * Relay mode (docs/relay.md): the upstream DLS to pass phone requests on to, checked (URL, CA
   * file, fingerprints) and stored; null turns relay mode off. Applies at the service's next start.
   */
  setUpstream(setting: UpstreamSettingInput): Promise<UpstreamSettingView | null>;
  /** Every exchange a filter selects (the same filter as listExchanges), as HAR or JSON; refused over the export limits. */
  exportTraffic(filter: ExchangeFilter, format: ExportFormat): Promise<ExportResult>;
  getInteraction(id: number): Promise<InteractionLadder>;
  getDeviceTimeline(mac: string): Promise<DeviceTimeline>;
  /** Bulk jobs and bootstrap runs, newest first. */
  listRollouts(): Promise<RolloutSummary[]>;
  getRollout(id: string): Promise<Rollout>;
  /** Queues the failed jobs of a rollout again (a rollout of their own). */
  retryFailed(id: string): Promise<RetryResult>;
  /**
   * The TLS key log of the running service (NSS format, for Wireshark): a file name starts it, null
   * stops it. For this run only, never stored.
   */
  setTlsKeyLog(path: string | null): Promise<{ path: string | null }>;
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
  'getOverrides',
  'setOverrides',
  'clearOverrides',
  'itemCatalogue',
  'getSecureStatus',
  'startBootstrap',
  'getBootstrapRun',
  'bootstrapPinSheet',
  'cancelBootstrapRun',
  'setTlsProfile',
  'setUpstream',
  'exportTraffic',
  'getInteraction',
  'getDeviceTimeline',
  'listRollouts',
  'getRollout',
  'retryFailed',
  'setTlsKeyLog',
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

export type ApiErrorCode = 'bad-argument' | 'not-found' | 'conflict' | 'too-large' | 'unavailable' | 'internal';

/**
 * A service message the UI can show in its own language: a stable key (the `errors` namespace of
 * the renderer's translations) and the values it names. The English `message` stays the truth for
 * the CLI, the logs and any key a UI does not know.
 */
export interface ApiText {
  key: string;
  params: Record<string, string | number>;
}

/** An error every transport carries across as {code, message, texts}, so the UI can say what happened. */
export class ApiError extends Error {
  override readonly name: string = 'ApiError';
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    /** The same message as translatable parts (one, or one per problem found), when there is one. */
    readonly texts?: readonly ApiText[],
  ) {
    super(message);
  }
}

/** A call the API refuses because of its arguments; the message says which and why. */
export class ApiArgumentError extends ApiError {
  override readonly name = 'ApiArgumentError';
  constructor(message: string, texts?: readonly ApiText[]) {
    super('bad-argument', message, texts);
  }
}

/** How an error crosses a transport. Internal errors keep their message (a local, trusted user). */
export function toWireError(e: unknown): { code: ApiErrorCode; message: string; texts?: ApiText[] } {
  if (e instanceof ApiError) return { code: e.code, message: e.message, ...(e.texts?.length ? { texts: e.texts.map((x) => ({ key: x.key, params: { ...x.params } })) } : {}) };
  return { code: 'internal', message: e instanceof Error ? e.message : String(e) };
}

const TEXT_KEY = /^[a-zA-Z][a-zA-Z0-9]{0,63}$/;

/** The texts of a wire error that are well-formed (a key, flat string or number values), else none. */
function wireTexts(raw: unknown): ApiText[] | undefined {
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > 50) return undefined;
  const texts: ApiText[] = [];
  for (const x of raw as unknown[]) {
    const r = (typeof x === 'object' && x !== null ? x : {}) as { key?: unknown; params?: unknown };
    if (typeof r.key !== 'string' || !TEXT_KEY.test(r.key)) return undefined;
    const params: Record<string, string | number> = {};
    if (typeof r.params === 'object' && r.params !== null) {
      for (const [k, val] of Object.entries(r.params as Record<string, unknown>)) {
        if (!TEXT_KEY.test(k) || (typeof val !== 'string' && typeof val !== 'number')) return undefined;
        params[k] = typeof val === 'string' ? val.slice(0, 2000) : val;
      }
    }
    texts.push({ key: r.key, params });
  }
  return texts;
}

export function fromWireError(w: unknown): ApiError {
  const r = (typeof w === 'object' && w !== null ? w : {}) as { code?: unknown; message?: unknown; texts?: unknown };
  const codes: ApiErrorCode[] = ['bad-argument', 'not-found', 'conflict', 'too-large', 'unavailable', 'internal'];
  const code = codes.includes(r.code as ApiErrorCode) ? (r.code as ApiErrorCode) : 'internal';
  return new ApiError(code, typeof r.message === 'string' ? r.message : 'the call failed', wireTexts(r.texts));
}

// ---------------------------------------------------------------------------------------------
// The web UI's WebSocket wire format (one JSON text message each)

export const WS_PATH = '/api';
/** Largest request a client may send; bigger ones close the socket (1009). A call naming LIMITS.macs devices (about 200 kB) fits. */
export const WS_MAX_REQUEST_BYTES = 256 * 1024;

export interface WireRequest {
  id: number;
  method: string;
  args: unknown[];
}

export type WireResponse =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: { code: ApiErrorCode; message: string; texts?: ApiText[] } };

/** `resync`: events were dropped for a slow client; reload what is shown. */
export type WireEvent = { event: ApiEvent; data: unknown } | { event: 'resync' };

// ---------------------------------------------------------------------------------------------
// Electron IPC channel names (preload and src/main/bridge/ipc.ts)

export const ipcChannel = (method: ApiMethod) => `localdls:${method}`;
export const ipcEventChannel = (event: ApiEvent) => `localdls:event:${event}`;

/** How a result crosses IPC: an envelope, so the API's error code and message arrive intact. */
export type IpcEnvelope = { ok: true; result: unknown } | { ok: false; error: { code: ApiErrorCode; message: string; texts?: ApiText[] } };
