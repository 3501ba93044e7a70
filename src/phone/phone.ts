/**
 * One simulated phone and its interaction loop: it opens an interaction (start-up, solicited, …),
 * answers every Action of the service the way the manual's phones do (reads, writes, file and
 * firmware deployment, restart), and stops at CleanUp, Restart or SoftwareDeployment (manual
 * p.32–35, p.41–58, p.69–83). It trusts nothing the service sends: a wrong nonce, an unparseable
 * body or a non-200 answer ends the interaction with an error. start()/stop() make it a running
 * phone (phone-runtime.ts); every interaction is also emitted as an 'interaction' event.
 *
 * Secure Mode (manual p.62–68): a WriteItems with goto-secure-mode is checked and accepted; at the
 * CleanUp the phone takes the credential (nopin) or shows its PIN dialog and opens secure-mode-data
 * with the PINs it is given (pin); from then on it talks only to the secure port of its service's
 * host, with its client certificate and the server certificate verified against dls-server-ca, and
 * sends start-up there at once (p.65 step 5). Too many wrong PINs: RFC clean-up "password retries
 * exceeded" to the Default-Mode service (p.83). CleanUp "wrong TAN from device" (p.31): the phone
 * drops the credential and is back in Default Mode [INF]. Restarts and firmware keep Secure Mode; a
 * factory reset ends it (p.51, wpi-protocol.md §5.7).
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  buildWorkpointMessage,
  fragmentItems,
  MAX_MESSAGE_BYTES,
  type Action,
  type DLSMessage,
  type Item,
  type ItemStatus,
  type ReplyStatus,
  type WorkpointMessage,
} from './codec';
import {
  allItems,
  applyWriteItems,
  contactMeUri,
  createPhoneConfig,
  factoryReset,
  inventoryItems,
  itemKey,
  phoneIdentity,
  readItems,
  startUpItems,
  type PhoneConfig,
} from './items';
import type { ContactMeRecord } from './contact-me-listener';
import type { DcmpPollRecord } from './dcmp-poller';
import {
  deleteFile,
  deploymentItems,
  downloadFails,
  parseFileDeployment,
  parseSoftwareDeployment,
  recordFile,
  type DeployedFile,
} from './deployment';
import { DEFAULT_CONTACT_GAP_MS, PhoneRuntime } from './phone-runtime';
import {
  BOOTSTRAP_ITEM_NAMES,
  contentsProblem,
  openSecureModeData,
  parseBootstrap,
  PASSWORD_RETRIES_EXCEEDED,
  PKCS12_PASSWORD,
  pinPasswordOf,
  SecureModeDataError,
  tanOfPin,
  WRONG_TAN_FROM_DEVICE,
  type BootstrapRequest,
  type SecureCredential,
} from './secure-mode';
import { clearSecureState, loadSecureState, saveSecureState } from './secure-state';
import { CookieJar, serverUrl, Transport, TransportError, type ExchangeResult, type TlsClientOptions, type TlsInfo, type TransportOptions } from './transport';

/** Reasons a phone opens an interaction with (manual p.28). */
export const CONTACT_REASONS = ['start-up', 'solicited', 'local-changes', 'inventory-changes'] as const;
export type ContactReason = (typeof CONTACT_REASONS)[number];

/** Factory reset needs this fixed password (manual p.51). */
export const FACTORY_RESET_PASSWORD = '124816';

/** Default Mode: no authentication, default port; Secure Mode: mutual TLS on the secure port (manual p.12, p.62). */
export type PhoneMode = 'default' | 'secure';

/** The first message of an interaction: a contact reason, or the phone's own RFC clean-up (manual p.83). */
export type FirstMessageReason = ContactReason | 'clean-up';

export interface PhoneOptions {
  /** https://host:port of the provisioning service (the phone's "DLS address", manual p.12). */
  server: string;
  mac: string;
  e164?: string;
  deviceType?: string;
  softwareVersion?: string;
  partNumber?: string;
  ipAddress?: string;
  /** Send from `ipAddress` (it must be an address of this machine, e.g. 127.0.1.5 on Linux). */
  bindIpAddress?: boolean;
  contactMePort?: number;
  /** maxItems the phone puts on its messages and fragments its own replies by; -1 = no limit (manual p.28, p.69). */
  maxItems?: number;
  /** Size limit of one phone message (manual p.69: 50 kB). */
  fragmentBytes?: number;
  /**
   * One nonce for every message of an interaction, as the manual's start-up flow shows (p.28,
   * p.33–35), instead of a fresh one per message (p.48, p.60). Phones do either.
   */
  keepNonce?: boolean;
  /** Initial configuration-changed-flag (manual p.34). */
  configurationChanged?: boolean;
  readOnly?: Iterable<string>;
  unknown?: Iterable<string>;
  writeStatus?: Readonly<Record<string, ItemStatus>>;
  /** While now() < busyUntil the phone is in a call and refuses WriteItems with "busy" (manual p.46). */
  busyUntil?: number;
  tls?: TlsClientOptions;
  timeoutMs?: number;
  /** Guard against a service that never ends the interaction. */
  maxExchanges?: number;
  now?: () => number;
  /** Injected transport (tests), used in both modes; default: a Transport to `server` (Secure Mode: to its secure port, mutual TLS). */
  transport?: Pick<Transport, 'post'>;
  // --- a running phone (start/stop) ---
  /** Run the contact-me listener while started (default true; manual p.14). */
  contactMe?: boolean;
  /** Contact gap (WBM "Contact gap", item dls-contact-interval): default 300 s (wpi-protocol.md §2.6). */
  contactGapMs?: number;
  /** Firmware ≥ V3R3 honours CleanUp send-solicited (manual p.31); false = the item is ignored. */
  sendSolicitedSupported?: boolean;
  /** File names whose simulated download fails (also any name containing "missing"). */
  failFiles?: Iterable<string>;
  /**
   * A multiple-file deployment (p.55) takes effect once the interaction has ended, as a phone that
   * downloads after it has accepted: a ReadAllItems in the same interaction does not show it yet.
   * Default: carried out before the phone answers.
   */
  downloadAfterInteraction?: boolean;
  /** Reboot time after Restart, factory reset or firmware, before the new start-up (default 2000 ms). */
  rebootMs?: number;
  /** DCMP URL the phone polls, e.g. http://127.0.0.1:8080/dcmp/ (manual p.15, p.24). */
  dcmpUrl?: string;
  /** Poll interval (default 60 s). */
  pollIntervalMs?: number;
  /** Sees every message sent and the answer received (logging, debugging). */
  onExchange?: (sentXml: string, answer: ExchangeResult) => void;
  // --- Secure Mode (manual p.62–68) ---
  /** The PIN the user types when the phone shows its PIN dialog (PIN bootstrapping, p.67). */
  pin?: string;
  /** The PINs the user types, in order (e.g. wrong ones first); replaces `pin`. */
  pinAttempts?: readonly string[];
  /** Answer this as bootstrapping-tan instead of the last 3 characters of the PIN typed (p.68). */
  tanOverride?: string;
  /** Keep the Secure-Mode credential in this directory (one JSON file per MAC, mode 0600). */
  stateDir?: string;
}

/** What made the phone open an interaction. `call` = runInteraction() called directly. */
export type InteractionTrigger = 'call' | 'start' | 'contact-me' | 'dcmp' | 'send-solicited' | 'reboot' | 'bootstrap';

export interface RunInteractionOptions {
  /** Connect here instead of the configured service (contact-me dls_ip_addr / dls_ip_port, p.14). */
  server?: string;
  trigger?: InteractionTrigger;
  /** Aborts the exchange in flight (the phone is stopped). */
  signal?: AbortSignal;
}

/** One file of a FileDeployment as the phone handled it. */
export interface FileOutcome {
  action: 'deploy' | 'delete';
  name: string;
  type: string;
  /** deploy: the simulated download; delete: whether the file was there. */
  status: 'ok' | 'failed';
  /** Index of its file-deployment-* items (deploy only). */
  index?: number;
}

/** What became of a bootstrapping WriteItems (goto-secure-mode, manual p.62–68) or of the bootstrap. */
export interface BootstrapOutcome {
  /** goto-secure-mode as sent (nopin or pin; anything else is invalid data). */
  variant: string;
  /**
   * - secure: the phone switched; its next message goes to `server` (p.65 step 5);
   * - invalid-data: unusable items, answered with "invalid data" (p.26); still the previous mode;
   * - busy: in a call, refused with status busy (p.62);
   * - not-completed: accepted, but the interaction did not end with CleanUp: nothing taken;
   * - waiting-for-pin: the PIN dialog is open and nobody typed the right PIN yet (enterPin());
   * - pin-retries-exceeded: more than max-pin-retries wrong PINs (p.83): clean-up sent next;
   * - unusable: the PIN opened secure-mode-data but its contents are unusable;
   * - wrong-tan: the service ended with "wrong TAN from device" (p.31): back in Default Mode.
   */
  outcome: 'secure' | 'invalid-data' | 'busy' | 'not-completed' | 'waiting-for-pin' | 'pin-retries-exceeded' | 'unusable' | 'wrong-tan';
  server?: string;
  pinsTyped?: number;
  wrongPins?: number;
  maxPinRetries?: number;
  /** invalid-data, unusable: why, one line each. */
  problems?: string[];
}

/** A Secure-Mode event of the phone ('secure-mode' event, also kept in phone.modeChanges). */
export interface SecureModeChange {
  mac: string;
  /**
   * switched: now in Secure Mode on `server`; pin-dialog: waiting for a PIN; pin-retries-exceeded,
   * invalid-data, unusable: the bootstrap failed, mode unchanged; wrong-tan, factory-reset: back in
   * Default Mode.
   */
  change: 'switched' | 'pin-dialog' | 'pin-retries-exceeded' | 'invalid-data' | 'unusable' | 'wrong-tan' | 'factory-reset';
  /** The phone's mode after the change. */
  mode: PhoneMode;
  variant?: 'nopin' | 'pin';
  server?: string;
  pinsTyped?: number;
  wrongPins?: number;
  maxPinRetries?: number;
  problems?: string[];
}

/** What enterPin() did with one PIN. */
export type PinResult = 'secure' | 'wrong-pin' | 'pin-retries-exceeded' | 'unusable' | 'no-pin-dialog';

export interface InteractionResult {
  mac: string;
  reason: FirstMessageReason;
  trigger?: InteractionTrigger;
  /** The mode the interaction ran in. */
  mode: PhoneMode;
  /** Set when the phone connected somewhere other than its configured service (Secure Mode: always, the secure port). */
  server?: string;
  ok: boolean;
  /** HTTPS request/response pairs. */
  exchanges: number;
  /** Actions of the service's answers, in order. */
  actions: Action[];
  error?: string;
  /** How the service ended it; after Restart and SoftwareDeployment the phone reboots (p.50, p.56). */
  end?: 'CleanUp' | 'Restart' | 'SoftwareDeployment';
  cleanupReason?: string;
  /** The cleanup-reason of the RFC clean-up the phone sent when it could not read an answer (p.13). */
  cleanUpSent?: string;
  sendSolicited?: boolean;
  factoryReset?: boolean;
  /** FileDeployment outcomes (p.52–55). */
  files?: FileOutcome[];
  /** software-version after a SoftwareDeployment, e.g. V1 R4.9.0 (p.54, p.57). */
  softwareVersion?: string;
  /** A bootstrapping WriteItems in this interaction, or a wrong TAN at its end (p.62–68, p.31). */
  bootstrap?: BootstrapOutcome;
  durations: { totalMs: number; exchangesMs: number[] };
  tls?: TlsInfo;
}

/** Events of a phone; 'interaction' fires for every interaction, the others only while started. */
export interface PhoneEvents {
  interaction: [InteractionResult];
  /** start(): the contact-me listener is bound. */
  listening: [{ mac: string; contactMeUri: string }];
  'contact-me': [ContactMeRecord];
  /** The call ended; `solicited` = the phone opened its send-solicited connection now (p.72). */
  'busy-ended': [{ mac: string; solicited: boolean }];
  poll: [DcmpPollRecord];
  rebooting: [{ mac: string; cause: 'Restart' | 'FactoryReset' | 'SoftwareDeployment'; delayMs: number }];
  /** Secure Mode: switched, PIN dialog, bootstrap failed, back in Default Mode (p.62–68). */
  'secure-mode': [SecureModeChange];
}

/** The PIN dialog the phone shows after a PIN bootstrap (p.67). */
interface PinDialog {
  data: Buffer;
  maxPinRetries: number;
  typed: number;
  wrong: number;
  /** A PIN is being checked (PBKDF2 runs). */
  checking: boolean;
}

/** Ends the loop with an error result. */
class InteractionError extends Error {}

/** A 200 answer that is not a readable DLSMessage: "invalid XML received" (manual p.13). */
class UnreadableAnswer extends InteractionError {}

/**
 * The cleanup-reason the phone gives then. The manual names the case but gives no text (it has one
 * only for PIN retries, p.83) [INF].
 */
export const UNREADABLE_ANSWER_REASON = 'invalid XML received';

/** Where one interaction's messages go. */
interface Link {
  transport: Pick<Transport, 'post'>;
  jar: CookieJar;
  signal: AbortSignal | undefined;
}

/** A phone message waiting to be sent; the nonce is added at send time. */
interface Outgoing {
  message: Omit<WorkpointMessage, 'nonce'>;
  /** The busy reply has no ItemList at all (manual p.46, p.76). */
  omitItemList?: boolean;
}

export class SimulatedPhone extends EventEmitter<PhoneEvents> {
  readonly mac: string;
  /** The configured service (the phone's "DLS address"). */
  readonly server: string;
  readonly options: Readonly<PhoneOptions>;
  readonly config: PhoneConfig;
  readonly maxItems: number;
  readonly fragmentBytes: number;
  busyUntil: number | undefined;
  /** Restarts done (Restart action); the next interaction is then a start-up. */
  reboots = 0;
  factoryResets = 0;
  /** CleanUp carried send-solicited: the phone owes the service one solicited connection (manual p.72). */
  solicitedPending = false;
  readonly sendSolicitedSupported: boolean;
  /** Contact gap in ms; a WriteItems of dls-contact-interval (seconds) changes it [FIELD]. */
  contactGapMs: number;
  /** Every contact-me the listener received (accepted, ignored or refused), oldest first. */
  readonly contactMes: ContactMeRecord[] = [];
  /** The last 100 DCMP polls, oldest first. */
  readonly polls: DcmpPollRecord[] = [];
  /** Every Secure-Mode event, oldest first (also emitted as 'secure-mode'). */
  readonly modeChanges: SecureModeChange[] = [];
  private needsStartUp = false;
  /** Secure Mode: the credential the phone keeps (p.65 step 7); undefined in Default Mode. */
  private credential: SecureCredential | undefined;
  private secureTransport: Pick<Transport, 'post'> | undefined;
  /** The accepted bootstrapping WriteItems of this interaction, taken at its CleanUp (p.64–67). */
  private pendingBootstrap: BootstrapRequest | undefined;
  private pinDialog: PinDialog | undefined;
  /** The cleanup-reason of an RFC clean-up the phone owes the service (p.83). */
  private cleanUpOwed: string | undefined;
  /** Contact the service right away, without a trigger (after bootstrapping, p.65 step 5). */
  private contactNow = false;
  /** A phone runs one interaction at a time. */
  private running = false;
  private readonly failFiles: ReadonlySet<string>;
  /** Files of a multiple-file deployment accepted in this interaction, carried out when it ends (downloadAfterInteraction). */
  private downloads: (() => void)[] = [];
  private readonly initialGapMs: number;
  private readonly transportOptions: TransportOptions;
  private runtime: PhoneRuntime | undefined;
  /** Items changed on the phone itself, sent with the next local-changes message (V2R2+, manual p.37). */
  private localChanges = new Map<string, Item>();
  private readonly transport: Pick<Transport, 'post'>;
  private readonly maxExchanges: number;
  private readonly nowFn: () => number;
  /** The nonce of the interaction under way (keepNonce). */
  private flowNonce: string | undefined;
  private readonly onExchange: PhoneOptions['onExchange'];

  constructor(options: PhoneOptions) {
    super();
    this.options = options;
    this.server = options.server;
    const identity = phoneIdentity(options);
    this.mac = identity.mac;
    this.config = createPhoneConfig(identity, options);
    this.maxItems = options.maxItems ?? -1;
    this.fragmentBytes = options.fragmentBytes ?? MAX_MESSAGE_BYTES;
    this.busyUntil = options.busyUntil;
    this.maxExchanges = options.maxExchanges ?? 1000;
    this.nowFn = options.now ?? Date.now;
    this.onExchange = options.onExchange;
    this.sendSolicitedSupported = options.sendSolicitedSupported ?? true;
    this.failFiles = new Set(options.failFiles ?? []);
    this.initialGapMs = options.contactGapMs ?? DEFAULT_CONTACT_GAP_MS;
    this.contactGapMs = this.initialGapMs;
    this.setGapItem();
    this.transportOptions = {
      server: options.server,
      tls: options.tls,
      timeoutMs: options.timeoutMs,
      ...(options.bindIpAddress && options.ipAddress ? { localAddress: options.ipAddress } : {}),
    };
    this.transport = options.transport ?? new Transport(this.transportOptions);
    if (options.stateDir !== undefined) {
      this.credential = loadSecureState(options.stateDir, this.mac);
      if (this.credential) this.setItem('bootstrapping-tan', this.credential.tan ?? '');
    }
  }

  /** Default or Secure Mode (manual p.62). */
  get mode(): PhoneMode {
    return this.credential ? 'secure' : 'default';
  }

  /** Secure Mode: the URL the phone talks to (host of its service, the secure port). */
  get secureServer(): string | undefined {
    return this.credential ? this.secureUrl().href : undefined;
  }

  /** Secure Mode: the client credential and CA(s) the phone keeps. */
  get secureCredential(): Readonly<SecureCredential> | undefined {
    return this.credential;
  }

  /** A PIN bootstrap waits for the user (enterPin()). */
  get pinDialogOpen(): boolean {
    return this.pinDialog !== undefined;
  }

  /** The phone will contact the service at once (start-up on the secure port, or clean-up, after bootstrapping). */
  get contactDue(): boolean {
    return this.contactNow;
  }

  /**
   * The user types `pin` into the open PIN dialog (p.67): the PIN without its last 3 characters
   * opens secure-mode-data; a wrong one counts against max-pin-retries (p.83). On success the phone
   * switches to Secure Mode and (if started) sends start-up on the secure port at once.
   */
  async enterPin(pin: string): Promise<PinResult> {
    const dialog = this.pinDialog;
    if (!dialog) return 'no-pin-dialog';
    if (dialog.checking) throw new Error(`phone ${this.mac} is still checking the previous PIN`);
    dialog.checking = true;
    dialog.typed++;
    let data;
    try {
      data = await openSecureModeData(dialog.data, pinPasswordOf(pin));
    } catch (e) {
      if (this.pinDialog !== dialog) return 'no-pin-dialog'; // closed meanwhile (reset, reboot)
      dialog.checking = false;
      if (e instanceof SecureModeDataError && e.code === 'wrong-password') {
        dialog.wrong++;
        if (dialog.wrong <= dialog.maxPinRetries) return 'wrong-pin';
        this.pinDialog = undefined;
        this.cleanUpOwed = PASSWORD_RETRIES_EXCEEDED;
        this.dueNow();
        this.changeMode({ change: 'pin-retries-exceeded', variant: 'pin', ...dialogCounts(dialog) });
        return 'pin-retries-exceeded';
      }
      this.pinDialog = undefined;
      this.changeMode({ change: 'unusable', variant: 'pin', ...dialogCounts(dialog), problems: [(e as Error).message] });
      return 'unusable';
    }
    if (this.pinDialog !== dialog) return 'no-pin-dialog';
    this.pinDialog = undefined;
    const problem = contentsProblem(data);
    if (problem !== undefined) {
      this.changeMode({ change: 'unusable', variant: 'pin', ...dialogCounts(dialog), problems: [problem] });
      return 'unusable';
    }
    this.enterSecureMode({ variant: 'pin', securePort: data.securePort, pkcs12: data.pkcs12, caPems: data.caPems, tan: this.options.tanOverride ?? tanOfPin(pin), since: this.now() }, dialogCounts(dialog));
    return 'secure';
  }

  /** The phone is started: listener, timers and polling run until stop(). */
  get started(): boolean {
    return this.runtime?.started === true;
  }

  get inInteraction(): boolean {
    return this.running;
  }

  /** Between a Restart / firmware deployment and the new start-up (while started). */
  get rebooting(): boolean {
    return this.runtime?.rebooting === true;
  }

  /** Opens the contact-me listener only (start() does it too): see PhoneRuntime.listen. */
  async listen(): Promise<void> {
    if (this.runtime?.started) return;
    this.runtime ??= new PhoneRuntime(this);
    await this.runtime.listen();
  }

  /**
   * Starts the phone (§1.4.4 of the manual: a phone on the network): the contact-me listener on
   * ipAddress:contactMePort (0 = a free port; contact-me-uri then carries the bound port), the
   * first interaction (start-up), then contact-me call-backs, send-solicited reconnects, reboots
   * and DCMP polling until stop(). Resolves with the first interaction's result.
   */
  async start(reason: ContactReason = 'start-up'): Promise<InteractionResult> {
    if (this.runtime?.started) throw new Error(`phone ${this.mac} is already started`);
    const runtime = (this.runtime ??= new PhoneRuntime(this));
    try {
      return await runtime.start(reason);
    } catch (e) {
      // A start that failed stopped its runtime (its abort fired): the next start makes a new one (helper-64).
      if (this.runtime === runtime) this.runtime = undefined;
      throw e;
    }
  }

  /** Closes the listener, every timer and the exchange in flight. */
  async stop(): Promise<void> {
    const runtime = this.runtime;
    // A stopped runtime is done (its abort fired): the next start or listen makes a new one.
    this.runtime = undefined;
    await runtime?.stop();
  }

  /** A call starts now for `durationMs` (manual p.46: WriteItems are then refused as busy). */
  startCall(durationMs: number): void {
    this.busyUntil = this.now() + durationMs;
    this.runtime?.callChanged();
  }

  /** The call ends now; a started phone then makes its pending send-solicited connection (p.72). */
  endCall(): void {
    if (this.busyUntil === undefined) return;
    this.busyUntil = this.now();
    this.runtime?.callChanged();
  }

  /** Resolves with the next `event` whose arguments satisfy `predicate`. */
  next<E extends keyof PhoneEvents>(event: E, predicate: (...args: PhoneEvents[E]) => boolean = () => true): Promise<PhoneEvents[E]> {
    return new Promise((resolve) => {
      const listener = (...args: PhoneEvents[E]): void => {
        if (!predicate(...args)) return;
        this.off(event, listener as never);
        resolve(args);
      };
      this.on(event, listener as never);
    });
  }

  /** The contact-me listener is bound: contact-me-uri (and ipaddress) must say where (p.27, p.35). */
  setContactMeAddress(ipAddress: string, port: number): void {
    const id = this.config.identity;
    id.ipAddress = ipAddress;
    id.contactMePort = port;
    for (const [name, value] of [['contact-me-uri', contactMeUri(id)], ['ipaddress', ipAddress]] as const) {
      const item = this.config.items.get(name);
      if (item) item.value = value;
    }
  }

  /** The clock the phone uses (busy, contact gap, file dates). */
  now(): number {
    return this.nowFn();
  }

  get contactMeUri(): string {
    return contactMeUri(this.config.identity);
  }

  get busy(): boolean {
    return this.busyUntil !== undefined && this.now() < this.busyUntil;
  }

  /** A user or admin changed settings on the phone (menu or WBM): remembered for local-changes. */
  changeLocally(items: readonly Item[]): void {
    for (const item of items) {
      const stored: Item = { name: item.name, value: item.value };
      if (item.index !== undefined) stored.index = item.index;
      this.config.items.set(itemKey(item.name, item.index), stored);
      this.localChanges.set(itemKey(item.name, item.index), stored);
    }
    this.config.configurationChanged = true;
  }

  /**
   * Runs one interaction: sends the first message, then answers the service until CleanUp,
   * Restart or SoftwareDeployment. After a reboot the next interaction is a start-up whatever
   * `reason` says. Emits 'interaction' with the result.
   */
  async runInteraction(reason: ContactReason = 'start-up', options: RunInteractionOptions = {}): Promise<InteractionResult> {
    const result = await this.interact(reason, options);
    this.emit('interaction', result);
    return result;
  }

  private async interact(requested: ContactReason, options: RunInteractionOptions): Promise<InteractionResult> {
    let reason: FirstMessageReason = requested;
    // An owed clean-up (p.83) or start-up (after a reboot or a bootstrap) goes first.
    if (!this.running) reason = this.cleanUpOwed !== undefined ? 'clean-up' : this.needsStartUp ? 'start-up' : requested;
    const started = performance.now();
    const result: InteractionResult = { mac: this.mac, reason, mode: this.mode, ok: false, exchanges: 0, actions: [], durations: { totalMs: 0, exchangesMs: [] } };
    if (options.trigger) result.trigger = options.trigger;
    if (this.running) return { ...result, error: 'the phone is already in an interaction' };
    const { transport, server } = this.route(options.server);
    if (server) result.server = server;
    this.running = true;
    this.flowNonce = undefined;
    if (reason === 'start-up') this.needsStartUp = false;
    const cleanupReason = this.cleanUpOwed;
    this.cleanUpOwed = undefined;
    this.contactNow = false;
    this.pendingBootstrap = undefined;
    // A new interaction is a new HTTPS session (CleanUp closed the last one, manual p.35).
    const jar = new CookieJar();
    const link: Link = { transport, jar, signal: options.signal };
    try {
      let outgoing: Outgoing = this.firstMessage(reason, cleanupReason);
      let queued: Outgoing[] = [];
      for (;;) {
        if (result.exchanges >= this.maxExchanges) throw new InteractionError(`service did not end the interaction within ${this.maxExchanges} exchanges`);
        const answer = await this.exchange(outgoing, link, result);
        result.actions.push(answer.action);
        if (queued.length > 0 && answer.action !== 'GetNextFragment') {
          throw new InteractionError(`service answered ${answer.action} while ${queued.length} fragment(s) of the phone's reply were still pending (expected GetNextFragment, manual p.70)`);
        }
        switch (answer.action) {
          case 'GetNextFragment': {
            const next = queued.shift();
            if (next === undefined) throw new InteractionError('service sent GetNextFragment but the phone has no fragment pending');
            outgoing = next;
            break;
          }
          case 'CleanUp': {
            const reasonItem = answer.items.find((i) => i.name === 'cleanup-reason');
            if (reasonItem) result.cleanupReason = reasonItem.value;
            if (answer.items.some((i) => i.name === 'send-solicited' && i.value.trim().toLowerCase() === 'true')) {
              result.sendSolicited = true;
              // Firmware before V3R3 does not know the item and ignores it (manual p.31).
              if (this.sendSolicitedSupported) this.solicitedPending = true;
            }
            await this.afterCleanUp(result);
            return this.finish(result, 'CleanUp', started);
          }
          case 'Restart':
            this.restart(answer, result);
            return this.finish(result, 'Restart', started);
          case 'SoftwareDeployment': {
            const reply = this.deploySoftware(answer, result);
            if (reply === 'reboot') return this.finish(result, 'SoftwareDeployment', started);
            [outgoing, ...queued] = reply;
            break;
          }
          default:
            [outgoing, ...queued] = this.answer(answer, result);
        }
      }
    } catch (err) {
      if (err instanceof UnreadableAnswer) await this.cleanUpAfterUnreadable(link, result);
      // A start-up (or clean-up) that reached no service is still owed: the next interaction sends it.
      if (reason === 'start-up' && result.exchanges === 0) this.needsStartUp = true;
      if (reason === 'clean-up' && result.exchanges === 0) this.cleanUpOwed = cleanupReason;
      result.error = err instanceof InteractionError || err instanceof TransportError ? err.message : `unexpected: ${String(err)}`;
      result.durations.totalMs = performance.now() - started;
      return result;
    } finally {
      // Accepted is accepted: the downloads happen however the interaction ended.
      for (const download of this.downloads.splice(0)) download();
      // A bootstrap the interaction did not end with CleanUp is dropped (its outcome says not-completed).
      this.pendingBootstrap = undefined;
      this.running = false;
    }
  }

  /** Where this interaction goes: Default Mode the service (or contact-me's address), Secure Mode its secure port. */
  private route(override: string | undefined): { transport: Pick<Transport, 'post'>; server?: string } {
    if (!this.credential) {
      if (!override) return { transport: this.transport };
      return { transport: this.options.transport ?? new Transport({ ...this.transportOptions, server: override }), server: override };
    }
    // Secure Mode: only the secure port, with the client certificate (p.65 steps 5–8). A
    // contact-me's dls_ip_addr still moves the host; its dls_ip_port is the default port [INF].
    const url = this.secureUrl(override);
    if (this.options.transport) return { transport: this.options.transport, server: url.href };
    if (override) return { transport: new Transport({ ...this.transportOptions, server: url, tls: this.secureTls() }), server: url.href };
    this.secureTransport ??= new Transport({ ...this.transportOptions, server: url, tls: this.secureTls() });
    return { transport: this.secureTransport, server: url.href };
  }

  private secureUrl(base?: string): URL {
    const url = serverUrl(base ?? this.server);
    url.port = String(this.credential!.securePort);
    return url;
  }

  /**
   * Mutual TLS: the client certificate from the PKCS#12 (empty password), the server certificate
   * verified against dls-server-ca, host name / IP checked against its SAN (p.62, p.64–65).
   * Protocol limits of old firmware (--tls1.0) still apply.
   */
  private secureTls(): TlsClientOptions {
    const base = this.options.tls ?? {};
    const cred = this.credential!;
    return {
      ...(base.minVersion ? { minVersion: base.minVersion } : {}),
      ...(base.maxVersion ? { maxVersion: base.maxVersion } : {}),
      ...(base.ciphers ? { ciphers: base.ciphers } : {}),
      pfx: cred.pkcs12,
      passphrase: PKCS12_PASSWORD,
      ca: cred.caPems,
      rejectUnauthorized: true,
    };
  }

  /**
   * The interaction ended with CleanUp (p.64–68): a wrong TAN ends Secure Mode [INF]; an accepted
   * bootstrap is taken now — nopin: the credential; pin: the PIN dialog, fed with the PINs the
   * user types.
   */
  private async afterCleanUp(result: InteractionResult): Promise<void> {
    if (result.cleanupReason === WRONG_TAN_FROM_DEVICE && this.credential) {
      const variant = this.credential.variant;
      // The service refused the TAN and no longer trusts the credential (LocalDLS revokes it);
      // kept, it would only get the phone refused on the secure port. Back to Default Mode, where
      // the service can bootstrap it again.
      this.leaveSecureMode('wrong-tan');
      result.bootstrap = { variant, outcome: 'wrong-tan' };
    }
    const boot = this.pendingBootstrap;
    this.pendingBootstrap = undefined;
    if (!boot) return;
    if (boot.variant === 'nopin') {
      this.enterSecureMode({ variant: 'nopin', securePort: boot.securePort, pkcs12: boot.pkcs12, caPems: boot.caPems, since: this.now() });
      result.bootstrap = { variant: 'nopin', outcome: 'secure', server: this.secureServer! };
      return;
    }
    const dialog: PinDialog = { data: boot.data, maxPinRetries: boot.maxPinRetries, typed: 0, wrong: 0, checking: false };
    this.pinDialog = dialog;
    let last: PinResult | undefined;
    for (const pin of this.options.pinAttempts ?? (this.options.pin !== undefined ? [this.options.pin] : [])) {
      last = await this.enterPin(pin);
      if (last !== 'wrong-pin') break;
    }
    const counts = dialogCounts(dialog);
    if (this.pinDialog === dialog) {
      result.bootstrap = { variant: 'pin', outcome: 'waiting-for-pin', ...counts };
      this.changeMode({ change: 'pin-dialog', variant: 'pin', ...counts });
    } else if (last === 'secure') result.bootstrap = { variant: 'pin', outcome: 'secure', server: this.secureServer!, ...counts };
    else if (last === 'pin-retries-exceeded') result.bootstrap = { variant: 'pin', outcome: 'pin-retries-exceeded', ...counts };
    else result.bootstrap = { variant: 'pin', outcome: 'unusable', ...counts, problems: this.modeChanges.at(-1)?.problems ?? [] };
  }

  private enterSecureMode(credential: SecureCredential, counts: { pinsTyped?: number; wrongPins?: number; maxPinRetries?: number } = {}): void {
    this.credential = credential;
    this.secureTransport = undefined;
    this.setItem('bootstrapping-tan', credential.tan ?? '');
    // Right away: start-up on the secure port (p.65 step 5, p.67 step 7).
    this.needsStartUp = true;
    this.dueNow();
    this.changeMode({ change: 'switched', variant: credential.variant, server: this.secureServer!, ...counts });
    if (this.options.stateDir !== undefined) {
      try {
        saveSecureState(this.options.stateDir, this.mac, credential);
      } catch (e) {
        throw new InteractionError(`switched to Secure Mode, but cannot keep it in ${this.options.stateDir}: ${(e as Error).message}`);
      }
    }
  }

  private leaveSecureMode(change: 'wrong-tan' | 'factory-reset'): void {
    const server = this.secureServer;
    this.credential = undefined;
    this.secureTransport = undefined;
    this.setItem('bootstrapping-tan', '');
    if (this.options.stateDir !== undefined) clearSecureState(this.options.stateDir, this.mac);
    this.changeMode({ change, ...(server ? { server } : {}) });
  }

  private changeMode(change: Omit<SecureModeChange, 'mac' | 'mode'>): void {
    const event: SecureModeChange = { mac: this.mac, ...change, mode: this.mode };
    this.modeChanges.push(event);
    this.emit('secure-mode', event);
  }

  /** Contact the service at once; a started phone outside an interaction does it now. */
  private dueNow(): void {
    this.contactNow = true;
    if (!this.running) this.runtime?.contactDue();
  }

  private setItem(name: string, value: string): void {
    const item = this.config.items.get(name);
    if (item) item.value = value;
  }

  /** The phone's messages for one service Action; more than one when the reply is fragmented. */
  private answer(message: DLSMessage, result: InteractionResult): Outgoing[] {
    switch (message.action) {
      case 'ReadAllItems':
        return this.reply('ReadAllItems', 'accepted', allItems(this.config));
      case 'ReadItems':
        return this.reply('ReadItems', 'accepted', readItems(this.config, message.items));
      case 'WriteItems': {
        const bootstrap = message.items.some((i) => i.name === 'goto-secure-mode') && !this.config.unknown.has('goto-secure-mode');
        if (this.busy) {
          // Bootstrapping too is refused during a call (p.62).
          if (bootstrap) result.bootstrap = { variant: message.items.find((i) => i.name === 'goto-secure-mode')!.value.trim(), outcome: 'busy' };
          return this.reply('WriteItems', 'busy', []).map((o) => ({ ...o, omitItemList: true }));
        }
        if (bootstrap) return this.bootstrapWrite(message, result);
        const { failed, statuses } = applyWriteItems(this.config, message.items);
        const gap = message.items.find((i) => i.name === 'dls-contact-interval');
        if (gap && statuses.some((s) => s.name === 'dls-contact-interval' && s.status === 'accepted') && /^\d+$/.test(gap.value.trim())) {
          this.contactGapMs = Number(gap.value.trim()) * 1000;
        }
        return this.reply('WriteItems', 'accepted', failed);
      }
      case 'FileDeployment':
        return this.deployFiles(message, result);
      default:
        // Nothing else reaches here (CleanUp, Restart, SoftwareDeployment, GetNextFragment are
        // handled by the loop); "failed" = not accepted or unsupported (manual p.29).
        return this.reply(message.action, 'failed', []);
    }
  }

  /**
   * The bootstrapping WriteItems (p.64, p.67): the phone checks it can use the items and answers
   * accepted; unusable ones get "invalid data" (p.26) and nothing is taken. The credential is
   * taken only at the CleanUp (p.64–65 steps 3–5). Other items in the same message are written
   * as usual; the bootstrapping items are never stored as settings (ReadAllItems excludes
   * certificates, p.30).
   */
  private bootstrapWrite(message: DLSMessage, result: InteractionResult): Outgoing[] {
    const others = applyWriteItems(this.config, message.items.filter((i) => !BOOTSTRAP_ITEM_NAMES.has(i.name)));
    const request = parseBootstrap(message.items);
    if ('invalid' in request) {
      result.bootstrap = { variant: request.variant, outcome: 'invalid-data', problems: request.problems };
      this.changeMode({ change: 'invalid-data', ...(request.variant === 'pin' || request.variant === 'nopin' ? { variant: request.variant } : {}), problems: request.problems });
      return this.reply('WriteItems', 'accepted', [...request.invalid, ...others.failed]);
    }
    this.pendingBootstrap = request;
    result.bootstrap = { variant: request.variant, outcome: 'not-completed', ...(request.variant === 'pin' ? { maxPinRetries: request.maxPinRetries } : {}) };
    return this.reply('WriteItems', 'accepted', others.failed);
  }

  /**
   * FileDeployment (manual p.52–55). Single file: the phone downloads it and sends RFC `status`
   * with the basic items and the file-deployment-* items of that file, in the same session.
   * Multiple files (index + file-action): all applied, and "the phone sends no status
   * information" (p.55). The manual shows no message at all for that case, but HTTP needs a next
   * request to go on, so the phone answers reply-to accepted with <ItemList/> [INF]. What it did
   * shows in its file-deployment-* items (p.245): deleted files gone, failed transfers as failed.
   * Unusable items (no file-type, no source) are not accepted: reply-to failed (p.29).
   */
  private deployFiles(message: DLSMessage, result: InteractionResult): Outgoing[] {
    const request = parseFileDeployment(message.items);
    if ('error' in request) return this.reply('FileDeployment', 'failed', []);
    const outcomes: FileOutcome[] = (result.files ??= []);
    const records: DeployedFile[] = [];
    const carryOut = () => {
      const at = new Date(this.now());
      for (const file of request.files) {
        if (file.action === 'delete') {
          outcomes.push({ action: 'delete', name: file.name, type: file.type, status: deleteFile(this.config, file.name, file.type) ? 'ok' : 'failed' });
          continue;
        }
        const status = downloadFails(file.name, this.failFiles) ? 'failed' : 'ok';
        // Failed transfers are listed too (file-deployment-status ok/failed, p.245).
        const record = recordFile(this.config, { name: file.name, type: file.type, status }, at);
        records.push(record);
        outcomes.push({ action: 'deploy', name: file.name, type: file.type, status, index: record.index });
      }
    };
    if (request.multiple && this.options.downloadAfterInteraction) this.downloads.push(carryOut);
    else carryOut();
    if (request.multiple) return this.reply('FileDeployment', 'accepted', []);
    return [{ message: { maxItems: this.maxItems, reason: 'status', items: [...startUpItems(this.config), ...records.flatMap(deploymentItems)] } }];
  }

  /**
   * SoftwareDeployment (manual p.56–57): the phone fetches the image, ends the interaction without
   * a reply, reboots and reports the new software-version in its next start-up.
   * - file-priority normal during a call: "the deployment will be rejected" (p.56 note); the form is
   *   not shown, the phone answers reply-to status="busy" without ItemList, like WriteItems [INF].
   * - unusable items or a failed download: reply-to status="failed" (p.29) [INF].
   */
  private deploySoftware(message: DLSMessage, result: InteractionResult): Outgoing[] | 'reboot' {
    const request = parseSoftwareDeployment(message.items);
    if ('error' in request) return this.reply('SoftwareDeployment', 'failed', []);
    if (this.busy && request.priority === 'normal') return this.reply('SoftwareDeployment', 'busy', []).map((o) => ({ ...o, omitItemList: true }));
    if (downloadFails(request.name, this.failFiles)) return this.reply('SoftwareDeployment', 'failed', []);
    this.config.identity.softwareVersion = request.label;
    for (const name of ['software-version', 'related-software-version']) {
      const item = this.config.items.get(name);
      if (item) item.value = request.label;
    }
    result.softwareVersion = request.label;
    this.reboot();
    return 'reboot';
  }

  /** reply-to message(s), split by the phone's own maxItems and 50 kB rule (manual p.69–70). */
  private reply(action: Action, status: ReplyStatus, items: Item[]): Outgoing[] {
    const envelope = { maxItems: this.maxItems, reason: 'reply-to', action, status } as const;
    // Measured with a nonce of the length exchange() gives every message.
    const parts = fragmentItems({ ...envelope, nonce: newNonce() }, items, { maxItems: this.maxItems, maxBytes: this.fragmentBytes });
    return parts.map((part, i) => ({
      message: { ...envelope, fragment: i < parts.length - 1 ? 'next' : 'final', items: part },
    }));
  }

  private firstMessage(reason: FirstMessageReason, cleanupReason?: string): Outgoing {
    const items = startUpItems(this.config);
    // The phone's clean-up carries its basic items and the reason (p.83).
    if (reason === 'clean-up') items.push({ name: 'cleanup-reason', value: cleanupReason ?? '' });
    if (reason === 'local-changes') {
      items.push(...this.localChanges.values());
      this.localChanges.clear();
    } else if (reason === 'inventory-changes') {
      items.push(...inventoryItems(this.config));
    }
    // No fragment attribute on first messages, as phones send them (wpi-protocol.md §3.2).
    return { message: { maxItems: this.maxItems, reason, items } };
  }

  /** One HTTPS round trip; returns the service's answer only if it is a valid reply to `message`. */
  private async exchange(outgoing: Outgoing, link: Link, result: InteractionResult): Promise<DLSMessage> {
    // A fresh nonce per message (wpi-protocol.md §3.6, p.48, p.60), or one for the whole flow (p.34).
    if (!this.options.keepNonce || this.flowNonce === undefined) this.flowNonce = newNonce();
    const sent: WorkpointMessage = { ...outgoing.message, nonce: this.flowNonce };
    const xml = buildWorkpointMessage(sent, { omitItemList: outgoing.omitItemList === true });
    const res = await link.transport.post(xml, link.jar, link.signal);
    this.onExchange?.(xml, res);
    // The service got the idle phone's solicited connection: the cached send-solicited indication
    // is used up. A failed attempt keeps it (p.72); a call-back during a call does not count [INF].
    if (result.exchanges === 0 && result.reason === 'solicited' && !this.busy) this.solicitedPending = false;
    result.exchanges++;
    result.durations.exchangesMs.push(res.durationMs);
    result.tls = res.tls;
    if (res.status !== 200) throw new InteractionError(`service answered HTTP ${res.status} to ${describe(sent)}`);
    if (!res.message) throw new UnreadableAnswer(`service answer to ${describe(sent)} is not a DLSMessage: ${res.parseError ?? 'empty'}`);
    // The answer must carry the nonce of the message it answers (manual p.28, p.34).
    if (res.message.nonce !== sent.nonce) {
      throw new InteractionError(`service answer to ${describe(sent)} carries nonce ${res.message.nonce}, expected ${sent.nonce}`);
    }
    return res.message;
  }

  /**
   * Manual p.13: "in some error cases, e.g. invalid XML received, the phone sends a clean-up
   * message". Sent in the same HTTPS session (its cookie), as the phone's next message [INF]; the
   * interaction ends after the service's answer, whatever it is. An HTTP error status is not an
   * answer to read: the phone just stops then [INF].
   */
  private async cleanUpAfterUnreadable(link: Link, result: InteractionResult): Promise<void> {
    result.cleanUpSent = UNREADABLE_ANSWER_REASON;
    try {
      const answer = await this.exchange(this.firstMessage('clean-up', UNREADABLE_ANSWER_REASON), link, result);
      result.actions.push(answer.action);
    } catch {
      // Nothing more to do: the interaction ends either way, and its error is the first one.
    }
  }

  /** Restart (manual p.50–51): no reply, the phone reboots; factory reset with the right password. */
  private restart(message: DLSMessage, result: InteractionResult): void {
    const value = (name: string): string | undefined => message.items.find((i) => i.name === name)?.value;
    if (value('restart-type') === 'FactoryReset' && value('restart-password') === FACTORY_RESET_PASSWORD) {
      this.factoryReset();
      result.factoryReset = true;
    }
    this.reboot();
  }

  /**
   * Delivery state (manual p.51): initial items (the firmware stays), configuration-changed-flag
   * true, and Default Mode: the client credential and CA(s) are gone (wpi-protocol.md §5.7).
   */
  factoryReset(): void {
    this.pinDialog = undefined;
    this.cleanUpOwed = undefined;
    this.contactNow = false;
    if (this.credential) this.leaveSecureMode('factory-reset');
    factoryReset(this.config);
    this.factoryResets++;
    this.localChanges.clear();
    this.contactGapMs = this.initialGapMs;
    this.setGapItem();
  }

  /** Any reboot: the next interaction is a start-up; the call and send-solicited are gone (p.72). */
  private reboot(): void {
    this.reboots++;
    this.needsStartUp = true;
    // An open PIN dialog does not survive it; Secure Mode does (p.65 step 7).
    this.pinDialog = undefined;
    this.solicitedPending = false;
    this.busyUntil = undefined;
  }

  private setGapItem(): void {
    const item = this.config.items.get('dls-contact-interval');
    if (item) item.value = String(Math.round(this.contactGapMs / 1000));
  }

  private finish(result: InteractionResult, end: NonNullable<InteractionResult['end']>, started: number): InteractionResult {
    result.ok = true;
    result.end = end;
    result.durations.totalMs = performance.now() - started;
    // The service has now seen the configuration; a factory reset makes it unknown again.
    if (!result.factoryReset) this.config.configurationChanged = false;
    return result;
  }
}

function dialogCounts(dialog: PinDialog): { pinsTyped: number; wrongPins: number; maxPinRetries: number } {
  return { pinsTyped: dialog.typed, wrongPins: dialog.wrong, maxPinRetries: dialog.maxPinRetries };
}

export function newNonce(): string {
  return randomBytes(16).toString('hex').toUpperCase();
}

function describe(message: WorkpointMessage): string {
  if (message.reason !== 'reply-to') return `the ${message.reason} message`;
  return `reply-to ${message.action ?? ''}${message.fragment === 'next' ? ' (fragment next)' : ''}`.trim();
}
