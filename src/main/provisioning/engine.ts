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
import { SessionTable, sessionCookie, type Session, type SessionLimits } from './session';

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
}
