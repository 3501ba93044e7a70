/**
 * Composition root: store + engine + listeners. Used by the headless CLI (`localdls serve`), the
 * Electron shell and, later, the web UI bridge.
 */
import type { ExchangeSummary } from '../shared/model';
import { ExchangeHandler } from './exchange-handler';
import { WpiListener, type ListenerLimits } from './net/wpi-listener';
import type { TlsProfile } from './net/tls-profile';
import { loadOrCreateDefaultIdentity } from './pki/server-identity';
import { Store, type StoreOptions } from './store';

export interface ServiceConfig {
  dataDir: string;
  host?: string;
  /** Default-Mode HTTPS port; 0 picks a free one. */
  port?: number;
  /** TLS compatibility of the Default-Mode listener (see net/tls-profile.ts). */
  tls?: TlsProfile;
  limits?: Partial<ListenerLimits>;
  store?: StoreOptions;
  /** How often abandoned interactions are swept, in ms. */
  sweepMs?: number;
  /** Failures that could not be answered normally (e.g. the store failed). */
  onError?: (err: Error) => void;
}

export interface ListeningInfo {
  host: string;
  port: number;
  tls: TlsProfile;
}

export const DEFAULT_PORT = 18443;

export class Service {
  readonly store: Store;
  readonly handler: ExchangeHandler;
  private listener: WpiListener | null = null;
  private sweeper: NodeJS.Timeout | null = null;

  constructor(private readonly config: ServiceConfig) {
    this.store = new Store(config.dataDir, config.store);
    this.handler = new ExchangeHandler(this.store);
  }

  async start(): Promise<ListeningInfo> {
    const host = this.config.host ?? '0.0.0.0';
    const identity = await loadOrCreateDefaultIdentity(this.config.dataDir);
    this.listener = new WpiListener({
      kind: 'default',
      host,
      port: this.config.port ?? DEFAULT_PORT,
      tls: { key: identity.key, cert: identity.cert },
      tlsProfile: this.config.tls ?? 'modern',
      handler: this.handler,
      limits: this.config.limits,
      onError: this.config.onError,
    });
    const port = await this.listener.listen();
    this.sweeper = setInterval(() => this.sweep(Date.now()), this.config.sweepMs ?? 10_000);
    this.sweeper.unref();
    return { host, port, tls: this.config.tls ?? 'modern' };
  }

  /** Ends interactions whose phone went silent, so their devices show idle again. */
  sweep(now: number): void {
    const gone = this.handler.engine.sessions.expire(now);
    const ids = gone.flatMap((s) => (s.interactionId === null ? [] : [s.interactionId]));
    const macs = gone.flatMap((s) => (s.mac === null ? [] : [s.mac]));
    this.store.expireInteractions(ids, macs, now);
  }

  onExchange(listener: (summary: ExchangeSummary) => void): () => void {
    this.handler.events.on('exchange', listener);
    return () => this.handler.events.off('exchange', listener);
  }

  async stop(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    await this.listener?.close();
    this.listener = null;
    this.store.close();
  }
}
