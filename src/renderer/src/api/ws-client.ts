/**
 * The LocalDlsApi in a plain browser: the same contract over the `serve --ui` WebSocket. Calls
 * wait for the connection; the socket reconnects with back-off and tells the UI to reload what it
 * shows (`onConnection`), because events sent while it was away are lost.
 */
import {
  fromWireError,
  WS_PATH,
  type ApiEvent,
  type ApiEventPayloads,
  type ApiMethod,
  type LocalDlsApi,
  type LocalDlsCommands,
  type Unsubscribe,
  type WireEvent,
  type WireResponse,
} from '../../../shared/api';

export type ConnectionState = 'connecting' | 'open' | 'closed' | 'refused';

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

export interface WsClientOptions {
  url: string;
  /** WebSocket constructor (tests pass another). */
  WebSocketImpl?: typeof WebSocket;
  /** Give up on a call after this long (ms). */
  callTimeoutMs?: number;
  /** Do not connect at all: refused at once with this explanation (e.g. no token in the address). */
  refuse?: string;
}

/** Said after several failed handshakes in a row (the App shows it in the UI's language). */
export const NOT_REACHABLE = 'LocalDLS is not reachable or refused the connection: open the address `localdls serve --ui` printed (a restarted service has a new token)';

export class WsApiClient implements LocalDlsApi {
  private ws: WebSocket | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly waitingForOpen: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private readonly listeners: { [E in ApiEvent]: Set<(p: ApiEventPayloads[E]) => void> } = {
    exchanges: new Set(),
    devicesChanged: new Set(),
    status: new Set(),
    jobsChanged: new Set(),
    bootstrap: new Set(),
  };
  private readonly connectionListeners = new Set<(state: ConnectionState, detail: string | null) => void>();
  private state: ConnectionState = 'connecting';
  private retryMs = 500;
  private closedByUser = false;
  /** Connection attempts in a row that never opened. */
  private failures = 0;
  private detail: string | null = null;

  constructor(private readonly options: WsClientOptions) {
    if (options.refuse) {
      this.state = 'refused';
      this.detail = options.refuse;
    } else this.connect();
  }

  get connectionState(): ConnectionState {
    return this.state;
  }

  /** Connection changes; after a reconnect (`open` again) the UI reloads its data. */
  onConnection(listener: (state: ConnectionState, detail: string | null) => void): Unsubscribe {
    this.connectionListeners.add(listener);
    // A refusal that came before anyone listened (no token) is said at once.
    if (this.state === 'refused') queueMicrotask(() => this.connectionListeners.has(listener) && listener('refused', this.detail));
    return () => this.connectionListeners.delete(listener);
  }

  close(): void {
    this.closedByUser = true;
    this.ws?.close();
  }

  private setState(state: ConnectionState, detail: string | null = null): void {
    this.state = state;
    this.detail = detail;
    for (const l of this.connectionListeners) l(state, detail);
  }

  private connect(): void {
    const Impl = this.options.WebSocketImpl ?? WebSocket;
    const ws = new Impl(this.options.url);
    this.ws = ws;
    this.setState('connecting');
    let opened = false;
    ws.onopen = () => {
      opened = true;
      this.failures = 0;
      this.retryMs = 500;
      this.setState('open');
      for (const w of this.waitingForOpen.splice(0)) w.resolve();
    };
    ws.onmessage = (e) => this.receive(e.data);
    ws.onclose = () => {
      this.ws = null;
      for (const [, p] of this.pending) p.reject(new Error('the connection to LocalDLS closed; the call may not have completed'));
      this.pending.clear();
      if (this.closedByUser) return;
      // The browser does not say why a handshake failed. A few failures in a row mean a wrong
      // token, or a restarted service (it has a new token): retrying would not help.
      if (!opened && ++this.failures >= 4) {
        this.setState('refused', NOT_REACHABLE);
        for (const w of this.waitingForOpen.splice(0)) w.reject(new Error(NOT_REACHABLE));
        return;
      }
      this.setState('closed', null);
      setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 8000);
    };
  }

  private receive(data: unknown): void {
    if (typeof data !== 'string') return;
    let message: WireResponse | WireEvent;
    try {
      message = JSON.parse(data) as WireResponse | WireEvent;
    } catch {
      return;
    }
    if ('event' in message) {
      if (message.event === 'resync') {
        this.setState('open', 'resync');
        return;
      }
      const set = this.listeners[message.event] as Set<(p: unknown) => void> | undefined;
      for (const l of set ?? []) l(message.data);
      return;
    }
    const p = this.pending.get(message.id);
    if (!p) return;
    this.pending.delete(message.id);
    if (message.ok) p.resolve(message.result);
    else p.reject(fromWireError(message.error));
  }

  private async opened(): Promise<WebSocket> {
    if (this.ws && this.ws.readyState === 1) return this.ws;
    if (this.state === 'refused') throw new Error(this.detail ?? 'not connected to LocalDLS (the connection was refused)');
    await new Promise<void>((resolve, reject) => this.waitingForOpen.push({ resolve, reject }));
    return this.opened();
  }

  private call<M extends ApiMethod>(method: M, args: Parameters<LocalDlsCommands[M]>): ReturnType<LocalDlsCommands[M]> {
    const run = async () => {
      const ws = await this.opened();
      const id = this.nextId++;
      return new Promise<unknown>((resolve, reject) => {
        const timer = setTimeout(() => {
          this.pending.delete(id);
          reject(new Error(`${method}: no answer from LocalDLS in time`));
        }, this.options.callTimeoutMs ?? 60_000);
        this.pending.set(id, {
          resolve: (v) => (clearTimeout(timer), resolve(v)),
          reject: (e) => (clearTimeout(timer), reject(e)),
        });
        ws.send(JSON.stringify({ id, method, args }));
      });
    };
    return run() as ReturnType<LocalDlsCommands[M]>;
  }

  private on<E extends ApiEvent>(event: E, listener: (p: ApiEventPayloads[E]) => void): Unsubscribe {
    const set = this.listeners[event] as Set<(p: ApiEventPayloads[E]) => void>;
    set.add(listener);
    return () => set.delete(listener);
  }

  getStatus: LocalDlsApi['getStatus'] = () => this.call('getStatus', []);
  listExchanges: LocalDlsApi['listExchanges'] = (filter, page) => this.call('listExchanges', [filter, page]);
  getExchange: LocalDlsApi['getExchange'] = (id) => this.call('getExchange', [id]);
  revealExchangeItem: LocalDlsApi['revealExchangeItem'] = (id, side, position) => this.call('revealExchangeItem', [id, side, position]);
  exportExchanges: LocalDlsApi['exportExchanges'] = (ids, format) => this.call('exportExchanges', [ids, format]);
  clearView: LocalDlsApi['clearView'] = () => this.call('clearView', []);
  listDevices: LocalDlsApi['listDevices'] = () => this.call('listDevices', []);
  getDevice: LocalDlsApi['getDevice'] = (mac) => this.call('getDevice', [mac]);
  revealDeviceItem: LocalDlsApi['revealDeviceItem'] = (mac, name, index) => this.call('revealDeviceItem', [mac, name, index]);
  listJobs: LocalDlsApi['listJobs'] = (filter) => this.call('listJobs', [filter]);
  addJob: LocalDlsApi['addJob'] = (macs, spec) => this.call('addJob', [macs, spec]);
  cancelJob: LocalDlsApi['cancelJob'] = (id) => this.call('cancelJob', [id]);
  contactNow: LocalDlsApi['contactNow'] = (macs) => this.call('contactNow', [macs]);
  listProfiles: LocalDlsApi['listProfiles'] = () => this.call('listProfiles', []);
  setProfile: LocalDlsApi['setProfile'] = (profile) => this.call('setProfile', [profile]);
  applyProfile: LocalDlsApi['applyProfile'] = (name, macs) => this.call('applyProfile', [name, macs]);
  getOverrides: LocalDlsApi['getOverrides'] = (mac) => this.call('getOverrides', [mac]);
  setOverrides: LocalDlsApi['setOverrides'] = (mac, items) => this.call('setOverrides', [mac, items]);
  clearOverrides: LocalDlsApi['clearOverrides'] = (mac, items) => this.call('clearOverrides', [mac, items]);
  itemCatalogue: LocalDlsApi['itemCatalogue'] = () => this.call('itemCatalogue', []);
  getSecureStatus: LocalDlsApi['getSecureStatus'] = () => this.call('getSecureStatus', []);
  startBootstrap: LocalDlsApi['startBootstrap'] = (macs, options) => this.call('startBootstrap', [macs, options]);
  getBootstrapRun: LocalDlsApi['getBootstrapRun'] = (runId) => this.call('getBootstrapRun', [runId]);
  bootstrapPinSheet: LocalDlsApi['bootstrapPinSheet'] = (runId, format) => this.call('bootstrapPinSheet', [runId, format]);
  cancelBootstrapRun: LocalDlsApi['cancelBootstrapRun'] = (runId) => this.call('cancelBootstrapRun', [runId]);
  setTlsProfile: LocalDlsApi['setTlsProfile'] = (listener, profile) => this.call('setTlsProfile', [listener, profile]);
  setUpstream: LocalDlsApi['setUpstream'] = (setting) => this.call('setUpstream', [setting]);
  exportTraffic: LocalDlsApi['exportTraffic'] = (filter, format) => this.call('exportTraffic', [filter, format]);
  getInteraction: LocalDlsApi['getInteraction'] = (id) => this.call('getInteraction', [id]);
  getDeviceTimeline: LocalDlsApi['getDeviceTimeline'] = (mac) => this.call('getDeviceTimeline', [mac]);
  listRollouts: LocalDlsApi['listRollouts'] = () => this.call('listRollouts', []);
  getRollout: LocalDlsApi['getRollout'] = (id) => this.call('getRollout', [id]);
  retryFailed: LocalDlsApi['retryFailed'] = (id) => this.call('retryFailed', [id]);
  setTlsKeyLog: LocalDlsApi['setTlsKeyLog'] = (path) => this.call('setTlsKeyLog', [path]);
  onExchanges: LocalDlsApi['onExchanges'] = (l) => this.on('exchanges', l);
  onDevicesChanged: LocalDlsApi['onDevicesChanged'] = (l) => this.on('devicesChanged', l);
  onStatus: LocalDlsApi['onStatus'] = (l) => this.on('status', l);
  onJobsChanged: LocalDlsApi['onJobsChanged'] = (l) => this.on('jobsChanged', l);
  onBootstrap: LocalDlsApi['onBootstrap'] = (l) => this.on('bootstrap', l);
}

/** The WebSocket address for the page this script was served with. */
export function wsUrlFor(location: { protocol: string; host: string }, token: string): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${WS_PATH}?token=${encodeURIComponent(token)}`;
}
