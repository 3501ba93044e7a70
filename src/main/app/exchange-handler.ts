/**
 * One WPI exchange end to end: bytes -> WorkpointMessage -> engine decision -> one store
 * transaction -> DLSMessage bytes. Invalid requests get HTTP 400 with a one-line plain-text reason
 * (never XML a phone could act on) and are recorded like every other exchange.
 */
import { engineRefusalText } from '../../shared/engine-refusals';
import { EventEmitter } from 'node:events';
import type { ExchangeSummary, Job } from '../../shared/model';
import { exchangeSummary, httpFacts, withClientTextsMasked } from './exchange-record';
import { redactItemsForStorage } from './redact';
import type { HandshakeFailure, RequestHandler, WpiRequest, WpiResponse } from '../net/wpi-listener';
import { InteractionEngine, ProtocolError, sessionIdFromCookies, type BootstrapSend, type JobSecret } from '../provisioning';
import { bootstrapToSend } from './bootstrap';
import type { Changes, CommitResult, ExchangeRecord, ReturnLimits, Store } from '../store';
import { buildDLSMessage, parseWorkpointMessage, WpiError, type WorkpointMessage } from '../wpi';

export interface ExchangeEvents {
  exchange: [ExchangeSummary];
}

/** One exchange decided and not yet committed (see ExchangeHandler.prepare). */
export interface PreparedExchange {
  record: ExchangeRecord;
  /** What the commit changes besides recording the exchange (key material already redacted). */
  changes: Changes;
  interactionId: number | null;
  response: WpiResponse;
  /** What the exchange changes in the engine's memory, run once it is committed. */
  after?: (committed: CommitResult) => void;
  /**
   * The state the decision read (the phone's session, its device): a second exchange naming one
   * of these must be decided after this one is committed, not beside it.
   */
  keys: string[];
}

/** What Secure Mode adds to an exchange; all optional so Default Mode works without a PKI. */
export interface ExchangeSecurity {
  /** Opens a job's sealed secret (bootstrap credentials, TAN). */
  openSecret?: (sealed: Buffer) => JobSecret | undefined;
  /**
   * A bootstrap job as this service sends it (its own secure port, app/bootstrap.ts
   * bootstrapToSend). Absent: Secure Mode is off, bootstrap jobs are held.
   */
  bootstrapToSend?: (job: Job, sealed: Buffer | undefined) => BootstrapSend;
}

/** Secure Mode off: bootstrap jobs wait for a service that can receive their phones. */
const secureModeOff = (job: Job, sealed: Buffer | undefined): BootstrapSend => bootstrapToSend(undefined, sealed, job, undefined);

export class ExchangeHandler implements RequestHandler {
  readonly events = new EventEmitter<ExchangeEvents>();
  readonly engine: InteractionEngine;

  constructor(
    private readonly store: Store,
    private readonly now: () => number = Date.now,
    /** Set by the service once its PKI is open; empty means Default Mode only. */
    public security: ExchangeSecurity = {},
  ) {
    this.engine = new InteractionEngine({
      device: (mac) => store.device(mac),
      pendingJobs: (mac) => store.jobs.pending(mac),
      profiles: () => store.jobs.profiles(),
      overrides: (mac) => store.jobs.overrides(mac),
      secretOf: (job) => {
        const sealed = store.jobs.secret(job.id);
        return sealed && this.security.openSecret ? this.security.openSecret(sealed) : undefined;
      },
      bootstrapToSend: (job) => (this.security.bootstrapToSend ?? secureModeOff)(job, store.jobs.secret(job.id)),
      // Kept with the job when it was sent; a job sent before migration 19: the peer of the exchange of that moment.
      items: (mac) => store.items(mac),
      sentTo: (job) => (job.sent === null ? null : (store.jobs.sentTo(job.id) ?? store.inspector.exchangeAt(job.mac, job.sent)?.peerAddress ?? null)),
    });
  }

  /** Decides, commits and answers one exchange now (one transaction); GroupCommit batches instead. */
  exchange(request: WpiRequest): WpiResponse {
    const p = this.prepare(request);
    return this.finish(p, this.store.commit(p.record, p.changes, p.interactionId));
  }

  /**
   * Decides one exchange without changing anything: the record to commit, what it changes, the
   * answer, and what to do in memory once it is committed. Throws only on a bug.
   */
  prepare(request: WpiRequest): PreparedExchange {
    let message: WorkpointMessage;
    try {
      message = parseWorkpointMessage(request.body);
    } catch (err) {
      if (err instanceof WpiError) return this.refusal(request, 400, err.message);
      throw err;
    }
    const cookies = request.headers.filter(([name]) => name.toLowerCase() === 'cookie').map(([, v]) => v);
    const identity = request.clientIdentity ?? null;
    if (request.listener === 'secure' && (!identity || this.store.isRevoked(identity.serial))) {
      return this.refusal(request, 403, identity ? engineRefusalText('revoked', { mac: identity.mac, serial: identity.serial }) : engineRefusalText('noCertificate'), message);
    }
    let out;
    try {
      out = this.engine.handle({
        message,
        body: request.body,
        cookieSessionId: sessionIdFromCookies(cookies),
        peerAddress: request.peerAddress,
        listener: request.listener,
        clientIdentity: identity,
        now: request.started,
      });
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      const refused = this.refusal(request, err.status, err.message, message);
      return err.afterRecord ? { ...refused, after: err.afterRecord } : refused;
    }
    const body = Buffer.from(buildDLSMessage(out.answer), 'utf8');
    const headers: [string, string][] = [['Content-Type', 'text/xml; charset=utf-8']];
    if (out.setCookie) headers.push(['Set-Cookie', out.setCookie]);
    const response: WpiResponse = { status: 200, headers, body };
    const record = this.exchangeRecord(request, response, {
      mac: out.mac,
      ...summaryOf(message),
      // What the engine took as refused, not what the text says: a busy reply, a reply to no write,
      // or one the service refused refuses nothing; a fragmented reply counts on its last fragment.
      refusedItems: out.refusedItems ?? 0,
      action: out.answer.action,
      error: bootstrapFailure(out.changes),
      warning: out.warning ?? null,
    });
    // If the commit fails the engine stays as it was (`after` is not reached) and the phone gets
    // HTTP 500: its retry of the same message is answered as this one would have been.
    return {
      record, changes: storable(out.changes), interactionId: out.interactionId, response, after: out.apply,
      // A session this exchange ends (evicted for room) is busy too: its own message in the same
      // batch would be committed beside the abandon and bring the session back.
      keys: [`session ${out.session.id}`, ...(out.mac ? [`mac ${out.mac}`] : []), ...out.displaces.map((id) => `session ${id}`), ...(out.crowded ? ['sessions crowded'] : [])],
    };
  }

  /** Applies a committed exchange to the engine's memory, announces it, and gives its answer. */
  finish(p: PreparedExchange, result: CommitResult): WpiResponse {
    p.after?.(result);
    this.emit(p.record, p.changes, result);
    return p.response;
  }

  refused(request: WpiRequest, status: number, reason: string, message?: WorkpointMessage): WpiResponse {
    const p = this.refusal(request, status, reason, message);
    return this.finish(p, this.store.commit(p.record, p.changes, p.interactionId));
  }

  private refusal(request: WpiRequest, status: number, reason: string, message?: WorkpointMessage): PreparedExchange {
    const line = reason.replace(/[\r\n]+/g, ' ');
    const response: WpiResponse = {
      status,
      headers: [['Content-Type', 'text/plain; charset=utf-8']],
      body: Buffer.from(`${line}\n`, 'utf8'),
    };
    // On the secure port our CA's certificate names the device (a copy of a replaced one, say): the
    // refusal is shown with it, and is no contact. On the Default-Mode port the body is anyone's words.
    const mac = request.listener === 'secure' ? (request.clientIdentity?.mac ?? null) : null;
    const record = this.exchangeRecord(request, response, {
      mac,
      ...(message ? summaryOf(message) : EMPTY_SUMMARY),
      action: null,
      error: line,
      warning: null,
    });
    return { record, changes: mac ? { refused: true } : {}, interactionId: null, response, keys: [] };
  }

  /**
   * Ends the interactions whose phone went silent (their sessions expired): closed in the store,
   * their devices idle again and their unanswered jobs queued again; overdue returns fail.
   */
  expireSilent(now: number, returnLimits?: ReturnLimits): void {
    const gone = this.engine.sessions.expire(now);
    const ids = gone.flatMap((s) => (s.interactionId === null ? [] : [s.interactionId]));
    const macs = gone.flatMap((s) => (s.mac === null ? [] : [s.mac]));
    this.store.expireInteractions(ids, macs, now, returnLimits);
  }

  /** Whether this phone is in an interaction now (then contact-me would only disturb it). */
  inInteraction(mac: string): boolean {
    return this.engine.sessions.forMac(mac) !== undefined;
  }

  handshakeFailed(f: HandshakeFailure): void {
    const note = [f.hint, f.suppressed > 0 ? `${f.suppressed} similar failures not recorded (rate limit)` : null].filter(Boolean).join('; ');
    this.commitAndEmit(
      {
        kind: 'tls-failure', started: f.time, ended: f.time, listener: f.listener, localPort: f.localPort,
        peerAddress: f.peerAddress, peerPort: f.peerPort, tlsProtocol: f.tlsProtocol ?? null, tlsCipher: f.tlsCipher ?? null, method: null, path: null,
        clientCertificate: f.clientCertificate ?? null,
        httpStatus: 0, requestHeaders: [], requestBody: Buffer.alloc(0), responseHeaders: [], responseBody: Buffer.alloc(0),
        mac: null, reason: null, replyAction: null, replyStatus: null, nonce: null, fragment: null, itemCount: 0, refusedItems: 0, action: null,
        error: f.reason.startsWith('connection ') ? f.reason : `TLS handshake failed: ${f.reason}`, warning: note || null,
      },
      {},
      null,
    );
  }

  private exchangeRecord(request: WpiRequest, response: WpiResponse, parsed: Parsed): ExchangeRecord {
    return withClientTextsMasked({ ...httpFacts(request, response, this.now()), clientCertificate: request.clientCertificate ?? null, ...parsed });
  }

  /** Records an exchange the service made itself (contact-me) or answered outside WPI (DCMP). */
  recordExchange(record: ExchangeRecord): number {
    return this.commitAndEmit(record, {}, null).exchangeId;
  }

  private commitAndEmit(record: ExchangeRecord, changes: Changes, interactionId: number | null) {
    const result = this.store.commit(record, storable(changes), interactionId);
    this.emit(record, changes, result);
    return result;
  }

  private emit(record: ExchangeRecord, changes: Changes, result: CommitResult): void {
    this.events.emit('exchange', exchangeSummary(record, changes, result));
  }

}

type Parsed = Pick<ExchangeRecord, 'mac' | 'reason' | 'replyAction' | 'replyStatus' | 'nonce' | 'fragment' | 'itemCount' | 'refusedItems' | 'action' | 'error' | 'warning'>;

/** Key material and TANs a phone reports (or a job wrote) do not reach the items table either. */
function storable(changes: Changes): Changes {
  const mergeItems = redactItemsForStorage(changes.mergeItems);
  const replaceItems = redactItemsForStorage(changes.replaceItems);
  if (mergeItems === changes.mergeItems && replaceItems === changes.replaceItems) return changes;
  return { ...changes, ...(mergeItems ? { mergeItems } : {}), ...(replaceItems ? { replaceItems } : {}) };
}

const EMPTY_SUMMARY = { reason: null, replyAction: null, replyStatus: null, nonce: null, fragment: null, itemCount: 0, refusedItems: 0 };

function summaryOf(m: WorkpointMessage) {
  return {
    reason: m.reason,
    replyAction: m.action ?? null,
    replyStatus: m.status ?? null,
    nonce: m.nonce,
    fragment: m.fragment ?? null,
    itemCount: m.items.length,
    refusedItems: 0,
  };
}

/**
 * A bootstrap that failed in this exchange (wrong TAN, PIN retries exceeded) is an error of the
 * exchange, though the phone's message was well formed: the traffic view and "errors only" show it.
 */
function bootstrapFailure(changes: Changes): string | null {
  if (changes.bootstrap !== 'failed') return null;
  const failed = changes.jobs?.find((j) => j.state === 'failed' && j.error);
  return `bootstrap failed${failed?.error ? `: ${failed.error}` : ''}`;
}
