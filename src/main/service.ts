/**
 * Composition root: store + engine + listeners. Used by the headless CLI (`localdls serve`), the
 * Electron shell and, later, the web UI bridge.
 */
import type { ExchangeSummary } from '../shared/model';
import { Contacts, type ContactPolicy } from './contact';
import { dcmpHandler } from './dcmp';
import { ExchangeHandler } from './exchange-handler';
import { DcmpListener } from './net/dcmp-listener';
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
  /** DCMP polling port (plain HTTP); undefined = off, 0 = any free port. */
  dcmpPort?: number;
  /** Contact-me rules (contact gap, timeouts, …). */
  contact?: Partial<ContactPolicy>;
  /** Send contact-me by itself to devices whose jobs wait (default true). */
  autoContact?: boolean;
  /** Put this service's address and port into contact-me requests (dls_ip_addr / dls_ip_port). */
  announceInContactMe?: boolean;
}

export interface ListeningInfo {
  host: string;
  port: number;
  tls: TlsProfile;
  dcmpPort?: number;
}

export const DEFAULT_PORT = 18443;

export class Service {
  readonly store: Store;
  readonly handler: ExchangeHandler;
  readonly contacts: Contacts;
  private listener: WpiListener | null = null;
  private dcmp: DcmpListener | null = null;
  private sweeper: NodeJS.Timeout | null = null;
  private scheduler: NodeJS.Timeout | null = null;

  constructor(private readonly config: ServiceConfig) {
    this.store = new Store(config.dataDir, config.store);
    this.handler = new ExchangeHandler(this.store);
    this.contacts = new Contacts(this.store, config.contact ?? {}, (r) => this.handler.recordExchange(r));
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
    if (this.config.announceInContactMe) this.contacts.announcePort = port;
    const info: ListeningInfo = { host, port, tls: this.config.tls ?? 'modern' };
    if (this.config.dcmpPort !== undefined) {
      this.dcmp = new DcmpListener(host, this.config.dcmpPort, dcmpHandler(this.store, (r) => this.handler.recordExchange(r)), this.config.onError);
      info.dcmpPort = await this.dcmp.listen();
    }
    this.sweeper = setInterval(() => this.sweep(Date.now()), this.config.sweepMs ?? 10_000);
    this.sweeper.unref();
    if (this.config.autoContact !== false) {
      this.scheduler = setInterval(() => this.contactDue(), 1000);
      this.scheduler.unref();
    }
    return info;
  }

  /** Ends interactions whose phone went silent, so their devices show idle again. */
  sweep(now: number): void {
    const gone = this.handler.engine.sessions.expire(now);
    const ids = gone.flatMap((s) => (s.interactionId === null ? [] : [s.interactionId]));
    const macs = gone.flatMap((s) => (s.mac === null ? [] : [s.mac]));
    this.store.expireInteractions(ids, macs, now);
  }

  /** Sends contact-me to devices whose jobs wait and whose contact gap allows it. */
  contactDue(): void {
    const busy = (mac: string) => this.handler.engine.sessions.forMac(mac) !== undefined;
    for (const mac of this.contacts.due(busy)) {
      this.contacts.contact(mac).catch((e: unknown) => this.config.onError?.(e instanceof Error ? e : new Error(String(e))));
    }
  }

  onExchange(listener: (summary: ExchangeSummary) => void): () => void {
    this.handler.events.on('exchange', listener);
    return () => this.handler.events.off('exchange', listener);
  }

  async stop(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    if (this.scheduler) clearInterval(this.scheduler);
    await this.listener?.close();
    await this.dcmp?.close();
    this.listener = null;
    this.dcmp = null;
    this.store.close();
  }
}
