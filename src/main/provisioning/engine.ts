/**
 * The interaction engine: ties one parsed phone message to its session, assembles fragments
 * (manual p.69–70), asks `decide` for the answer, and keeps the session table in step. No I/O:
 * the caller commits `changes` to the store and sends `answer`.
 */
import type { Action, Item, WorkpointMessage } from '../wpi';
import type { Device, ItemValue, Job, ListenerKind, Profile } from '../../shared/model';
import type { Changes } from '../store';
import { decide, FIRST_MESSAGE_REASONS, normalizeMac, itemValue, ProtocolError } from './decide';
import { matchProfile } from './profiles';
import type { JobSecret } from './job-messages';
import { messageDigest, nonceKey, RecentNonces, rememberInSession, SessionTable, sessionCookie, type Session, type SessionLimits } from './session';

export interface EngineInput {
  message: WorkpointMessage;
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
  warning?: string;
  /** A client certificate serial to revoke once the exchange is recorded. */
  revoke?: string;
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

  handle(input: EngineInput): EngineOutput {
    const { message, now } = input;
    const found = this.sessions.find(input.cookieSessionId, input.peerAddress, input.listener);
    let session: Session;
    let isNew = false;
    let warning: string | undefined;
    // reply-to always continues (by cookie, else by address). Anything else continues only on its
    // own cookie: a start-up from a phone behind the same address as another is a new interaction.
    const continues =
      found !== null &&
      (message.reason === 'reply-to' ||
        (found.by === 'cookie' && (found.session.assembling !== null || !FIRST_MESSAGE_REASONS.has(message.reason))));
    // Identity and replay checks come before anything changes: a refused message leaves the
    // interaction it tried to join, and any open one of the phone it names, as they were.
    const ongoing = found && continues ? found.session : null;
    if (ongoing) sameDevice(ongoing, found!.by, input);
    const key = nonceKey(message.nonce);
    const digest = messageDigest(message);
    const replayMac = ongoing ? ongoing.mac : FIRST_MESSAGE_REASONS.has(message.reason) ? normalizeMac(itemValue(message.items, 'mac-addr') ?? '') : null;
    this.notReplayed(ongoing, replayMac, key, digest, message.nonce);
    if (found && continues) {
      session = found.session;
      if (found.by === 'peer' && input.cookieSessionId === null && message.reason === 'reply-to') {
        warning = 'reply-to without session cookie: matched by address';
      }
    } else {
      // A first message starts a new flow (manual p.33); an older open session of that phone is abandoned.
      const mac = FIRST_MESSAGE_REASONS.has(message.reason) ? normalizeMac(itemValue(message.items, 'mac-addr') ?? '') : null;
      const stale = mac ? this.sessions.forMac(mac) : undefined;
      if (stale) this.sessions.remove(stale);
      session = this.sessions.create(input.peerAddress, input.listener, now);
      isNew = true;
    }
    this.sessions.touch(session, now);

    // Fragments: answer GetNextFragment with the same nonce until fragment="final".
    if (message.fragment === 'next') {
      const refused = this.sessions.addFragment(session, message);
      if (refused) {
        if (isNew) this.sessions.remove(session);
        throw new ProtocolError(refused.reason, refused.status);
      }
      const opening = isNew && FIRST_MESSAGE_REASONS.has(message.reason);
      const mac = opening ? normalizeMac(itemValue(message.items, 'mac-addr') ?? '') : session.mac;
      if (opening && mac) session.mac = mac;
      this.remember(session, replayMac, key, digest);
      return {
        answer: { nonce: message.nonce, action: 'GetNextFragment', items: [] },
        changes: isNew ? { openInteraction: { reason: message.reason }, ...(mac ? { state: 'in-interaction' as const } : {}) } : {},
        interactionId: session.interactionId,
        mac: session.mac,
        setCookie: isNew ? sessionCookie(session) : null,
        session,
        ...(warning ? { warning } : {}),
      };
    }
    let whole = message;
    const refused = session.assembling?.refused;
    if (refused) {
      this.sessions.dropAssembly(session);
      throw new ProtocolError(refused.reason, refused.status);
    }
    if (session.assembling) {
      whole = { ...session.assembling.first, nonce: message.nonce, fragment: 'final', items: [...session.assembling.items, ...message.items] };
      this.sessions.dropAssembly(session);
    }

    const claimed = normalizeMac(itemValue(whole.items, 'mac-addr') ?? '');
    const mac = FIRST_MESSAGE_REASONS.has(whole.reason) ? claimed : (session.mac ?? claimed);
    if (input.listener === 'secure' && session.mac !== null && input.clientIdentity?.mac !== session.mac) {
      throw new ProtocolError(`the client certificate is for ${input.clientIdentity?.mac ?? 'no device'}, but this interaction belongs to ${session.mac}: refused`, 403);
    }
    let decision;
    try {
      const device = mac ? this.lookups.device(mac) : undefined;
      const matchingProfile = device && device.profile === null ? matchProfile(this.lookups.profiles(), device) : undefined;
      decision = decide({
        message: whole,
        mac,
        device,
        peerAddress: input.peerAddress,
        jobs: mac && device ? this.lookups.pendingJobs(mac) : [],
        interaction: session.interaction,
        ...(matchingProfile ? { matchingProfile, overrides: this.lookups.overrides(mac!) } : {}),
        listener: input.listener,
        clientIdentity: input.clientIdentity ?? null,
        ...(this.lookups.secretOf ? { secretOf: (job: Job) => this.lookups.secretOf!(job) } : {}),
        now,
      });
    } catch (err) {
      if (isNew) this.sessions.remove(session);
      throw err;
    }
    if (decision.changes.device) session.mac = decision.changes.device.mac;
    else if (session.mac === null && mac !== null && this.lookups.device(mac)) session.mac = mac;
    const changes = { ...decision.changes };
    // Only the first exchange of a session opens an interaction.
    if (!isNew && session.interactionId !== null) delete changes.openInteraction;
    else if (isNew && !changes.openInteraction) changes.openInteraction = { reason: whole.reason };
    if (decision.ends) {
      changes.endInteraction = decision.ends;
      this.sessions.remove(session);
    }
    const warnings = [warning, decision.warning].filter(Boolean).join('; ');
    this.remember(session, replayMac, key, digest);
    return {
      answer: { nonce: message.nonce, ...decision.answer },
      changes,
      interactionId: session.interactionId,
      mac: session.mac,
      // The first answer of an interaction carries the cookie (manual p.34); a one-step one needs none.
      setCookie: isNew && !decision.ends ? sessionCookie(session) : null,
      session,
      ...(warnings ? { warning: warnings } : {}),
      ...(decision.revoke ? { revoke: decision.revoke } : {}),
    };
  }

  /**
   * Refuses a replayed message (403): the very same message a second time in one interaction; a
   * nonce the device used in an earlier interaction; a nonce used earlier in this interaction but
   * not by the message just before (a phone may keep one nonce for a whole flow, manual p.34, or
   * send a fresh one each time, p.48/p.60; going back to an older one is neither).
   */
  private notReplayed(ongoing: Session | null, mac: string | null, key: string, digest: string, nonce: string): void {
    const shown = nonce.length > 40 ? `${nonce.slice(0, 40)}…` : nonce;
    if (ongoing?.replay.digests.includes(digest)) {
      throw new ProtocolError(`replayed message: this interaction already had this very message (nonce ${shown}): refused`, 403);
    }
    if (!mac) return;
    const owner = this.nonces.owner(mac, key);
    if (owner === undefined) return;
    if (!ongoing || owner !== ongoing.id) {
      throw new ProtocolError(`replayed nonce: ${mac} already used nonce ${shown} in an earlier interaction: refused`, 403);
    }
    if (ongoing.replay.lastNonce !== key) {
      throw new ProtocolError(`replayed nonce: nonce ${shown} was used earlier in this interaction, before the phone's last message: refused`, 403);
    }
  }

  private remember(session: Session, mac: string | null, key: string, digest: string): void {
    rememberInSession(session, key, digest);
    const owner = session.mac ?? mac;
    if (owner) this.nonces.add(owner, key, session.id);
  }
}

/**
 * A message that continues an interaction must come from the phone that opened it (403
 * otherwise): from the same address when it presents the session cookie on the Default-Mode port
 * (on the secure port the client certificate decides), and never naming another MAC.
 */
function sameDevice(session: Session, by: 'cookie' | 'peer', input: EngineInput): void {
  if (by === 'cookie' && input.listener === 'default' && session.peerAddress !== input.peerAddress) {
    throw new ProtocolError(`the session cookie belongs to the interaction of ${session.mac ?? 'another phone'} at ${session.peerAddress}, but this message came from ${input.peerAddress}: refused`, 403);
  }
  const claimed = normalizeMac(itemValue(input.message.items, 'mac-addr') ?? '');
  if (claimed && session.mac && claimed !== session.mac) {
    throw new ProtocolError(`the message claims mac-addr ${claimed}, but the interaction it continues (${by === 'cookie' ? 'by its session cookie' : 'by its address'}) belongs to ${session.mac}: refused`, 403);
  }
}
