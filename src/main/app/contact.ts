/**
 * When and whom to send contact-me. The phone ignores a contact-me within its contact gap (default
 * 300 s, wpi-protocol.md §2.6) and field reports say more than one a minute can crash it, so every
 * contact-me — automatic or "contact now" — passes one gate: at most one per device per gap, never
 * two within a minute. Each attempt is recorded as an exchange of its own kind.
 */
import type { Device } from '../../shared/model';
import { sendContactMe, type ContactMeResult } from '../net/contact-me';
import { TurnQueue } from '../net/turns';
import { jobsAhead, supportsSendSolicited } from '../provisioning';
import { MAX_CONTACT_FAILURES, type ExchangeRecord, type Store } from '../store';
import { clipped } from '../../shared/quote';
import { notContactedNote, contactGapNote } from '../../shared/job-notes';
import { redactForStorage } from './redact';
import { skip as contactSkip, skipText, type Skip } from '../../shared/skip-reasons';

export interface ContactPolicy {
  /** The phone's contact gap; never below one minute. */
  gapMs: number;
  timeoutMs: number;
  /** Put dls_ip_addr/dls_ip_port (this port) into the request, so the phone answers here. */
  announcePort?: number;
  /** A phone that was busy and supports send-solicited calls back itself; ask again after this long. */
  busyRetryMs: number;
  /** Contact-me requests in flight at once. */
  concurrency: number;
  /** Failed contact-me requests in a row after which the device's waiting jobs fail. */
  maxFailures: number;
}

export const MIN_GAP_MS = 60_000;
const STOPPING = contactSkip('stopping');
/** Contact-me at once to one address (app/contact.ts due()). */
export const PER_HOST = 2;
export const DEFAULT_POLICY: ContactPolicy = { gapMs: 300_000, timeoutMs: 5000, busyRetryMs: 600_000, concurrency: 10, maxFailures: MAX_CONTACT_FAILURES };

export interface ContactOutcome {
  mac: string;
  /** The phone answered 204 and will call back. */
  ok: boolean;
  /** Not sent at all (gap, no URI, …): why, in English and as a key, and when it may be tried again. */
  skipped?: string;
  skip?: Skip;
  nextAt?: number;
  error?: string | null;
  exchangeId?: number;
  /** Failed contact-me requests in a row, this one included (when it failed). */
  failures?: number;
  /** Jobs that failed because the phone could not be reached (the bound was reached). */
  failedJobs?: number[];
}

/** How often the same "not contacted" note is written again for a device (it is kept in the store). */
const NOTE_REFRESH_MS = 60_000;

export class Contacts {
  private readonly inFlight = new Set<string>();
  /** Contacts under way (from the call of contact() to its end), by device: the address each goes to. */
  private readonly hostOf = new Map<string, string>();
  /** Devices whose waiting jobs carry a "not contacted" note, and when it was written (see due()). */
  private readonly noted = new Map<string, { note: string; at: number; queued: number }>();
  /** Contacts waiting for their turn to start (count per device): due() does not start them again. */
  private readonly starting = new Map<string, number>();
  private readonly policy: ContactPolicy;
  /** Set by close(): the store is about to close, so nothing more is claimed or recorded. */
  private closed = false;
  /** The Default-Mode port to announce in contact-me (dls_ip_port), once the service knows it. */
  announcePort: number | undefined;

  constructor(
    private readonly store: Store,
    policy: Partial<ContactPolicy>,
    private readonly record: (record: ExchangeRecord) => number = (r) => store.recordExchange(r),
    private readonly now: () => number = Date.now,
    /**
     * Each contact's store writes (before sending, and recording the answer) wait for a turn of
     * their own: ten answers arriving together must not hold the event loop for ten transactions.
     * The service passes the queue its listeners use (net/turns.ts).
     */
    private readonly turns: TurnQueue = new TurnQueue(),
  ) {
    this.policy = { ...DEFAULT_POLICY, ...policy };
    this.policy.gapMs = Math.max(this.policy.gapMs, MIN_GAP_MS);
    this.announcePort = this.policy.announcePort;
  }

  /** Whether a contact-me may go to this device now, and if not why. */
  gate(device: Device): { ok: true } | { ok: false; skip: Skip; nextAt?: number } {
    const unusable = uriProblem(device);
    if (unusable) return { ok: false, skip: unusable };
    if (this.inFlight.has(device.mac)) return { ok: false, skip: contactSkip('underWay') };
    const last = device.lastContactMe;
    if (last !== null && this.now() - last < this.policy.gapMs) {
      const nextAt = last + this.policy.gapMs;
      return { ok: false, skip: contactSkip('gap', { until: new Date(nextAt).toISOString() }), nextAt };
    }
    return { ok: true };
  }

  async contact(mac: string): Promise<ContactOutcome> {
    // Counted for its address from the call on (due() hands out no more to it than PER_HOST).
    this.hostOf.set(mac, this.store.device(mac)?.lastAddress ?? '');
    try {
      return await this.contactOnce(mac);
    } finally {
      this.hostOf.delete(mac);
    }
  }

  private async contactOnce(mac: string): Promise<ContactOutcome> {
    this.starting.set(mac, (this.starting.get(mac) ?? 0) + 1);
    try {
      await this.turn();
    } finally {
      const n = this.starting.get(mac)! - 1;
      if (n > 0) this.starting.set(mac, n);
      else this.starting.delete(mac);
    }
    if (this.closed) return skipped(mac, STOPPING);
    const device = this.store.device(mac);
    if (!device) return skipped(mac, contactSkip('noDevice', { mac }));
    const gate = this.gate(device);
    if (!gate.ok) return skipped(mac, gate.skip, gate.nextAt);
    // Counted from the moment it is sent, whatever the answer: that is what the phone's gap does.
    // Claimed in the store, not only checked: another process (the CLI beside the service, or the
    // service beside the CLI) may have sent one since the device was read.
    if (!this.store.jobs.claimContactMe(mac, this.now(), this.policy.gapMs)) {
      const nextAt = (this.store.device(mac)?.lastContactMe ?? this.now()) + this.policy.gapMs;
      return skipped(mac, contactSkip('gapElsewhere', { until: new Date(nextAt).toISOString() }), nextAt);
    }
    this.inFlight.add(mac);
    try {
      const result = await sendContactMe({
        uri: device.contactMeUri!,
        timeoutMs: this.policy.timeoutMs,
        ...(this.announcePort !== undefined && device.mode === 'default' ? { announcePort: this.announcePort } : {}),
      });
      await this.turn();
      // Stopped meanwhile: the store is closed; the phone's gap was claimed, its answer is not recorded.
      if (this.closed) return skipped(mac, STOPPING);
      const exchangeId = this.record(toRecord(mac, result));
      if (result.error === null) {
        this.store.contactFailures.answered(mac, this.now());
        return { mac, ok: true, error: null, exchangeId };
      }
      const { failures, failedJobs } = this.store.contactFailures.failed(mac, result.error, this.now(), this.policy.maxFailures);
      return { mac, ok: false, error: result.error, exchangeId, failures, failedJobs };
    } finally {
      this.inFlight.delete(mac);
    }
  }

  /** The service stops: contacts under way end without touching the store. */
  close(): void {
    this.closed = true;
  }

  private turn(): Promise<void> {
    return new Promise((resolve) => this.turns.push(resolve));
  }

  /** Contacts many devices, `concurrency` at a time, reporting each outcome as it comes. */
  async contactMany(macs: readonly string[], onOutcome?: (o: ContactOutcome) => void): Promise<ContactOutcome[]> {
    const outcomes: ContactOutcome[] = [];
    let next = 0;
    const worker = async () => {
      while (next < macs.length) {
        const o = await this.contact(macs[next++]!);
        outcomes.push(o);
        onOutcome?.(o);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.policy.concurrency, macs.length) }, worker));
    return outcomes;
  }

  /**
   * Contacts devices whose jobs wait. Queued jobs: as soon as the gap allows. Jobs the phone was
   * busy for: a phone with send-solicited calls back by itself, so ask again only after
   * busyRetryMs; older firmware gets a contact-me at every gap (manual p.46, p.72). A deployment
   * of several files waiting for its check (the phone reports none, p.55): once per gap.
   */
  due(isInInteraction: (mac: string) => boolean, holdsAll?: (mac: string) => boolean): string[] {
    const now = this.now();
    const due: string[] = [];
    // Longest without a contact-me first (never contacted before all): a phone contacted lately,
    // or a host that answers slowly with many MACs, cannot keep the slots from the others.
    const free = Math.max(0, this.policy.concurrency - this.inFlight.size - this.starting.size);
    // Contact-me per address: those under way, then those handed out here.
    const toHost = new Map<string, number>();
    for (const h of this.hostOf.values()) toHost.set(h, (toHost.get(h) ?? 0) + 1);
    const pending = this.store.jobs.pendingDevices().sort((a, b) => (a.lastContactMe ?? -1) - (b.lastContactMe ?? -1));
    for (const p of pending) {
      if (isInInteraction(p.mac) || this.inFlight.has(p.mac) || this.starting.has(p.mac) || this.hostOf.has(p.mac)) continue;
      // Every job it waits for is held by this service (a bootstrap with Secure Mode off): nothing to send.
      if (holdsAll?.(p.mac)) continue;
      // A phone that cannot be contacted is left out here, not tried and skipped on every tick: ten
      // of them first in the list would take every slot, and no other phone would be contacted.
      // Its waiting jobs say why, so the user sees what to fix (or that it waits for its own call).
      const unusable = uriProblem(p);
      if (unusable) {
        this.note(p.mac, notContactedNote(skipText(unusable)), now, p.queued);
        continue;
      }
      // Only jobs the phone was busy for, or queued ones held behind them (they write the same
      // items): the phone calls back when its call ends; until then, a contact only re-sends them.
      const waiting = p.queued === 0 || (p.waitingBusy > 0 && jobsAhead(this.store.jobs.pending(p.mac).filter((j) => j.state !== 'sent')).length === 0);
      const inGap = p.lastContactMe !== null && now - p.lastContactMe < this.policy.gapMs;
      if (inGap && !waiting) {
        // Queued jobs would wait minutes without a word: say for what, and until when.
        // Called back: an interaction opened since (last_contact moves with the contact-me's own record too).
        const calledBack = this.store.inspector.interactionSince(p.mac, p.lastContactMe!) !== null;
        this.note(p.mac, contactGapNote(p.lastContactMe!, p.lastContactMe! + this.policy.gapMs, calledBack), now, p.queued);
        continue;
      }
      this.unnote(p.mac, now);
      if (waiting) {
        // A deployment waiting for its check: asked again once per gap (its check moves `updated`).
        const callsBack = p.waitingBusy > 0 && supportsSendSolicited(this.store.device(p.mac)?.softwareVersion);
        const waitMs = callsBack ? this.policy.busyRetryMs : this.policy.gapMs;
        if (now - Math.max(p.oldestUpdate, p.lastContactMe ?? 0) < waitMs) continue;
      }
      if (inGap) continue;
      // Every slot taken: the loop goes on only for the notes above (every waiting phone gets its own).
      if (due.length >= free) continue;
      // At most PER_HOST contact-me at a time to one address: a host answering slowly for many
      // MACs (new ones, never contacted, keep coming) takes those slots, not all of them.
      const host = p.lastAddress ?? '';
      const n = toHost.get(host) ?? 0;
      if (n >= PER_HOST) continue;
      toHost.set(host, n + 1);
      due.push(p.mac);
    }
    // Devices no longer waiting: forget their note (the store's goes with the job's next change).
    if (this.noted.size) {
      const waiting = new Set(pending.map((p) => p.mac));
      for (const mac of [...this.noted.keys()]) if (!waiting.has(mac)) this.noted.delete(mac);
    }
    return due;
  }

  /** `queued`: its queued jobs now; a job queued since the last note gets one at once. */
  private note(mac: string, note: string, now: number, queued: number): void {
    const last = this.noted.get(mac);
    if (last && last.note === note && last.queued === queued && now - last.at < NOTE_REFRESH_MS) return;
    this.store.contactFailures.notContacted(mac, note, now);
    this.noted.set(mac, { note, at: now, queued });
  }

  private unnote(mac: string, now: number): void {
    if (!this.noted.delete(mac)) return;
    this.store.contactFailures.contactable(mac, now);
  }
}

/**
 * Why no contact-me can go to this phone (null: one can). A phone reports its own contact-me-uri;
 * only ever send it to the address the phone talks from, so a rogue device cannot make the service
 * POST to another host.
 */
function uriProblem(device: Pick<Device, 'contactMeUri' | 'lastAddress'>): Skip | null {
  if (!device.contactMeUri) return contactSkip('noUri');
  let url: URL;
  try {
    url = new URL(device.contactMeUri);
  } catch {
    // The phone's own words, quoted short: a 3 kB URI would fill the line.
    return contactSkip('uriNotUrl', { uri: clipped(device.contactMeUri, 120) });
  }
  if (url.protocol !== 'http:') return contactSkip('uriNotHttp', { protocol: url.protocol });
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const peer = (device.lastAddress ?? '').replace(/^::ffff:/, '');
  if (host !== peer) return contactSkip('uriElsewhere', { host, peer });
  return null;
}

const skipped = (mac: string, skip: Skip, nextAt?: number): ContactOutcome => ({ mac, ok: false, skipped: skipText(skip), skip, ...(nextAt ? { nextAt } : {}) });

function toRecord(mac: string, r: ContactMeResult): ExchangeRecord {
  return {
    kind: 'contact-me', started: r.started, ended: r.ended, listener: 'contact-me', localPort: 0, peerAddress: r.peerAddress, peerPort: r.peerPort,
    tlsProtocol: null, tlsCipher: null, method: 'POST', path: r.path, httpStatus: r.status, requestHeaders: r.requestHeaders,
    // The phone's answer is its own text: the never-stored rule as for any body (helper-65).
    requestBody: redactForStorage(r.requestBody), responseHeaders: r.responseHeaders, responseBody: redactForStorage(r.responseBody), mac, reason: null, replyAction: null,
    replyStatus: null, nonce: null, fragment: null, itemCount: 0, refusedItems: 0, action: null, error: r.error, warning: null,
  };
}
