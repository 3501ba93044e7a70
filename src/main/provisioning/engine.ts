/**
 * The interaction engine: ties one parsed phone message to its session, assembles fragments
 * (manual p.69–70), asks `decide` for the answer, and keeps the session table in step. No I/O:
 * the caller commits `changes` to the store and sends `answer`.
 */
import { engineRefusalText } from '../../shared/engine-refusals';
import type { Action, Item, WorkpointMessage } from '../wpi';
import type { Device, ItemValue, Job, ListenerKind, Profile } from '../../shared/model';
import type { Changes } from '../store';
import { decide, FIRST_MESSAGE_REASONS, issuedFor, OPENING_REASONS, normalizeMac, itemValue, ProtocolError } from './decide';
import { matchProfile } from './profiles';
import type { BootstrapSend, JobSecret } from './job-messages';
import type { ListingItem } from '../../shared/file-deployment';
import { messageDigest, nonceKey, RecentNonces, rememberInSession, SessionTable, sessionCookie, type Session, type SessionLimits } from './session';
import { exchangeWarningText, WARNING_SEPARATOR } from '../../shared/exchange-warnings';

export interface EngineInput {
  message: WorkpointMessage;
  /** The message's bytes as received: what the replay check compares (session.ts messageDigest). */
  body?: Uint8Array;
  cookieSessionId: string | null;
  peerAddress: string;
  listener: ListenerKind;
  /** The device named by the client certificate (secure listener only). */
  clientIdentity?: { mac: string; serial: string } | null;
  now: number;
}

export interface EngineOutput {
  answer: { nonce: string; action: Action; items: Item[] };
  changes: Changes;
  /** Interaction id to record the exchange under (null: the store opens one via changes). */
  interactionId: number | null;
  mac: string | null;
  /** Set-Cookie header value on the first answer of an interaction. */
  setCookie: string | null;
  session: Session;
  /**
   * Ids of the open sessions this exchange ends (the phone's older one, those evicted for room):
   * their own exchanges must not be decided beside this one (app/group-commit.ts).
   */
  displaces: readonly string[];
  /** A new session near the table's bounds (SessionTable.crowded): decide it alone, not beside other new ones. */
  crowded: boolean;
  warning?: string;
  /** Items of a write the phone refused in this reply (Decision.refusedItems). */
  refusedItems?: number;
  /**
   * Applies the exchange to the engine's memory (session table, the interaction's job state,
   * fragments held, nonces seen). Call it only once the store has committed the exchange: a
   * failed write then leaves everything as it was, and the phone's retry is answered normally.
   */
  apply(committed: { interactionId: number | null; newJobIds: readonly number[] }): void;
}

/** What the engine reads from the store to decide (the store itself stays out of provisioning). */
export interface EngineLookups {
  device(mac: string): Device | undefined;
  /** Jobs still waiting for the phone (queued, waiting-busy, sent), in queue order. */
  pendingJobs(mac: string): Job[];
  profiles(): Profile[];
  overrides(mac: string): ItemValue[];
  /** Opens a job's sealed secret (bootstrap). */
  secretOf?(job: Job): JobSecret | undefined;
  /** The address a sent job went to (see DecisionInput.sentTo). */
  sentTo?(job: Job): string | null;
  /** A bootstrap job as this service sends it (see DecisionInput.bootstrapToSend). */
  bootstrapToSend?(job: Job): BootstrapSend;
  /** The device's items as stored (see DecisionInput.storedItems). */
  items?(mac: string): readonly ListingItem[];
}

export class InteractionEngine {
  readonly sessions: SessionTable;
  /** Nonces each device used lately (replay defence, see docs/security.md). */
  readonly nonces = new RecentNonces();

  constructor(
    private readonly lookups: EngineLookups,
    limits?: SessionLimits,
  ) {
    this.sessions = new SessionTable(limits);
  }

  /**
   * Decides the answer to one message. Changes nothing itself: identity is checked on every
   * message (docs/security.md), and what the exchange changes in memory is done by `apply`.
   */
  handle(input: EngineInput): EngineOutput {
    const { message, now, listener } = input;
    // Each device row read once per message (nothing is committed while a message is decided).
    const devices = new Map<string, Device | undefined>();
    const deviceOf = (mac: string): Device | undefined => {
      if (!devices.has(mac)) devices.set(mac, this.lookups.device(mac));
      return devices.get(mac);
    };
    const cert = listener === 'secure' ? (input.clientIdentity ?? null) : null;
    if (listener === 'secure' && !cert) throw new ProtocolError(engineRefusalText('noCertificateRefused'), 403);
    const claimed = claimedMac(message);
    if (claimed === '') {
      const raw = (itemValue(message.items, 'mac-addr') ?? '').slice(0, 40);
      throw new ProtocolError(normalizeMac(raw) ? `the message names more than one MAC in its mac-addr items: refused` : `mac-addr "${raw}" is not a MAC address`, 400);
    }
    // On the secure port the certificate names the device, whatever the body says.
    if (cert && claimed !== null && claimed !== cert.mac) {
      throw new ProtocolError(`the client certificate is for ${cert.mac}, but the message claims mac-addr ${claimed || '(not a MAC address)'}: refused`, 403);
    }
    // On the secure port a certificate from our CA is not enough: it must be the one the device
    // holds, or the one issued for its bootstrap in progress (a failed, cancelled or replaced
    // bootstrap's certificate opens nothing).
    let renewal: Job | undefined;
    if (cert) {
      const device = deviceOf(cert.mac);
      const holds = device?.mode === 'secure' && device.certSerial === cert.serial;
      const pending = this.lookups.pendingJobs(cert.mac);
      if (!holds && !pending.some((j) => issuedFor(j, cert.serial, device, this.lookups.secretOf?.bind(this.lookups)))) {
        throw new ProtocolError(`the client certificate (serial ${cert.serial}) is not the one LocalDLS holds for ${cert.mac}, nor one issued for a bootstrap in progress (failed, cancelled or replaced): refused`, 403);
      }
      // The certificate a renewal replaces. Once the phone has taken the renewal (it answered
      // "accepted" and switches at the CleanUp, manual p.64–65) whoever presents it holds a copy of
      // the replaced key: nothing it sends counts, under any reason, in any interaction.
      renewal = holds ? pending.find((j) => j.kind === 'Bootstrap' && j.state === 'sent') : undefined;
      if (renewal && renewal.partsDone > 0) {
        throw new ProtocolError(`${cert.mac} took its renewal (job ${renewal.id}) and now holds a new certificate: the one presented (serial ${cert.serial}) is the one it replaces, and opens nothing any more: refused. The renewal completes when the phone calls with its new certificate; only if the phone itself never does: localdls bootstrap --mac ${cert.mac} --forget, a factory reset on the phone, a new bootstrap`, 403);
      }
    }
    let found = this.sessions.find(input.cookieSessionId, input.peerAddress, listener, cert?.serial ?? null);
    // A renewal still on its way: the phone may be taking it. Until it answers (or its interaction
    // ends unanswered and it is queued again), that interaction alone speaks for this certificate,
    // and only with its session cookie (OpenStage phones present it, manual p.34): a copy of the key
    // at the same address (one NAT) could otherwise answer for the phone (busy, failed) without one,
    // and another interaction would abandon the phone's, whose "accepted" then lands nowhere.
    const itsInteraction = renewal && found?.session.interaction.current?.id === renewal.id ? found : null;
    if (renewal && cert && itsInteraction?.by !== 'cookie') {
      if (itsInteraction && !FIRST_MESSAGE_REASONS.has(message.reason)) {
        throw new ProtocolError(`a ${message.reason} without the session cookie, for the interaction in which renewal job ${renewal.id} went to ${cert.mac}: refused (a renewal is answered with the interaction's cookie only, as OpenStage phones send it, manual p.34: a copy of the key at the same address could otherwise answer for the phone)`, 403);
      }
      throw new ProtocolError(`a renewal (job ${renewal.id}) is on its way to ${cert.mac}: until the phone answers it, with the session cookie of the interaction it went out in, its current certificate opens nothing else: refused (if the phone does not answer, the renewal is queued again when that interaction ends)`, 403);
    }
    // reply-to always continues (by cookie, else by address or, on the secure port, certificate). A
    // status or clean-up continues on its cookie, or without one when it names the interaction's own
    // device: the manual promises the cookie on reply-to only (p.28), and refused, a phone's report
    // would be lost (helper-66). A first message continues nothing: a start-up from a phone behind
    // the same address as another is a new interaction.
    const report = message.reason === 'status' || message.reason === 'clean-up';
    // Behind one NAT address the latest interaction there may be another phone's: a cookieless report
    // looks for its own device's, from the same address (secure port: the same certificate), helper-68.
    if (report && claimed !== null && input.cookieSessionId === null && found?.session.mac !== claimed) {
      const own = this.sessions.forMac(claimed);
      const same = own && own.listener === listener && (listener === 'secure' ? own.certSerial === (cert?.serial ?? null) : own.peerAddress === input.peerAddress);
      if (same) found = { session: own, by: 'peer' };
    }
    const continues =
      found !== null &&
      (message.reason === 'reply-to' ||
        (found.by === 'cookie' && (found.session.assembling !== null || !FIRST_MESSAGE_REASONS.has(message.reason))) ||
        (report && claimed !== null && claimed === found.session.mac));
    const ongoing = continues ? found!.session : null;
    let mac: string | null;
    if (ongoing) {
      sameDevice(ongoing, found!.by, input, claimed);
      mac = ongoing.mac ?? claimed ?? null;
    } else {
      if (!OPENING_REASONS.has(message.reason)) {
        const why = input.cookieSessionId ? 'its session cookie names no open interaction' : listener === 'default' ? 'it has no session cookie and no interaction is open at its address' : 'it has no session cookie and this certificate has no open interaction';
        throw new ProtocolError(`${message.reason} continues no live interaction (${why}); a phone starts over with start-up or solicited: refused`, 403);
      }
      mac = cert?.mac ?? claimed ?? null;
    }
    // A Secure-Mode device is served on the secure port only (manual p.65 step 8), under any reason.
    if (listener === 'default' && mac) this.notSecure(mac, deviceOf(mac));
    const key = nonceKey(message.nonce);
    const digest = messageDigest(message, input.body);
    const replayMac = ongoing ? ongoing.mac : OPENING_REASONS.has(message.reason) ? mac : null;
    this.notReplayed(ongoing, replayMac, key, digest, message);
    // A part of a message in fragments: what the first part was (a report or a first message cut in, helper-68).
    const first = ongoing?.assembling?.first;
    if (first && (message.reason !== first.reason || (message.action ?? null) !== (first.action ?? null))) {
      throw new ProtocolError(`a ${message.reason}${message.action ? ` ${message.action}` : ''} while the phone's ${first.reason}${first.action ? ` ${first.action}` : ''} is still arriving in fragments: refused`, 403);
    }
    // Which part of a message in fragments this is: its parts are never taken twice, whatever the nonce style.
    const part = message.fragment === 'next' ? (first ? 'next' : 'first') : first ? 'last' : null;

    const isNew = ongoing === null;
    const session = ongoing ?? this.sessions.open(input.peerAddress, listener, cert?.serial ?? null, now);
    // A first message starts a new flow (manual p.33); an older open session of that phone is abandoned.
    const stale = isNew && mac ? this.sessions.forMac(mac) : undefined;
    if (stale && !FIRST_MESSAGE_REASONS.has(message.reason)) {
      // A status or clean-up belongs to the interaction that is open: it must continue it, not replace it.
      throw new ProtocolError(`${message.reason} for ${mac}, which has an interaction open: it must continue that interaction (its session cookie), not start another: refused`, 403);
    }
    const evicted = isNew ? this.sessions.evictionsFor(input.peerAddress, stale) : [];
    const abandon = [
      ...(stale ? [{ interactionId: stale.interactionId, mac: stale.mac, why: 'abandoned: the phone started a new interaction' }] : []),
      ...evicted.map((e) => ({ interactionId: e.interactionId, mac: e.mac, why: `abandoned: too many interactions open (${e.peerAddress === input.peerAddress ? 'this address holds its share' : 'the table is full'})` })),
    ];
    const displaces = [...(stale ? [stale.id] : []), ...evicted.map((e) => e.id)];
    const crowded = isNew && this.sessions.crowded(input.peerAddress);
    let warning: string | undefined;
    if (ongoing && found!.by === 'peer' && input.cookieSessionId === null && (message.reason === 'reply-to' || report)) {
      const secure = listener === 'secure';
      warning = report
        ? exchangeWarningText(secure ? 'cookielessReportSecure' : 'cookielessReport', { reason: message.reason })
        : exchangeWarningText(secure ? 'cookielessReplySecure' : 'cookielessReply');
    }
    const enter = () => {
      if (stale) this.sessions.remove(stale);
      for (const e of evicted) this.sessions.remove(e);
      if (isNew) this.sessions.insert(session);
      this.sessions.touch(session, now);
    };

    // Who the device is decides everything below (its other interaction, replays, whether it may
    // send status): an opening message in fragments names its device in the first one, or a host
    // could keep the MAC for a later fragment and pass every one of those checks.
    if (isNew && mac === null && message.fragment === 'next') {
      throw new ProtocolError(`a ${message.reason} in fragments names its device (mac-addr) in the first fragment: refused`, 403);
    }
    if (isNew && !FIRST_MESSAGE_REASONS.has(message.reason)) {
      // status and clean-up open an interaction only for a device that introduced itself before.
      if (!mac) throw new ProtocolError(engineRefusalText('noMacItemRefused', { reason: message.reason }), 403);
      if (!deviceOf(mac)) throw new ProtocolError(engineRefusalText('unknownDevice', { reason: message.reason, mac }), 403);
    }

    // Fragments: answer GetNextFragment with the same nonce until fragment="final".
    if (message.fragment === 'next') {
      const refused = this.sessions.fragmentRefusal(session, message);
      if (refused) {
        // Nothing is kept of it; an ongoing interaction remembers that its message was refused.
        throw new ProtocolError(refused.reason, refused.status, ongoing ? () => void this.sessions.addFragment(ongoing, message) : undefined);
      }
      return {
        answer: { nonce: message.nonce, action: 'GetNextFragment', items: [] },
        changes: isNew ? { openInteraction: { reason: message.reason }, ...(mac ? { state: 'in-interaction' as const } : {}), ...(abandon.length ? { abandon } : {}) } : {},
        interactionId: session.interactionId,
        mac,
        setCookie: isNew ? sessionCookie(session) : null,
        session,
        displaces,
        crowded,
        ...(warning ? { warning } : {}),
        apply: (committed) => {
          enter();
          if (isNew) session.interactionId = committed.interactionId;
          if (session.mac === null && mac) session.mac = mac;
          this.sessions.addFragment(session, message);
          this.remember(session, mac, key, digest, part);
        },
      };
    }
    let whole = message;
    const refused = session.assembling?.refused;
    if (refused) throw new ProtocolError(refused.reason, refused.status, () => this.sessions.dropAssembly(session));
    if (session.assembling) {
      whole = { ...session.assembling.first, nonce: message.nonce, fragment: 'final', items: [...session.assembling.items, ...message.items] };
      // The assembled message names its device too: every part must agree with the session's.
      const named = claimedMac(whole);
      if (named === '') throw new ProtocolError('the assembled message names more than one MAC in its mac-addr items: refused', 400);
      if (named !== null && ((session.mac !== null && named !== session.mac) || (cert && named !== cert.mac))) {
        throw new ProtocolError(`the assembled message claims mac-addr ${named || '(not a MAC address)'}, but the interaction belongs to ${session.mac ?? cert?.mac}: refused`, 403);
      }
      if (session.mac === null && named) {
        mac = named;
        if (listener === 'default') this.notSecure(mac, deviceOf(mac));
      }
    }

    // decide() works on a copy of the interaction's memory; the copy replaces it once committed.
    const interaction = { ...session.interaction, current: session.interaction.current ? { ...session.interaction.current } : null };
    const device = mac ? deviceOf(mac) : undefined;
    const matchingProfile = device && device.profile === null ? matchProfile(this.lookups.profiles(), device) : undefined;
    const decision = decide({
      message: whole,
      mac,
      device,
      peerAddress: input.peerAddress,
      jobs: mac && device ? this.lookups.pendingJobs(mac) : [],
      interaction,
      ...(matchingProfile ? { matchingProfile, overrides: this.lookups.overrides(mac!) } : {}),
      listener,
      clientIdentity: cert,
      ...(this.lookups.secretOf ? { secretOf: (job: Job) => this.lookups.secretOf!(job) } : {}),
      ...(this.lookups.sentTo ? { sentTo: (job: Job) => this.lookups.sentTo!(job) } : {}),
      ...(this.lookups.bootstrapToSend ? { bootstrapToSend: (job: Job) => this.lookups.bootstrapToSend!(job) } : {}),
      ...(this.lookups.items && mac !== null ? { storedItems: () => this.lookups.items!(mac) } : {}),
      now,
    });
    const boundMac = decision.changes.device?.mac ?? session.mac ?? (mac !== null && device ? mac : null);
    const changes = { ...decision.changes };
    // Only the first exchange of a session opens an interaction.
    if (!isNew && session.interactionId !== null) delete changes.openInteraction;
    else if (isNew && !changes.openInteraction) changes.openInteraction = { reason: whole.reason };
    if (decision.ends) changes.endInteraction = decision.ends;
    if (abandon.length) changes.abandon = abandon;
    const warnings = [warning, decision.warning].filter(Boolean).join(WARNING_SEPARATOR);
    return {
      answer: { nonce: message.nonce, ...decision.answer },
      changes,
      interactionId: session.interactionId,
      mac: boundMac,
      // The first answer of an interaction carries the cookie (manual p.34); a one-step one needs none.
      setCookie: isNew && !decision.ends ? sessionCookie(session) : null,
      session,
      displaces,
      crowded,
      ...(warnings ? { warning: warnings } : {}),
      ...(decision.refusedItems ? { refusedItems: decision.refusedItems } : {}),
      apply: (committed) => {
        enter();
        if (committed.interactionId !== null) session.interactionId = committed.interactionId;
        session.mac = boundMac;
        // A job created by this exchange (plug & play) is the one now in flight.
        if (interaction.current && interaction.current.id === null && committed.newJobIds[0] !== undefined) interaction.current.id = committed.newJobIds[0];
        session.interaction = interaction;
        this.sessions.dropAssembly(session);
        this.remember(session, replayMac, key, digest, part);
        if (decision.ends) this.sessions.remove(session);
      },
    };
  }

  /** A Secure-Mode device is refused on the Default-Mode port (403). */
  private notSecure(mac: string, device: Device | undefined): void {
    if (device?.mode !== 'secure') return;
    throw new ProtocolError(engineRefusalText('secureOnDefaultForget', { mac }), 403);
  }

  /**
   * Refuses a replayed message (403): the very same message a second time in one interaction from
   * a phone that sends a fresh nonce each time (p.48/p.60); a nonce the device used in an earlier
   * interaction; a nonce used earlier in this interaction but not by the message just before. A
   * phone that keeps one nonce for the whole flow (manual p.34) may send the same bytes twice: two
   * accepted WriteItems answer alike, and nothing in them tells a second one from a resent first.
   * Only such a reply-to may come twice: a report sent again would be taken twice, and so would a
   * part of the message being assembled, or the last part of the one just completed (helper-68). A
   * second answer in fragments to the same read is a new message (helper-69).
   */
  private notReplayed(ongoing: Session | null, mac: string | null, key: string, digest: string, message: WorkpointMessage): void {
    const nonce = message.nonce;
    const shown = nonce.length > 40 ? `${nonce.slice(0, 40)}…` : nonce;
    const r = ongoing?.replay;
    const twinAllowed =
      r?.nonceKept === true && message.reason === 'reply-to' && !(ongoing!.assembling !== null && r.partDigests.includes(digest)) && r.lastWhole !== digest;
    if (r?.digests.includes(digest) && !twinAllowed) {
      throw new ProtocolError(engineRefusalText('replayedMessage', { nonce: shown }), 403);
    }
    if (!mac) return;
    const owner = this.nonces.owner(mac, key);
    if (owner === undefined) return;
    if (!ongoing || owner !== ongoing.id) {
      throw new ProtocolError(engineRefusalText('replayedNonceEarlier', { mac, nonce: shown }), 403);
    }
    if (ongoing.replay.lastNonce !== key) {
      throw new ProtocolError(engineRefusalText('replayedNonceInInteraction', { nonce: shown }), 403);
    }
  }

  private remember(session: Session, mac: string | null, key: string, digest: string, part: 'first' | 'next' | 'last' | null): void {
    rememberInSession(session, key, digest, part);
    const owner = session.mac ?? mac;
    if (owner) this.nonces.add(owner, key, session.id);
  }
}

/**
 * A message that continues an interaction must come from the phone that opened it (403
 * otherwise): from the same address when it presents the session cookie on the Default-Mode port,
 * with the same client certificate on the secure port, and never naming another MAC.
 */
function sameDevice(session: Session, by: 'cookie' | 'peer', input: EngineInput, claimed: string | null): void {
  if (by === 'cookie' && input.listener === 'default' && session.peerAddress !== input.peerAddress) {
    const where = { owner: session.peerAddress, from: input.peerAddress };
    throw new ProtocolError(session.mac ? engineRefusalText('cookieOtherAddress', { mac: session.mac, ...where }) : engineRefusalText('cookieOtherAddressNoMac', where), 403);
  }
  if (input.listener === 'secure' && session.certSerial !== (input.clientIdentity?.serial ?? null)) {
    throw new ProtocolError(`the client certificate is for ${input.clientIdentity?.mac ?? 'no device'}, but this interaction belongs to ${session.mac ?? 'another phone'}: refused`, 403);
  }
  if (claimed !== null && session.mac && claimed !== session.mac) {
    throw new ProtocolError(`the message claims mac-addr ${claimed || '(not a MAC address)'}, but the interaction it continues (${by === 'cookie' ? 'by its session cookie' : input.listener === 'secure' ? 'by its client certificate' : 'by its address'}) belongs to ${session.mac}: refused`, 403);
  }
}

/**
 * The MAC a message names: null when it has no (non-empty) mac-addr item; '' when one is not a
 * MAC address or two name different MACs, which the engine refuses.
 */
function claimedMac(message: WorkpointMessage): string | null {
  let named: string | null = null;
  for (const item of message.items) {
    if (item.name !== 'mac-addr' || item.value === '') continue;
    const mac = normalizeMac(item.value) ?? '';
    if (named === null) named = mac;
    else if (named !== mac) return '';
  }
  return named;
}
