/**
 * One simulated phone and its interaction loop: it opens an interaction (start-up, solicited, …),
 * answers every Action of the service the way the manual's phones do, and stops at CleanUp or
 * Restart (manual p.32–35, p.41–51, p.69–83). It trusts nothing the service sends: a wrong nonce,
 * an unparseable body or a non-200 answer ends the interaction with an error.
 */
import { randomBytes } from 'node:crypto';
import {
  buildWorkpointMessage,
  MAX_MESSAGE_BYTES,
  splitItems,
  type Action,
  type DLSMessage,
  type Item,
  type ItemStatus,
  type ReplyStatus,
  type WorkpointMessage,
} from '../main/wpi';
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
import { CookieJar, Transport, TransportError, type ExchangeResult, type TlsClientOptions, type TlsInfo } from './transport';

/** Reasons a phone opens an interaction with (manual p.28). */
export const CONTACT_REASONS = ['start-up', 'solicited', 'local-changes', 'inventory-changes'] as const;
export type ContactReason = (typeof CONTACT_REASONS)[number];

/** Factory reset needs this fixed password (manual p.51). */
export const FACTORY_RESET_PASSWORD = '124816';

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
  /** Injected transport (tests, Secure Mode later); default: a Transport to `server`. */
  transport?: Pick<Transport, 'post'>;
  /** Sees every message sent and the answer received (logging, debugging). */
  onExchange?: (sentXml: string, answer: ExchangeResult) => void;
}

export interface InteractionResult {
  mac: string;
  reason: ContactReason;
  ok: boolean;
  /** HTTPS request/response pairs. */
  exchanges: number;
  /** Actions of the service's answers, in order. */
  actions: Action[];
  error?: string;
  /** How the service ended it. */
  end?: 'CleanUp' | 'Restart';
  cleanupReason?: string;
  sendSolicited?: boolean;
  factoryReset?: boolean;
  durations: { totalMs: number; exchangesMs: number[] };
  tls?: TlsInfo;
}

/** Ends the loop with an error result. */
class InteractionError extends Error {}

/** A phone message waiting to be sent; the nonce is added at send time. */
interface Outgoing {
  message: Omit<WorkpointMessage, 'nonce'>;
  /** The busy reply has no ItemList at all (manual p.46, p.76). */
  omitItemList?: boolean;
}

export class SimulatedPhone {
  readonly mac: string;
  readonly config: PhoneConfig;
  readonly maxItems: number;
  readonly fragmentBytes: number;
  busyUntil: number | undefined;
  /** Restarts done (Restart action); the next interaction is then a start-up. */
  reboots = 0;
  factoryResets = 0;
  /** CleanUp carried send-solicited: the phone owes the service one solicited connection (manual p.72). */
  solicitedPending = false;
  private needsStartUp = false;
  /** A phone runs one interaction at a time. */
  private running = false;
  /** Items changed on the phone itself, sent with the next local-changes message (V2R2+, manual p.37). */
  private localChanges = new Map<string, Item>();
  private readonly transport: Pick<Transport, 'post'>;
  private readonly maxExchanges: number;
  private readonly now: () => number;
  private readonly onExchange: PhoneOptions['onExchange'];

  constructor(options: PhoneOptions) {
    const identity = phoneIdentity(options);
    this.mac = identity.mac;
    this.config = createPhoneConfig(identity, options);
    this.maxItems = options.maxItems ?? -1;
    this.fragmentBytes = options.fragmentBytes ?? MAX_MESSAGE_BYTES;
    this.busyUntil = options.busyUntil;
    this.maxExchanges = options.maxExchanges ?? 1000;
    this.now = options.now ?? Date.now;
    this.onExchange = options.onExchange;
    this.transport = options.transport ?? new Transport({
        server: options.server,
        tls: options.tls,
        timeoutMs: options.timeoutMs,
        ...(options.bindIpAddress && options.ipAddress ? { localAddress: options.ipAddress } : {}),
      });
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
   * Runs one interaction: sends the first message, then answers the service until CleanUp or
   * Restart. After a Restart the next interaction is a start-up whatever `reason` says.
   */
  async runInteraction(reason: ContactReason = 'start-up'): Promise<InteractionResult> {
    if (this.needsStartUp) reason = 'start-up';
    const started = performance.now();
    const result: InteractionResult = { mac: this.mac, reason, ok: false, exchanges: 0, actions: [], durations: { totalMs: 0, exchangesMs: [] } };
    if (this.running) return { ...result, error: 'the phone is already in an interaction' };
    this.running = true;
    this.needsStartUp = false;
    // A new interaction is a new HTTPS session (CleanUp closed the last one, manual p.35).
    const jar = new CookieJar();
    if (reason === 'solicited') this.solicitedPending = false;
    try {
      let outgoing: Outgoing = this.firstMessage(reason);
      let queued: Outgoing[] = [];
      for (;;) {
        if (result.exchanges >= this.maxExchanges) throw new InteractionError(`service did not end the interaction within ${this.maxExchanges} exchanges`);
        const answer = await this.exchange(outgoing, jar, result);
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
              this.solicitedPending = true;
            }
            return this.finish(result, 'CleanUp', started);
          }
          case 'Restart':
            this.restart(answer, result);
            return this.finish(result, 'Restart', started);
          default:
            [outgoing, ...queued] = this.answer(answer);
        }
      }
    } catch (err) {
      result.error = err instanceof InteractionError || err instanceof TransportError ? err.message : `unexpected: ${String(err)}`;
      result.durations.totalMs = performance.now() - started;
      return result;
    } finally {
      this.running = false;
    }
  }

  /** The phone's messages for one service Action; more than one when the reply is fragmented. */
  private answer(message: DLSMessage): Outgoing[] {
    switch (message.action) {
      case 'ReadAllItems':
        return this.reply('ReadAllItems', 'accepted', allItems(this.config));
      case 'ReadItems':
        return this.reply('ReadItems', 'accepted', readItems(this.config, message.items));
      case 'WriteItems': {
        if (this.busy) return this.reply('WriteItems', 'busy', []).map((o) => ({ ...o, omitItemList: true }));
        const { failed } = applyWriteItems(this.config, message.items);
        return this.reply('WriteItems', 'accepted', failed);
      }
      default:
        // FileDeployment / SoftwareDeployment: not simulated yet; "failed" = not accepted or
        // unsupported (manual p.29).
        return this.reply(message.action, 'failed', []);
    }
  }

  /** reply-to message(s), split by the phone's own maxItems and 50 kB rule (manual p.69–70). */
  private reply(action: Action, status: ReplyStatus, items: Item[]): Outgoing[] {
    const parts = splitItems(items, { maxItems: this.maxItems, maxBytes: this.fragmentBytes });
    return parts.map((part, i) => ({
      message: {
        maxItems: this.maxItems,
        fragment: i < parts.length - 1 ? 'next' : 'final',
        reason: 'reply-to',
        action,
        status,
        items: part,
      },
    }));
  }

  private firstMessage(reason: ContactReason): Outgoing {
    const items = startUpItems(this.config);
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
  private async exchange(outgoing: Outgoing, jar: CookieJar, result: InteractionResult): Promise<DLSMessage> {
    // Every phone message carries a fresh nonce (wpi-protocol.md §3.6, p.48, p.60).
    const sent: WorkpointMessage = { ...outgoing.message, nonce: newNonce() };
    const xml = buildWorkpointMessage(sent, { omitItemList: outgoing.omitItemList === true });
    const res = await this.transport.post(xml, jar);
    this.onExchange?.(xml, res);
    result.exchanges++;
    result.durations.exchangesMs.push(res.durationMs);
    result.tls = res.tls;
    if (res.status !== 200) throw new InteractionError(`service answered HTTP ${res.status} to ${describe(sent)}`);
    if (!res.message) throw new InteractionError(`service answer to ${describe(sent)} is not a DLSMessage: ${res.parseError ?? 'empty'}`);
    // The answer must carry the nonce of the message it answers (manual p.28, p.34).
    if (res.message.nonce !== sent.nonce) {
      throw new InteractionError(`service answer to ${describe(sent)} carries nonce ${res.message.nonce}, expected ${sent.nonce}`);
    }
    return res.message;
  }

  /** Restart (manual p.50–51): no reply, the phone reboots; factory reset with the right password. */
  private restart(message: DLSMessage, result: InteractionResult): void {
    const value = (name: string): string | undefined => message.items.find((i) => i.name === name)?.value;
    if (value('restart-type') === 'FactoryReset' && value('restart-password') === FACTORY_RESET_PASSWORD) {
      factoryReset(this.config);
      this.factoryResets++;
      this.localChanges.clear();
      result.factoryReset = true;
    }
    this.reboots++;
    this.needsStartUp = true;
    // The cached send-solicited indication does not survive a restart (manual p.72).
    this.solicitedPending = false;
    this.busyUntil = undefined;
  }

  private finish(result: InteractionResult, end: 'CleanUp' | 'Restart', started: number): InteractionResult {
    result.ok = true;
    result.end = end;
    result.durations.totalMs = performance.now() - started;
    // The service has now seen the configuration; a factory reset makes it unknown again.
    if (!result.factoryReset) this.config.configurationChanged = false;
    return result;
  }
}

export function newNonce(): string {
  return randomBytes(16).toString('hex').toUpperCase();
}

function describe(message: WorkpointMessage): string {
  if (message.reason !== 'reply-to') return `the ${message.reason} message`;
  return `reply-to ${message.action ?? ''}${message.fragment === 'next' ? ' (fragment next)' : ''}`.trim();
}
