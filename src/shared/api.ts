/**
 * The one API contract between the service and every UI: the Electron preload (IPC), the web UI
 * bridge (WebSocket) and the renderer's test fake all implement or consume `LocalDlsApi`.
 * Only plain serialisable values cross it. Argument validation lives here too, so every transport
 * and the implementation refuse the same inputs with the same words.
 */
import type { Device, ExchangeKind, ExchangeSummary, Interaction, ListenerKind } from './model';

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

export interface DeviceDetail {
  device: Device;
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
  listDevices(): Promise<Device[]>;
  getDevice(mac: string): Promise<DeviceDetail>;
  revealDeviceItem(mac: string, name: string, index: number | null): Promise<string>;
}

/** Events: each returns its unsubscribe function. */
export interface LocalDlsEvents {
  /** New exchanges, batched (oldest first). */
  onExchanges(listener: (batch: ExchangeSummary[]) => void): Unsubscribe;
  /** Devices whose record changed (new contact, state, TLS, …). */
  onDevicesChanged(listener: (devices: Device[]) => void): Unsubscribe;
  onStatus(listener: (status: ServiceStatus) => void): Unsubscribe;
}

export type LocalDlsApi = LocalDlsCommands & LocalDlsEvents;

export type ApiMethod = keyof LocalDlsCommands;
export type ApiEvent = 'exchanges' | 'devicesChanged' | 'status';

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
] as const satisfies readonly ApiMethod[];

// Compile-time check that API_METHODS names every command.
type Missing = Exclude<ApiMethod, (typeof API_METHODS)[number]>;
const _allMethodsListed: Missing extends never ? true : never = true;
void _allMethodsListed;

export const API_EVENTS = ['exchanges', 'devicesChanged', 'status'] as const satisfies readonly ApiEvent[];

export interface ApiEventPayloads {
  exchanges: ExchangeSummary[];
  devicesChanged: Device[];
  status: ServiceStatus;
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
} as const;

export type ApiErrorCode = 'bad-argument' | 'not-found' | 'too-large' | 'unavailable' | 'internal';

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
  const codes: ApiErrorCode[] = ['bad-argument', 'not-found', 'too-large', 'unavailable', 'internal'];
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

function mac(v: unknown): string {
  const s = str(v, 'mac', LIMITS.mac).trim();
  if (!/^[0-9A-Fa-f]{2}([:-]?[0-9A-Fa-f]{2}){5}$/.test(s)) fail('mac', `"${s}" is not a MAC address (e.g. 00:1A:E8:00:00:01)`);
  return s.replace(/[:-]/g, '').toUpperCase().replace(/(..)(?!$)/g, '$1:');
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
