/**
 * The LocalDlsApi (src/shared/api.ts), implemented once over the Service. The Electron IPC
 * handlers and the web UI's WebSocket bridge both call this object; it validates every argument
 * itself, so no transport can skip the checks. Reads go through the store (and its
 * exchange-filter module); nothing here writes.
 */
import { networkInterfaces as osNetworkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { STATUS_CODES } from 'node:http';
import { XMLValidator } from 'fast-xml-parser';
import packageJson from '../../package.json';
import {
  ApiArgumentError,
  ApiError,
  isApiMethod,
  validateArgs,
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
  type Unsubscribe,
} from '../shared/api';
import type { Device, Exchange, ExchangeSummary } from '../shared/model';
import { isSecretItem, maskItemValue, maskSecretsInXml } from '../shared/secrets';
import { isLegacyProtocol } from './net/tls-profile';
import type { Service } from './service';
import type { Store } from './store';
import { countExchanges, deviceCount, listExchanges, newestExchangeId } from './store/exchange-filter';
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
  networkInterfaces?: () => NodeJS.Dict<NetworkInterfaceInfo[]>;
}

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
  private readonly subscribers: Listeners = { exchanges: new Set(), devicesChanged: new Set(), status: new Set() };
  private queue: ExchangeSummary[] = [];
  private batchTimer: NodeJS.Timeout | null = null;
  private statusTimer: NodeJS.Timeout | null = null;
  private readonly devicePoll: NodeJS.Timeout;
  /** Last known state of each device, to notice changes no exchange reports. */
  private deviceKeys: Map<string, string> | null = null;
  private readonly offExchange: () => void;
  private closed = false;

  constructor(
    service: Pick<Service, 'store' | 'onExchange'>,
    private readonly options: ApiOptions,
  ) {
    this.store = service.store;
    this.listeners = options.listeners ?? [];
    this.offExchange = service.onExchange((x) => this.enqueue(x));
    this.devicePoll = setInterval(() => this.pollDevices(), options.devicePollMs ?? 5000);
    this.devicePoll.unref();
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

  async listDevices(): Promise<Device[]> {
    return this.store.devices();
  }

  async getDevice(mac: string): Promise<DeviceDetail> {
    const [m] = validateArgs('getDevice', [mac]);
    const device = this.deviceOrThrow(m);
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

  // --- events ----------------------------------------------------------------------------------

  onExchanges(listener: (batch: ExchangeSummary[]) => void): Unsubscribe {
    return this.subscribe('exchanges', listener);
  }

  onDevicesChanged(listener: (devices: Device[]) => void): Unsubscribe {
    return this.subscribe('devicesChanged', listener);
  }

  onStatus(listener: (status: ServiceStatus) => void): Unsubscribe {
    return this.subscribe('status', listener);
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
    const macs = [...new Set(batch.flatMap((x) => (x.mac ? [x.mac] : [])))];
    const devices = macs.flatMap((m) => {
      const d = this.store.device(m);
      return d ? [d] : [];
    });
    if (this.deviceKeys) for (const d of devices) this.deviceKeys.set(d.mac, deviceKey(d));
    if (devices.length > 0) this.emit('devicesChanged', devices);
    this.statusTimer ??= setTimeout(() => {
      this.statusTimer = null;
      if (!this.closed && this.subscribers.status.size > 0) this.emit('status', this.status());
    }, 1000);
  }

  private pollDevices(): void {
    if (this.closed || this.subscribers.devicesChanged.size === 0) return;
    const devices = this.store.devices();
    const known = this.deviceKeys;
    this.deviceKeys = new Map(devices.map((d) => [d.mac, deviceKey(d)]));
    if (!known) return;
    const changed = devices.filter((d) => known.get(d.mac) !== this.deviceKeys!.get(d.mac));
    if (changed.length > 0) this.emit('devicesChanged', changed);
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

  private deviceOrThrow(mac: string): Device {
    const d = this.store.device(mac);
    if (!d) throw new ApiError('not-found', `no device ${mac}`);
    return d;
  }
}

function deviceKey(d: Device): string {
  return [d.state, d.mode, d.lastContact, d.tlsProtocol, d.softwareVersion, d.e164].join('|');
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
