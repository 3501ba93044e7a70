/**
 * Composition root: store + engine + listeners. Used by the headless CLI (`localdls serve`), the
 * Electron shell and, later, the web UI bridge.
 */
import type { ExchangeSummary } from '../../shared/model';
import { Contacts, type ContactPolicy } from './contact';
import { dcmpHandler } from './dcmp';
import { ExchangeHandler } from './exchange-handler';
import { GroupCommit } from './group-commit';
import { RelayHandler, type RelayOptions } from './relay-handler';
import { UpstreamClient } from '../net/upstream-client';
import type { RelayStatus } from '../../shared/api';
import { DcmpListener } from '../net/dcmp-listener';
import { WpiListener, type ListenerLimits } from '../net/wpi-listener';
import { TLS_PROFILES, type TlsProfile } from '../net/tls-profile';
import { TurnQueue } from '../net/turns';
import { networkInterfaces, hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import { bootstrapToSend, openJobSecret, queuedBootstrapNotes, secureModeOffNote, securePortChangeNote } from './bootstrap';
import { Pki, loadOrCreateDefaultIdentity, keyPoolIdleMsFromEnvironment, keyPoolSizeFromEnvironment, startKeyPoolFiller, type KeyPoolFiller, type KeyProtector } from '../pki';
import { RELAYING_SETTING, Store, type RecoveryReport, type ReturnLimits, type StoreOptions } from '../store';
import { TlsKeyLog } from './tls-keylog';
import { isOwnListener, urlIsOwnListener } from '../net/own-listener';
import { awaitsFileCheck } from '../../shared/file-deployment';

export interface ServiceConfig {
  dataDir: string;
  host?: string;
  /** Default-Mode HTTPS port; 0 picks a free one. */
  port?: number;
  /** TLS compatibility of the Default-Mode listener (see net/tls-profile.ts). */
  tls?: TlsProfile;
  limits?: Partial<ListenerLimits>;
  store?: StoreOptions;
  /**
   * Commit the exchanges of one event-loop turn together (app/group-commit.ts); on unless a
   * benchmark compares it with one transaction per exchange.
   */
  groupCommit?: boolean;
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
  /** How long a Restart, factory reset or firmware job waits for its phone's start-up (defaults: 15, 15, 60 min). */
  returnLimits?: ReturnLimits;
  /** Opens the sealed keys; without it Secure Mode is off (no CA, no mutual-TLS listener). */
  keyProtector?: KeyProtector;
  /** Mutual-TLS port for phones in Secure Mode (default 18444, 0 = any free port). */
  securePort?: number;
  /** TLS compatibility of the secure listener. */
  secureTls?: TlsProfile;
  /** Device keys made ahead while idle (pki/key-pool/); 0 = none. Default $LOCALDLS_KEY_POOL_SIZE, else 64. */
  keyPoolSize?: number;
  /** How long without an exchange before the pool is filled (default KEY_POOL_IDLE_MS). */
  keyPoolIdleMs?: number;
  /** Append every TLS secret to this file (NSS key-log format); off by default. */
  tlsKeyLog?: string;
  /**
   * Relay mode (docs/relay.md): pass every phone request on to this DLS instead of answering.
   * Undefined: as last chosen in the app (stored setting); null: answer phones ourselves.
   */
  upstream?: RelayConfig | null;
}

export interface RelayConfig {
  /** https://HOST:PORT of the site's DLS. */
  url: string;
  /** PEM of the CA its certificate must chain to, and the file it came from (for messages). */
  ca?: { pem: string; file: string };
  /** Accepted SHA-256 fingerprints of its certificate. */
  fingerprints?: string[];
  /** Whole exchange with the upstream, ms (default 15 s): beyond it the phone gets 504. */
  timeoutMs?: number;
  connectTimeoutMs?: number;
  /** How many interactions the relay follows, in all and per client address, and for how long (RelayHandler's defaults unless given). */
  follow?: RelayOptions;
}

/** Store setting holding the upstream chosen in the app (JSON UpstreamSetting). */
export const UPSTREAM_SETTING = 'relay_upstream';

/** What the app stores: the CA by its file name, read again at each start. */
export interface UpstreamSetting {
  url: string;
  caFile?: string;
  fingerprints?: string[];
}

/** The key pool is filled only after this long without an exchange (and no bootstrap being prepared here). */
export const KEY_POOL_IDLE_MS = 10_000;

export interface ListeningInfo {
  host: string;
  port: number;
  tls: TlsProfile;
  dcmpPort?: number;
  /** Bound Secure-Mode port; absent when Secure Mode is off. */
  securePort?: number;
  /** TLS profile of the secure listener; present with securePort. */
  secureTls?: TlsProfile;
  /** Relay mode: where phone requests go. */
  relay?: RelayStatus;
  /** Present when the last run stopped uncleanly and its open interactions were closed at this start. */
  recovered?: RecoveryReport & { message: string };
  /** Bootstrap jobs waiting that this service sends with another port than prepared, or holds (Secure Mode off). */
  bootstrapNotes?: string[];
  /**
   * The database's start-up check: `quick_check` when it ran, `unchanged` when the file was exactly
   * as the last clean stop left it (store/clean-stop.ts); `checkedAt` is when quick_check last passed.
   */
  databaseCheck?: { ran: 'quick_check' | 'unchanged'; checkedAt: string };
}

/** The two WPI listeners whose TLS profile can be chosen. */
export type TlsListener = 'default' | 'secure';

/** Store setting holding a listener's TLS profile (set from the desktop app). */
export const TLS_SETTING: Record<TlsListener, string> = { default: 'tls_default', secure: 'tls_secure' };

/** Why a bootstrap waits while the service starts (its job says so until it is sent). */
const SECURE_LISTENER_STARTING = 'held: the secure listener is starting; the job is sent once it listens';

export const DEFAULT_PORT = 18443;
export const DEFAULT_SECURE_PORT = 18444;

export class Service {
  readonly store: Store;
  readonly handler: ExchangeHandler;
  /** What the listeners call: the handler, behind group commit unless that is off. */
  private readonly phones: ExchangeHandler | GroupCommit;
  readonly contacts: Contacts;
  /** Relay mode: set by start() when an upstream is configured. */
  relay: RelayHandler | null = null;
  private listener: WpiListener | null = null;
  private secureListener: WpiListener | null = null;
  /** The CA and certificates, once Secure Mode is on. */
  pki: Pki | null = null;
  private dcmp: DcmpListener | null = null;
  private sweeper: NodeJS.Timeout | null = null;
  private scheduler: NodeJS.Timeout | null = null;
  /** The TLS key log in use (serve --tls-keylog, or switched on in the app for this run). */
  private keyLog: TlsKeyLog | null = null;
  /** Both listeners write through this, so the key log can be switched while they run. */
  private readonly writeKeyLog = (line: Buffer) => this.keyLog?.write(line);
  private keyPoolFiller: KeyPoolFiller | null = null;
  /** Set by startSecure when phones were told another secure port than this run's. */
  private portChangeNote: string | undefined;
  private lastExchangeAt = Date.now();
  /**
   * The phones' messages on both listeners and the contact-me bookkeeping take their store writes
   * one per turn of the event loop (net/turns.ts): however many arrive together, the loop is held
   * for one exchange at a time.
   */
  private readonly turns = new TurnQueue((e) => this.config.onError?.(e instanceof Error ? e : new Error(String(e))));

  constructor(private readonly config: ServiceConfig) {
    // One service per data folder, taken before the database is opened: the recovery in start()
    // closes every interaction left open, which must never be another running service's.
    this.store = new Store(config.dataDir, { integrityCheck: true, searchIndexing: 'background', ...config.store, serviceLock: true });
    this.handler = new ExchangeHandler(this.store);
    // The listeners decide one message per turn (net/turns.ts); group commit gathers what they
    // decide over turns and commits it when no other message waits, when full, or after 8 ms.
    this.phones = config.groupCommit === false ? this.handler : new GroupCommit(this.handler, this.store, { waiting: () => this.turns.length });
    this.contacts = new Contacts(this.store, config.contact ?? {}, (r) => this.handler.recordExchange(r), Date.now, this.turns);
    this.handler.events.on('exchange', () => (this.lastExchangeAt = Date.now()));
  }

  async start(): Promise<ListeningInfo> {
    const host = this.config.host ?? '0.0.0.0';
    const protector = this.config.keyProtector;
    const recovered = this.recover(Date.now());
    if (this.config.tlsKeyLog) this.setTlsKeyLog(this.config.tlsKeyLog);
    // Until the secure listener is bound nobody could receive a bootstrapped phone: its jobs wait.
    if (protector) this.handler.security = { bootstrapToSend: () => ({ hold: SECURE_LISTENER_STARTING }) };
    const identity = await loadOrCreateDefaultIdentity(this.config.dataDir, protector);
    const relay = this.relayConfig();
    if (relay && this.config.dcmpPort !== undefined) {
      throw new Error('DCMP polling cannot be relayed (the poll answers come from the DLS\'s own job list): leave out --dcmp-port in relay mode and let the phones poll the DLS directly (docs/relay.md)');
    }
    if (relay) this.relay = new RelayHandler(this.store, this.upstreamClient(relay), this.handler, relay.follow ?? {});
    // For the CLI beside this service (commands/relay-guard.ts): it refuses what a relay does not do.
    if (this.relay) this.store.setSetting(RELAYING_SETTING, this.relay.upstream.origin);
    else this.store.deleteSetting(RELAYING_SETTING);
    this.listener = new WpiListener({
      kind: 'default',
      host,
      port: this.config.port ?? DEFAULT_PORT,
      tls: { key: identity.key, cert: identity.cert },
      tlsProfile: this.startProfile('default'),
      handler: this.relay ?? this.phones,
      limits: this.config.limits,
      onError: this.config.onError,
      keyLog: this.keyLog ? this.writeKeyLog : null,
      turns: this.turns,
    });
    const port = await this.listener.listen();
    if (this.config.announceInContactMe) this.contacts.announcePort = port;
    const integrity = this.store.integrity;
    const info: ListeningInfo = {
      host, port, tls: this.listener.tlsProfile, ...(recovered ? { recovered } : {}),
      ...(integrity ? { databaseCheck: { ran: integrity.ran ? 'quick_check' : 'unchanged', checkedAt: new Date(integrity.checkedAt).toISOString() } } : {}),
    };
    if (this.relay) {
      info.relay = this.relayStatus!;
      // Secure-Mode phones cannot be relayed; their port still listens so that each attempt is recorded with the reason.
      this.secureListener = new WpiListener({
        kind: 'secure',
        host,
        port: this.config.securePort ?? DEFAULT_SECURE_PORT,
        tls: { key: identity.key, cert: identity.cert, requestCert: true, rejectUnauthorized: false },
        tlsProfile: this.startProfile('secure'),
        handler: this.relay,
        limits: this.config.limits,
        onError: this.config.onError,
        turns: this.turns,
      });
      info.securePort = await this.secureListener.listen();
      info.secureTls = this.secureListener.tlsProfile;
      // An upstream written as this service's own address, on either of its ports, is refused at
      // once (one named otherwise, a DNS name of this machine, is caught when the relay connects:
      // upstream-client.ts isSelf). Compared with the address bound, not --host as written (helper-82).
      if (urlIsOwnListener(this.relay.upstream.url, this.boundHost(), this.ownPorts())) {
        throw new Error(`the upstream ${this.relay.upstream.origin} is this LocalDLS's own listener: relaying to it would send every phone message back here; give the address of the DLS to relay to (--upstream)`);
      }
    } else if (protector) {
      info.securePort = await this.startSecure(host, protector);
      info.secureTls = this.secureListener!.tlsProfile;
    }
    if (!this.relay) {
      const offNote = info.securePort === undefined ? secureModeOffNote(this.store) : undefined;
      const notes = [...(this.portChangeNote ? [this.portChangeNote] : []), ...(offNote ? [offNote] : []), ...queuedBootstrapNotes(this.store, protector, info.securePort)];
      if (notes.length) info.bootstrapNotes = notes;
    }
    if (this.config.dcmpPort !== undefined) {
      this.dcmp = new DcmpListener(host, this.config.dcmpPort, dcmpHandler(this.store, (r) => this.handler.recordExchange(r)), this.config.onError);
      info.dcmpPort = await this.dcmp.listen();
    }
    this.sweeper = setInterval(() => this.sweep(Date.now()), this.config.sweepMs ?? 10_000);
    this.sweeper.unref();
    // Notes of an earlier run's contact loop: this run's loop writes its own (app/contact.ts due()).
    this.store.contactFailures.clearNotContacted();
    if (this.config.autoContact !== false && !this.relay) {
      this.scheduler = setInterval(() => this.contactDue(), 1000);
      this.scheduler.unref();
    }
    return info;
  }

  /**
   * Secure Mode (manual p.62–68): the CA, a server certificate signed by it, and the mutual-TLS
   * listener that only lets in phones presenting a client certificate from that CA.
   */
  private async startSecure(host: string, protector: KeyProtector): Promise<number> {
    const keyPoolSize = this.config.keyPoolSize ?? keyPoolSizeFromEnvironment();
    const pki = await Pki.open(this.config.dataDir, protector, { keyPoolSize });
    this.pki = pki;
    // At most keyPoolSize keys, as documented: a smaller size (or 0) drops the keys beyond it.
    pki.keyPool.trim();
    if (keyPoolSize > 0) {
      const idleMs = this.config.keyPoolIdleMs ?? keyPoolIdleMsFromEnvironment() ?? KEY_POOL_IDLE_MS;
      this.keyPoolFiller = startKeyPoolFiller(pki.keyPool, {
        isIdle: () => Date.now() - this.lastExchangeAt >= idleMs && !pki.isIssuing,
        onError: this.config.onError,
      });
    }
    const server = await pki.secureServerIdentity(serverNames(host));
    this.handler.security = {
      openSecret: (sealed) => openJobSecret(protector, sealed),
      // Replaced below once the listener is bound.
      bootstrapToSend: () => ({ hold: SECURE_LISTENER_STARTING }),
    };
    this.secureListener = new WpiListener({
      kind: 'secure',
      host,
      port: this.config.securePort ?? DEFAULT_SECURE_PORT,
      tls: { key: server.key, cert: server.cert, ca: server.ca, requestCert: true, rejectUnauthorized: true },
      tlsProfile: this.startProfile('secure'),
      handler: this.phones,
      limits: this.config.limits,
      onError: this.config.onError,
      identify: (cert) => pki.deviceIdentity(cert),
      keyLog: this.keyLog ? this.writeKeyLog : null,
      turns: this.turns,
    });
    const port = await this.secureListener.listen();
    // Every bootstrap this service sends names the port it listens on, whatever port the job was prepared with.
    this.handler.security.bootstrapToSend = (job, sealed) => bootstrapToSend(protector, sealed, job, port);
    const stored = Number(this.store.setting('secure_port') ?? NaN);
    this.portChangeNote = securePortChangeNote(this.store, Number.isInteger(stored) ? stored : undefined, port);
    // CLI processes (bootstrap) need the port the phones must use.
    this.store.setSetting('secure_port', String(port));
    return port;
  }

  /** The upstream to relay to: the config's, else the one stored from the app (its CA file read now). */
  private relayConfig(): (RelayConfig & { fromApp?: boolean }) | null {
    if (this.config.upstream !== undefined) return this.config.upstream;
    const stored = this.store.setting(UPSTREAM_SETTING);
    if (!stored) return null;
    return this.fromApp(() => {
      const setting = JSON.parse(stored) as UpstreamSetting;
      return { url: setting.url, fingerprints: setting.fingerprints ?? [], ...(setting.caFile ? { ca: { pem: readCaFile(setting.caFile), file: setting.caFile } } : {}), fromApp: true };
    });
  }

  /** The address the listeners are bound to, as the system reports it (--host resolved). */
  private boundHost(): string {
    return this.listener?.boundAddress ?? this.config.host ?? '0.0.0.0';
  }

  /** The TCP ports this service listens on now. */
  private ownPorts(): number[] {
    return [this.listener?.port ?? 0, this.secureListener?.port ?? 0].filter((p) => p > 0);
  }

  private upstreamClient(relay: RelayConfig & { fromApp?: boolean }): UpstreamClient {
    const make = () =>
      new UpstreamClient({
        url: relay.url,
        trust: { ...(relay.ca ? { ca: relay.ca.pem } : {}), fingerprints: relay.fingerprints ?? [] },
        timeoutMs: relay.timeoutMs,
        connectTimeoutMs: relay.connectTimeoutMs,
        isSelf: (address, port) => isOwnListener(address, port, this.boundHost(), this.ownPorts()),
        advice: relay.fromApp ? 'setup' : 'flags',
      });
    return relay.fromApp ? this.fromApp(make) : make();
  }

  /**
   * The upstream chosen in the app cannot be used (its CA file is gone, …): the service must not
   * start as something else, and the way out must not need the app, which would not start either.
   */
  private fromApp<T>(use: () => T): T {
    try {
      return use();
    } catch (e) {
      throw new Error(
        `the relay upstream chosen in the app's settings cannot be used: ${(e as Error).message}. Fix that, or forget the choice with: localdls serve --data-dir "${this.config.dataDir}" --forget-upstream`,
      );
    }
  }

  /** Where phone requests go in relay mode (null: LocalDLS answers them itself). */
  get relayStatus(): RelayStatus | null {
    const client = this.relay?.upstream;
    return client ? { upstream: client.origin, ca: client.hasCa, fingerprints: client.acceptedFingerprints } : null;
  }

  /** A profile the config names explicitly (CLI flags) wins; else the stored setting; else modern. */
  private startProfile(listener: TlsListener): TlsProfile {
    const explicit = listener === 'default' ? this.config.tls : this.config.secureTls;
    return explicit ?? this.storedTlsProfile(listener) ?? 'modern';
  }

  /** The profile last chosen in the app for a listener, if any (an unknown value counts as none). */
  storedTlsProfile(listener: TlsListener): TlsProfile | undefined {
    const v = this.store.setting(TLS_SETTING[listener]);
    return TLS_PROFILES.includes(v as TlsProfile) ? (v as TlsProfile) : undefined;
  }

  /** The profile in force on a running listener (null: that listener does not run). */
  tlsProfile(listener: TlsListener): TlsProfile | null {
    return (listener === 'default' ? this.listener : this.secureListener)?.tlsProfile ?? null;
  }

  /**
   * Stores a listener's TLS profile and applies it to the running listener without closing its
   * port. A listener not running (Secure Mode off) gets it at its next start.
   */
  async setTlsProfile(listener: TlsListener, profile: TlsProfile): Promise<void> {
    if (listener !== 'default' && listener !== 'secure') throw new Error(`unknown listener "${String(listener)}"`);
    if (!TLS_PROFILES.includes(profile)) throw new Error(`TLS profile must be one of ${TLS_PROFILES.join(', ')}`);
    const running = listener === 'default' ? this.listener : this.secureListener;
    running?.setTlsProfile(profile);
    this.store.setSetting(TLS_SETTING[listener], profile);
  }

  /**
   * Starts (path) or stops (null) the TLS key log for this run. Never stored: a key log switched on
   * in the app must not silently reach the next `serve`.
   */
  setTlsKeyLog(path: string | null): void {
    const next = path === null ? null : new TlsKeyLog(path);
    this.keyLog?.close();
    this.keyLog = next;
    // The listeners that take key logs (not the relay's secure one, which relays nothing).
    for (const l of [this.listener, this.relay ? null : this.secureListener]) l?.setKeyLog(next ? this.writeKeyLog : null);
  }

  /** The TLS key log file in use, or null. */
  get tlsKeyLogPath(): string | null {
    return this.keyLog?.path ?? null;
  }

  /**
   * Sessions live in memory, so after a crash the store still shows interactions open, devices
   * "in interaction" and jobs `sent` whose replies can never be matched: close them, and queue
   * those jobs again (or fail them once their attempts are used up).
   */
  private recover(now: number): (RecoveryReport & { message: string }) | undefined {
    const r = this.store.recoverInterrupted(now);
    if (r.interactions === 0 && r.devices === 0 && r.jobs === 0) return undefined;
    const jobs = r.jobs === 0 ? 'no job was waiting for a reply' : `${r.jobs} job${r.jobs === 1 ? '' : 's'} sent without a reply: ${r.requeued} queued again, ${r.failed} failed (attempts used up)`;
    const message = `the last run stopped during ${r.interactions} interaction${r.interactions === 1 ? '' : 's'}: closed them, ${r.devices} device${r.devices === 1 ? '' : 's'} idle again; ${jobs}; ${r.awaitingReturn} sent job${r.awaitingReturn === 1 ? '' : 's'} still wait for their phone to come back (reboot, secure port)`;
    return { ...r, message };
  }

  /** Ends interactions whose phone went silent, so their devices show idle again. */
  sweep(now: number): void {
    this.relay?.sweep(now);
    // What is decided is committed first: a session is never swept between its message's decision and its commit.
    if (this.phones instanceof GroupCommit) this.phones.flush();
    this.handler.expireSilent(now, this.config.returnLimits);
  }

  /** The key protector when Secure Mode is on (bootstraps seal their secrets with it). */
  get keyProtector(): KeyProtector | undefined {
    return this.config.keyProtector;
  }

  /** Sends contact-me to devices whose jobs wait and whose contact gap allows it. */
  contactDue(): void {
    // Secure Mode off: bootstrap jobs are held (app/bootstrap.ts), so a phone waiting only for one is
    // not contacted; one whose deployment of several files waits for its check is (helper-73).
    const holdsAll = this.handler.security.bootstrapToSend
      ? undefined
      : (mac: string) => this.store.jobs.pending(mac).every((j) => j.kind === 'Bootstrap' || (j.state === 'sent' && !awaitsFileCheck(j)));
    for (const mac of this.contacts.due((mac) => this.handler.inInteraction(mac), holdsAll)) {
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
    this.contacts.close();
    await this.keyPoolFiller?.stop();
    this.keyPoolFiller = null;
    await this.listener?.close();
    await this.secureListener?.close();
    await this.dcmp?.close();
    this.relay?.upstream.close();
    if (this.relay) this.store.deleteSetting(RELAYING_SETTING);
    this.relay = null;
    this.listener = null;
    this.secureListener = null;
    this.dcmp = null;
    this.keyLog?.close();
    this.keyLog = null;
    if (this.phones instanceof GroupCommit) this.phones.flush();
    this.store.close();
  }
}

/** The upstream's CA file, or an error naming it and what to do. */
export function readCaFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read the upstream CA file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}; give the PEM file of the CA that signed your DLS's certificate`);
  }
}

/** Names for the secure certificate: this machine's, and the addresses phones may connect to. */
function serverNames(host: string): { dns: string[]; ips: string[] } {
  const ips = new Set<string>(['127.0.0.1', '::1']);
  if (host !== '0.0.0.0' && host !== '::') ips.add(host);
  else for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) ips.add(a.address.split('%')[0]!);
  return { dns: [...new Set([hostname(), 'localhost'])], ips: [...ips] };
}
