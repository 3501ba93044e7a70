/**
 * Relay mode (docs/relay.md): the counterpart of exchange-handler.ts when LocalDLS stands in front
 * of a site's existing DLS. Each phone request is passed on to the upstream as it came, and the
 * upstream's answer goes back to the phone unchanged (status, headers, body byte for byte). Both
 * are recorded like LocalDLS's own traffic, with the upstream's timing and TLS kept apart.
 *
 * What passes is read, never acted on: the bodies are parsed leniently (a body that does not
 * parse is still relayed, and recorded raw with a warning) to fill the inspector's columns, the
 * interactions and the device inventory. No job is queued, sent or changed, and no item rewritten.
 */
import type { EventEmitter } from 'node:events';
import type { UpstreamView } from '../../shared/api';
import { normalizeMac } from '../../shared/mac';
import { peerKey } from '../net/peer-address';
import { forwardedHeaders, UpstreamError, type UpstreamAnswer, type UpstreamClient } from '../net/upstream-client';
import type { HandshakeFailure, RequestHandler, WpiRequest, WpiResponse } from '../net/wpi-listener';
import { MAX_ITEMS_PER_DEVICE, type Changes, type DeviceUpsert, type ExchangeRecord, type Store } from '../store';
import { parseDLSMessage, parseWorkpointMessage, refusedItemCount, type DLSMessage, type Item, type WorkpointMessage } from '../wpi';
import type { ExchangeEvents, ExchangeHandler } from './exchange-handler';
import { exchangeSummary, httpFacts, withClientTextsMasked } from './exchange-record';
import { redactItemsForStorage } from './redact';
import { relayFailureText, SECURE_MODE_NOT_RELAYED } from '../../shared/relay-failures';
import { exchangeWarningText, WARNING_SEPARATOR } from '../../shared/exchange-warnings';

/** Why a Secure-Mode phone cannot be relayed: said in handshake records, refusals, docs and UI. */

/** An interaction seen passing: the phone, its device and what the DLS last asked it to write. */
interface Track {
  interactionId: number | null;
  mac: string | null;
  peer: string;
  /** The DLS's session cookie, as the relay keys it (cookiePair): any spelling a DLS may read alike. */
  cookie: string | null;
  /** The same `name=value` exactly as the DLS set it: what a DLS that reads cookies exactly takes for it. */
  cookieAsSet: string | null;
  lastSeen: number;
  /** Items of the DLS's last WriteItems, learnt once the phone accepts them. */
  written: Item[] | null;
  /**
   * The parts so far of a ReadAllItems reply in fragments: the whole replaces the inventory at its
   * last part, as the service takes it; 'merge' once too many to hold (each part is then merged).
   */
  reading: Item[] | 'merge' | null;
}

/** Phone-side inventory items copied into the device record (as decide() does for own traffic). */
const DEVICE_FIELDS: [keyof Omit<DeviceUpsert, 'mac' | 'lastAddress'>, string][] = [
  ['e164', 'e164'],
  ['deviceType', 'device-type'],
  ['softwareVersion', 'software-version'],
  ['partNumber', 'part-number'],
  ['contactMeUri', 'contact-me-uri'],
];

/** Answers after which a phone sends nothing more in this interaction. */
const ENDING_ACTIONS = new Set(['CleanUp', 'Restart']);

export interface RelayOptions {
  /** An interaction with no message for this long is closed as expired (ms). */
  idleMs?: number;
  /** Interactions followed at once; beyond, the oldest is forgotten (closed as expired). */
  maxTracks?: number;
  /**
   * Interactions followed at once from one client address; beyond, that address's own oldest is
   * forgotten, so one host cannot push every phone's out (as the service's SessionTable keeps 2,000
   * per address). Also the most interactions closed as idle remembered for one address.
   */
  maxTracksPerPeer?: number;
}

/** How long the relay remembers where an interaction it closed as idle was: a DLS's session may outlive its 120 s (a servlet's default is 30 minutes). */
const IDLE_CLOSED_MEMORY_MS = 30 * 60_000;

/**
 * A message on its way to the DLS: the relay decides before it forwards and learns only from the
 * answer, so until then the DLS may already hold what the relay has not seen (helper-88).
 */
interface Flight {
  peer: string;
  /** The one MAC it names (null: none; '': two, or one that is not a MAC). */
  mac: string | null;
  /** A message other than reply-to, status or clean-up: it may open an interaction at the DLS. */
  opening: boolean;
  /**
   * A status or clean-up, or a body LocalDLS cannot read, that the DLS may continue by the MAC it
   * names or by the client address, the relay's for every phone (helper-89): all but a report with
   * its own session cookie as the DLS set it, naming no MAC or its own interaction's.
   */
  byAddress: boolean;
  /** Decided and passed on: the DLS may take it at any moment from now until its answer. */
  atDls: boolean;
  /** The interactions at its address it continues or may end (by its cookie, the MAC it names, or its address). */
  touches: Set<Track>;
  done: Promise<void>;
}

export class RelayHandler implements RequestHandler {
  /** Interactions followed, least recently used first (re-added on each message). */
  private readonly tracks = new Set<Track>();
  /** By the upstream's session cookie: how a reply-to finds its interaction, also behind NAT. */
  private readonly byCookie = new Map<string, Track>();
  /** The latest interaction per client address: the fallback for a reply-to without a known cookie. */
  private readonly byPeer = new Map<string, Track>();
  /** Per device: a phone that starts over abandons its own earlier interaction, never another phone's. */
  private readonly byMac = new Map<string, Track>();
  /**
   * Per device: the address of an interaction the relay closed as idle, and until when it is
   * remembered. The DLS may keep the session longer (a servlet's 30 minutes), and would continue it
   * for a report naming the MAC from any host (helper-86): such a report from elsewhere is held.
   */
  private readonly idleClosed = new Map<string, { peer: string; until: number }>();
  /** Per client address, its tracks in order of last use (its oldest first), and how many idleClosed entries it has. */
  private readonly perPeer = new Map<string, Set<Track>>();
  private readonly idleClosedPerPeer = new Map<string, number>();
  /** Messages forwarded or waiting to be, until their answer is learnt; per client address in the order they came. */
  private readonly flights = new Map<string, Flight[]>();
  private readonly idleMs: number;
  private readonly maxTracks: number;
  private readonly maxTracksPerPeer: number;
  /** The DLS has set a session cookie on a first message's answer: an interaction it gave none is then no reason to pass a cookieless reply-to. */
  private dlsSetsCookies = false;

  constructor(
    private readonly store: Store,
    readonly upstream: UpstreamClient,
    /** Records refusals and failed handshakes exactly as for own traffic, and owns the exchange events. */
    private readonly own: ExchangeHandler,
    options: RelayOptions = {},
    private readonly now: () => number = Date.now,
  ) {
    this.idleMs = options.idleMs ?? 120_000;
    this.maxTracks = options.maxTracks ?? 10_000;
    this.maxTracksPerPeer = options.maxTracksPerPeer ?? 2_000;
  }

  private get events(): EventEmitter<ExchangeEvents> {
    return this.own.events;
  }

  async exchange(request: WpiRequest): Promise<WpiResponse> {
    if (request.listener === 'secure') return this.notRelayed(request);
    if (this.upstream.passed(request.headers)) return this.looped(request);
    const phone = lenient(() => parseWorkpointMessage(request.body));
    const { flight, land, before } = this.takeOff(request, phone.value);
    try {
      // A message that continues an interaction is decided once the messages of that interaction
      // that came before it are answered and learnt: one of them may have ended it at the DLS
      // (helper-88: a host's own reply-to sent while its interaction's CleanUp was at the DLS passed
      // with its own cookie; the DLS, which had ended that session, went by address and gave it the
      // latest phone's WriteItems). A phone sends one message of an interaction at a time, and other
      // phones behind the same address are not kept waiting. A first message waits instead for the
      // reports from other addresses still at the DLS (helper-89: one passed while no other address
      // had an interaction, and a DLS that took the phone's start-up first continued it by address).
      await Promise.all(before);
      return await this.relayed(request, phone, flight);
    } finally {
      land();
    }
  }

  /** Registers a message from its address before it is decided (see Flight). */
  private takeOff(request: WpiRequest, phone: WorkpointMessage | null) {
    const peer = peerKey(request.peerAddress);
    const mac = phone ? macNamed(phone.items) : null;
    const opening = phone !== null && phone.reason !== 'reply-to' && phone.reason !== 'status' && phone.reason !== 'clean-up';
    const touches = new Set(this.cookieTracks(request).filter((t) => t.peer === peer));
    const ofMac = mac ? this.byMac.get(mac) : undefined;
    if (ofMac && ofMac.peer === peer) touches.add(ofMac);
    const ofPeer = this.byPeer.get(peer);
    if (!opening && touches.size === 0 && ofPeer) touches.add(ofPeer);
    let land!: () => void;
    const report = phone !== null && (phone.reason === 'status' || phone.reason === 'clean-up');
    const own = report ? this.exactOwnTrack(request, peer) : null;
    const byAddress = phone === null || (report && !(own && (mac === null || mac === own.mac)));
    const flight: Flight = { peer, mac, opening, byAddress, atDls: false, touches, done: new Promise<void>((resolve) => (land = resolve)) };
    const mine = this.flights.get(peer) ?? [];
    // A message of an interaction waits for the earlier ones of it at its address. A first message
    // waits for the reports from elsewhere already passed on to the DLS: each was decided while this
    // one was not yet known, and the DLS may take them in any order. Those decided from now on see
    // it (openingElsewhere), so it does not wait for them. Only earlier messages are waited for: no cycle.
    const before = (opening ? [...this.flights.values()].flatMap((theirs) => theirs.filter((f) => f.peer !== peer && f.byAddress && f.atDls)) : mine.filter((f) => [...f.touches].some((t) => touches.has(t)))).map((f) => f.done);
    mine.push(flight);
    this.flights.set(peer, mine);
    return {
      flight,
      before,
      land: () => {
        const left = (this.flights.get(peer) ?? []).filter((f) => f !== flight);
        if (left.length) this.flights.set(peer, left);
        else this.flights.delete(peer);
        land();
      },
    };
  }

  /** Messages from other addresses not yet answered that may open an interaction at the DLS. */
  private openingElsewhere(peer: string): Flight[] {
    return [...this.flights.values()].flatMap((mine) => mine.filter((f) => f.peer !== peer && f.opening));
  }

  private async relayed(request: WpiRequest, phone: Lenient<WorkpointMessage>, flight: Flight): Promise<WpiResponse> {
    const elsewhere = phone.value ? this.notThisPeers(request, phone.value) : this.unreadElsewhere(request);
    if (elsewhere) return this.own.refused(request, 403, elsewhere, phone.value ?? undefined);
    flight.atDls = true;
    let answer: UpstreamAnswer;
    try {
      answer = await this.upstream.forward({ method: request.method, path: request.path, headers: request.headers, body: request.body, ...(request.httpVersion ? { httpVersion: request.httpVersion } : {}) });
    } catch (e) {
      if (!(e instanceof UpstreamError)) throw e;
      return this.failed(request, phone, e);
    }
    const response: WpiResponse = { status: answer.status, statusText: answer.statusText, exactHeaders: true, headers: answer.headers, body: answer.body };
    const dls = answer.status === 200 ? lenient(() => parseDLSMessage(answer.body)) : { value: null, problem: null };
    const learnt = this.learn(request, phone.value, dls.value, answer.headers, answer.status === 200);
    const warnings = [
      phone.problem && exchangeWarningText('phoneNotWpiRelayed', { problem: phone.problem }),
      dls.problem && exchangeWarningText('answerNotDlsRelayed', { problem: dls.problem }),
      learnt.warning,
    ].filter(Boolean);
    const record = this.record(request, response, phone.value, {
      mac: learnt.mac,
      action: dls.value?.action ?? null,
      error: answer.status >= 400 ? `the upstream answered HTTP ${answer.status}${answer.statusText ? ` ${answer.statusText}` : ''}` : null,
      warning: warnings.length ? warnings.join(WARNING_SEPARATOR) : null,
    });
    const upstream: UpstreamView = {
      url: this.upstream.origin, ...timingOf(answer.timing), httpStatus: answer.status, reused: answer.reused,
      tlsProtocol: answer.tls.protocol, tlsCipher: answer.tls.cipher, fingerprint: answer.tls.fingerprint, subject: answer.tls.subject,
      trustedBy: answer.tls.trustedBy, failure: null, error: null, requestHeaders: answer.sent, responseHeaders: answer.received, headersRecorded: true,
    };
    this.commit(record, learnt.changes, learnt.interactionId, upstream, learnt.after);
    return response;
  }

  refused(request: WpiRequest, status: number, reason: string): WpiResponse {
    return this.own.refused(request, status, reason);
  }

  /** A phone trying mutual TLS on the relay's secure port ends here, recorded with the reason it cannot work. */
  handshakeFailed(f: HandshakeFailure): void {
    this.own.handshakeFailed(f.listener === 'secure' ? { ...f, hint: [f.hint, SECURE_MODE_NOT_RELAYED].filter(Boolean).join('; ') } : f);
  }

  /** Closes interactions whose phone went silent (as the engine's session sweep does for own traffic). */
  sweep(now: number): void {
    const gone = [...this.tracks].filter((t) => now - t.lastSeen > this.idleMs);
    this.expire(gone, now);
  }

  private expire(tracks: Track[], now: number): void {
    if (tracks.length === 0) return;
    for (const t of tracks) {
      this.forget(t);
      if (t.mac !== null) this.rememberClosed(t.mac, t.peer, now);
    }
    const ids = tracks.flatMap((t) => (t.interactionId === null ? [] : [t.interactionId]));
    const macs = tracks.flatMap((t) => (t.mac === null ? [] : [t.mac]));
    this.store.expireInteractions(ids, macs, now);
  }

  /** A request on the secure port reached HTTP (the phone took our certificate): refused, and said why. */
  private notRelayed(request: WpiRequest): WpiResponse {
    return this.answeredHere(request, 502, relayFailureText('secureMode'));
  }

  /**
   * A request that has come round to this relay again (its Via names it): refused with 508 Loop
   * Detected (RFC 5842), not passed on another time. Each relay of the loop passes the 508 back,
   * so the phone gets it at once rather than a timeout.
   */
  private looped(request: WpiRequest): WpiResponse {
    return this.answeredHere(request, 508, relayFailureText('loop', { via: this.upstream.viaName, origin: this.upstream.origin }));
  }

  /** A request the relay answers itself, without sending it on: the reason to the phone, recorded as not relayed. */
  private answeredHere(request: WpiRequest, status: number, reason: string): WpiResponse {
    const response: WpiResponse = { status, headers: [['Content-Type', 'text/plain; charset=utf-8']], body: Buffer.from(`${reason}\n`, 'utf8') };
    const phone = lenient(() => parseWorkpointMessage(request.body));
    const at = this.now();
    const record = this.record(request, response, phone.value, { action: null, error: reason, warning: phone.problem ? exchangeWarningText('phoneNotWpi', { problem: phone.problem }) : null });
    this.commit(record, {}, null, emptyUpstream(this.upstream.origin, at, 'not-relayed', reason));
    return response;
  }

  /** The upstream gave no answer: the phone gets 502/504 at once, with the reason in one line. */
  private failed(request: WpiRequest, phone: Lenient<WorkpointMessage>, e: UpstreamError): WpiResponse {
    const response: WpiResponse = { status: e.status, headers: [['Content-Type', 'text/plain; charset=utf-8']], body: Buffer.from(`${e.message}\n`, 'utf8') };
    const track = this.trackOf(request, phone.value);
    // The interaction cannot go on without its DLS; a new one opens with the phone's next attempt.
    const changes: Changes = track?.interactionId != null && phone.value?.reason === 'reply-to' ? { endInteraction: `the upstream failed: ${e.failure}`, ...(track.mac ? { state: 'idle' as const } : {}) } : {};
    if (track && changes.endInteraction) this.forget(track);
    const record = this.record(request, response, phone.value, { action: null, error: e.message, warning: phone.problem ? exchangeWarningText('phoneNotWpi', { problem: phone.problem }) : null });
    // The phone's own traffic shows the attempt (helper-61: a failed start-up had no MAC, so the
    // device's traffic left it out): its interaction's MAC, else the one MAC the message names,
    // said to be only claimed (no DLS answered it, and any LAN host can name any MAC). The record
    // only: a failure is no contact of the device (`refused`: nothing of the device changes).
    const named = phone.value ? macNamed(phone.value.items) : null;
    if (track?.mac) record.mac = track.mac;
    else if (named) {
      record.mac = named;
      record.warning = [record.warning, exchangeWarningText('macUnconfirmedNoAnswer')].filter(Boolean).join(WARNING_SEPARATOR);
    }
    if (record.mac && !changes.endInteraction) changes.refused = true;
    const upstream: UpstreamView = {
      ...emptyUpstream(this.upstream.origin, e.timing.started, e.failure, e.message),
      ...timingOf({ ...e.timing, ended: e.timing.ended || this.now() }),
      ...(e.tls ? { tlsProtocol: e.tls.protocol, tlsCipher: e.tls.cipher, fingerprint: e.tls.fingerprint, subject: e.tls.subject, trustedBy: e.tls.trustedBy } : {}),
      requestHeaders: e.sent,
      responseHeaders: e.received,
    };
    this.commit(record, changes, changes.endInteraction ? track!.interactionId : null, upstream);
    return response;
  }

  /**
   * What the exchange tells about interactions and devices. A message with a reason other than
   * reply-to opens an interaction; reply-to continues the one of its session cookie, else of its
   * address; CleanUp or Restart ends it. The device is the phone's mac-addr, or the interaction's.
   */
  private learn(request: WpiRequest, phone: WorkpointMessage | null, dls: DLSMessage | null, answerHeaders: [string, string][], answered: boolean) {
    const changes: Changes = {};
    let warning: string | null = null;
    const setCookie = setCookiePair(answerHeaders);
    const cookie = setCookie?.id ?? null;
    // Only a cookie set on a first message's answer says the DLS keeps sessions by cookie from their
    // start: one that sets it later (on its second answer) would have every phone's first reply-to
    // refused (helper-88); such a DLS is as one that sets none (docs/relay.md).
    if (cookie !== null && phone !== null && phone.reason !== 'reply-to') this.dlsSetsCookies = true;
    let track: Track | null;
    let opens = false;
    if (phone !== null && phone.reason !== 'reply-to') {
      // A first message the DLS refused opened nothing there: it opens nothing here and ends no
      // interaction. One answered without a cookie of its own that carried this address's session
      // cookie (the last part of a first message in fragments, a report in its session) continued
      // that interaction at the DLS, and does here. helper-85: either left a track without cookie at
      // the sender's address, which then passed a cookieless reply-to, and the DLS gave that reply
      // the latest interaction at the relay's address, another phone's, with its WriteItems.
      track = answered && cookie === null ? this.continued(request, phone) : null;
      opens = answered && track === null;
      const earlier = opens ? this.trackOf(request, phone) : null;
      // An opening message's track is the same phone's earlier interaction (found by its MAC).
      if (earlier) {
        changes.abandon = [{ interactionId: earlier.interactionId, mac: earlier.mac, why: 'the phone started a new interaction' }];
        this.forget(earlier);
      }
      if (opens) changes.openInteraction = { reason: phone.reason };
    } else track = this.trackOf(request, phone);
    const named = phone ? macNamed(phone.items) : null;
    let mac = track?.mac ?? null;
    if (named === '') warning = exchangeWarningText('macsUnclear');
    else if (named && mac && named !== mac) warning = exchangeWarningText('otherMac', { named, mac });
    else if (named) mac = named;
    // A message the DLS refused (helper-82: a reply-to of no interaction, naming any MAC, answered
    // 403 by the DLS, went into that device's inventory here) changes no device: the DLS kept none of it.
    const trusted = warning === null && mac !== null && phone !== null && answered;
    let reading: Track['reading'] = null;
    if (trusted) {
      const device: DeviceUpsert = { mac: mac!, lastAddress: request.peerAddress };
      for (const [field, item] of DEVICE_FIELDS) {
        const value = phone.items.find((i) => i.name === item && i.value !== '' && !i.status)?.value;
        if (value !== undefined) device[field] = value;
      }
      changes.device = device;
      // As the service keeps a phone's own reports (provisioning/decide.ts): every item, with its
      // status (`failed` on one it cannot provide) and mac-addr; in a WriteItems reply the statuses
      // are its verdicts on the DLS's values, taken by acceptedWrites (helper-81: the relay's view
      // of a phone lacked what the DLS's had).
      const writeReply = phone.reason === 'reply-to' && phone.action === 'WriteItems';
      const readAll = phone.reason === 'reply-to' && phone.action === 'ReadAllItems' && phone.status === 'accepted';
      if (readAll && track) {
        // The phone's whole inventory, as the service takes it (decide.ts: replaceItems): an item it
        // no longer reports goes, and a first read is one history row (helper-82: the relay merged,
        // kept what the phone had dropped, and wrote each item of a first read as a change).
        const sofar = track.reading === 'merge' ? phone.items : [...(track.reading ?? []), ...phone.items];
        if (track.reading === 'merge' || (phone.fragment === 'next' && sofar.length > MAX_ITEMS_PER_DEVICE)) {
          if (sofar.length) changes.mergeItems = sofar;
          reading = phone.fragment === 'next' ? 'merge' : null;
        } else if (phone.fragment === 'next') reading = sofar;
        else changes.replaceItems = sofar;
      } else {
        const reported = writeReply ? phone.items.filter((i) => !i.status) : phone.items;
        const accepted = writeReply && phone.status === 'accepted' && track?.written ? acceptedWrites(track.written, phone.items) : [];
        const merge = [...accepted, ...reported];
        if (merge.length) changes.mergeItems = merge;
      }
    } else if (mac !== null && answered) {
      changes.device = { mac, lastAddress: request.peerAddress };
    }
    const ends = dls !== null && ENDING_ACTIONS.has(dls.action);
    if (ends && (track || opens)) changes.endInteraction = dls.action;
    if (mac !== null && trusted) changes.state = ends || !(track || opens) ? 'idle' : 'in-interaction';
    if (warning !== null) delete changes.device;
    const recordMac = warning !== null ? (track?.mac ?? null) : mac;
    // A message the DLS did not answer is no contact of the device: neither its address nor its
    // last contact moves (helper-86: a report naming another phone's MAC, refused by the DLS,
    // moved that phone to the sender's address in the relay's inventory).
    if (!answered && recordMac !== null) {
      changes.refused = true;
      if (track?.mac !== recordMac) warning = [warning, exchangeWarningText('macUnconfirmedNotTaken')].filter(Boolean).join(WARNING_SEPARATOR);
    }
    const interactionId = track?.interactionId ?? null;
    const existing = track;
    const after = (result: { interactionId: number | null }) => {
      if (ends) {
        if (existing) this.forget(existing);
        return;
      }
      const t: Track | null = existing ?? (opens ? { interactionId: result.interactionId, mac, peer: peerKey(request.peerAddress), cookie: null, cookieAsSet: null, lastSeen: 0, written: null, reading: null } : null);
      if (!t) return;
      if (t.mac === null && trusted) t.mac = mac;
      t.lastSeen = this.now();
      t.written = dls?.action === 'WriteItems' ? dls.items : dls?.action === 'GetNextFragment' ? t.written : null;
      t.reading = reading;
      this.remember(t, setCookie);
    };
    return { changes, interactionId, warning, after, mac: recordMac };
  }

  /**
   * The DLS sees every phone at the relay's address, so the checks it makes by address (a session
   * cookie presented from another host, a reply-to without cookie matched by address, a report
   * matched by its MAC and address) cannot tell one LAN host from another behind the relay: a host
   * that never saw a phone's interaction was given that phone's WriteItems, password and all, by
   * answering a cookieless reply-to through the relay (helper-83). The relay knows each client's
   * address, so it holds messages that continue an interaction to it: why one is not relayed, or
   * null. A refused message never reaches the DLS (recorded as the listener's refusals are).
   */
  private notThisPeers(request: WpiRequest, phone: WorkpointMessage): string | null {
    const report = phone.reason === 'status' || phone.reason === 'clean-up';
    if (phone.reason !== 'reply-to' && !report) return null;
    const peer = peerKey(request.peerAddress);
    const tracked = this.cookieTracks(request);
    const what = `a ${phone.reason}`;
    const blind = 'the DLS sees every phone at the relay\'s address and could not tell them apart: not relayed';
    // Any cookie of another address's interaction, whichever of several it is and however spelt
    // (a DLS may read the name in any case, the value quoted, `,` as a separator: LocalDLS does).
    const foreign = tracked.find((t) => t.peer !== peer);
    if (foreign) return `${what} with the session cookie of the interaction of ${foreign.mac ?? 'another phone'} at ${foreign.peer}, but from ${peer}: ${blind}`;
    // Its own interaction's cookie only as the DLS set it: spelt otherwise, a DLS that reads cookies
    // exactly (a servlet container) sees none, and goes by address (helper-87).
    const exact = this.exactOwnTrack(request, peer);
    if (tracked.length > 0 && !exact) {
      return `${what} with the session cookie of its interaction at ${peer}, but not as the DLS set it (its name or value spelt otherwise, or not between \`;\`): a DLS that reads cookies exactly would see none; ${blind} (the DLS would take it for the latest phone's there)`;
    }
    // The MAC it names, whether or not it presents a cookie of its own: a DLS that continues a report
    // by its MAC before its cookie would continue that phone's interaction (helper-87: a host with
    // a session of its own sent a status naming a phone's MAC and was given its WriteItems).
    const named = macNamed(phone.items);
    const open = named ? this.byMac.get(named) : undefined;
    const presented = exact ? 'with its own session cookie' : 'without session cookie';
    if (report && named === '') {
      // Two mac-addr items, or one LocalDLS does not read as a MAC: a DLS that takes the first or
      // the last, or reads more spellings, may find an open interaction by it (helper-86).
      const other = this.elsewhere(peer);
      return other ? `${what} ${presented} naming more than one MAC, or one that is not a MAC as LocalDLS reads it, from ${peer} while ${other}: a DLS that reads it otherwise might take it for that phone's; ${blind}` : null;
    }
    if (named) {
      if (open && open.peer !== peer) return `${what} ${presented} naming ${named}, whose interaction is open at ${open.peer}, from ${peer}: ${blind}`;
      // A first message naming it still on its way: the DLS may have opened that phone's interaction
      // already, and the relay learns of it only from the answer (helper-88: a status naming a phone,
      // sent while its start-up was at the DLS, was given that phone's WriteItems).
      const opening = this.openingElsewhere(peer).find((f) => f.mac === named);
      if (opening) return `${what} ${presented} naming ${named}, whose first message from ${opening.peer} is still at the DLS, from ${peer}: ${blind}`;
      const closed = open ? undefined : this.idleClosed.get(named);
      if (closed && closed.until > this.now() && closed.peer !== peer) {
        return `${what} ${presented} naming ${named}, whose interaction at ${closed.peer} the relay closed as idle but the DLS may keep open, from ${peer}: ${blind}`;
      }
    }
    if (exact) return null;
    if (report) {
      // Without a cookie of its own the DLS continues a report by the MAC it names: one whose
      // interaction is open, or was closed as idle, at the sender's address is its own. One naming no
      // MAC, or a phone with no interaction known here, a DLS may continue by address as it does a
      // cookieless reply-to: the latest phone's at the relay's address (helper-88: a host with no
      // interaction sent a status naming no MAC, or a made-up one, and was given a phone's WriteItems).
      if (named && (open || this.idleClosed.get(named)?.peer === peer)) return null;
      const other = this.elsewhere(peer);
      return other ? `${what} without session cookie ${named ? `naming ${named}, which has no interaction open at ${peer},` : 'naming no MAC'} from ${peer} while ${other}: a DLS that goes by address would take it for that phone's; ${blind}` : null;
    }
    // Any other cookie counts as none: a made-up one (`foo=bar`) is no session cookie to the DLS,
    // which then goes by address (helper-84: a host elsewhere sent one and was given the phone's
    // WriteItems), and how a DLS treats a session id it does not know (a new session, matched by
    // address again?) the relay cannot tell. One the relay did not see set (before its restart, or
    // of an interaction it closed as idle) is held too: the phone starts over at its next contact.
    // A phone whose cookie the relay never saw set (it restarted, or closed the interaction as idle)
    // is told so: "without session cookie" alone reads as if the phone had sent none.
    const unseen = cookiePairs(forwardedHeaders(request.headers)).length > 0 ? ' (the cookies it presents are none the relay saw the DLS set for an open interaction: set before the relay started, of an interaction it closed as idle, or made up; the phone starts over at its next contact)' : '';
    const own = this.byPeer.get(peer);
    if (!own) return `${what} without session cookie from ${peer}, where no interaction is open${unseen}: ${blind} (the DLS would take it for the latest phone's there)`;
    if (own.cookie !== null) return `${what} without the session cookie the DLS set for the interaction at ${peer} (phones present it, manual p.34)${unseen}: ${blind} (the DLS would take it for the latest phone's there)`;
    // The DLS sets cookies, yet gave this interaction none: one the relay did not see it open.
    if (this.dlsSetsCookies) return `${what} without session cookie from ${peer}, whose interaction the DLS gave no session cookie although it sets them: ${blind} (the DLS would take it for the latest phone's there)`;
    return null;
  }

  /**
   * A body LocalDLS cannot read as WPI is relayed as it was (odd firmware is what a relay is for),
   * unless another address has an interaction open and this one presents no session cookie of its
   * own: a DLS whose parser reads it (UTF-16, an odd nonce) might take it for a cookieless reply-to
   * and continue the latest interaction at the relay's address, another phone's (helper-85).
   */
  private unreadElsewhere(request: WpiRequest): string | null {
    const peer = peerKey(request.peerAddress);
    if (this.exactOwnTrack(request, peer)) return null;
    const other = this.elsewhere(peer);
    if (!other) return null;
    return `a message that is not WPI as LocalDLS reads it, without a session cookie of its own, from ${peer} while ${other}: the DLS sees every phone at the relay's address and might take it for that phone's reply: not relayed`;
  }

  /**
   * Another address's interaction the DLS may hold open, said as a clause, or null: one the relay
   * follows, one a first message still at the DLS may have opened (helper-88), or one the relay
   * closed as idle in the last 30 minutes (the DLS may keep its session longer).
   */
  private elsewhere(peer: string): string | null {
    for (const t of this.tracks) if (t.peer !== peer) return `the interaction of ${t.mac ?? 'another phone'} at ${t.peer} is open`;
    const opening = this.openingElsewhere(peer)[0];
    if (opening) return `a first message of ${opening.mac || 'another phone'} from ${opening.peer} is at the DLS`;
    const now = this.now();
    for (const [mac, c] of this.idleClosed) if (c.peer !== peer && c.until > now) return `the interaction of ${mac} at ${c.peer}, closed as idle here, may be open at the DLS`;
    return null;
  }

  /** The interactions whose session cookies the request carries, as the upstream gets them (not a Cookie its Connection header names). */
  private cookieTracks(request: WpiRequest): Track[] {
    return cookiePairs(forwardedHeaders(request.headers)).flatMap((c) => this.byCookie.get(c.id) ?? []);
  }

  /**
   * The interaction at this address whose session cookie the request carries exactly as the DLS set
   * it (`;` between cookies, as user agents send them, RFC 6265 §5.4). cookieTracks reads any
   * spelling a DLS may take alike, which is right for a cookie of another address's interaction;
   * for the sender's own it is not: a servlet container reads the name and value exactly, and
   * given `jsessionid=…`, a lower-case id, an unbalanced quote or `x=1, JSESSIONID=…` it has no
   * session cookie and the DLS goes by address, to the latest phone's interaction (helper-87).
   */
  private exactOwnTrack(request: WpiRequest, peer: string): Track | null {
    const asSent = new Set(cookiePairs(forwardedHeaders(request.headers), /;/).map((c) => c.asSet));
    return this.cookieTracks(request).find((t) => t.peer === peer && t.cookieAsSet !== null && asSent.has(t.cookieAsSet)) ?? null;
  }

  /**
   * The interaction at this address that a message other than reply-to, answered without a cookie
   * of its own, continued at the DLS: the one of its session cookie, or a report's by its MAC.
   */
  private continued(request: WpiRequest, phone: WorkpointMessage): Track | null {
    const peer = peerKey(request.peerAddress);
    const byCookie = this.cookieTracks(request).find((t) => t.peer === peer);
    if (byCookie) return byCookie;
    if (phone.reason !== 'status' && phone.reason !== 'clean-up') return null;
    const named = macNamed(phone.items);
    const own = named ? this.byMac.get(named) : undefined;
    return own && own.peer === peer ? own : null;
  }

  private trackOf(request: WpiRequest, phone: WorkpointMessage | null): Track | null {
    if (phone !== null && phone.reason !== 'reply-to') {
      const named = macNamed(phone.items);
      return named ? (this.byMac.get(named) ?? null) : null;
    }
    const cookie = this.cookieTracks(request)[0];
    return cookie ?? this.byPeer.get(peerKey(request.peerAddress)) ?? null;
  }

  private remember(t: Track, cookie: CookiePair | null): void {
    if (cookie && t.cookie !== cookie.id) {
      if (t.cookie) this.byCookie.delete(t.cookie);
      t.cookie = cookie.id;
    }
    if (cookie) t.cookieAsSet = cookie.asSet;
    // Re-added so that the set stays in order of last use: the oldest goes first when full.
    this.tracks.delete(t);
    this.tracks.add(t);
    this.byPeer.set(t.peer, t);
    if (t.cookie) this.byCookie.set(t.cookie, t);
    if (t.mac) {
      this.byMac.set(t.mac, t);
      this.forgetClosed(t.mac);
    }
    let mine = this.perPeer.get(t.peer);
    if (!mine) this.perPeer.set(t.peer, (mine = new Set()));
    mine.delete(t);
    mine.add(t);
    // One address past its share gives way first, then the oldest of all.
    if (mine.size > this.maxTracksPerPeer) this.expire([mine.values().next().value as Track], this.now());
    if (this.tracks.size > this.maxTracks) {
      const oldest = this.tracks.values().next().value as Track;
      this.expire([oldest], this.now());
    }
  }

  /**
   * Where an interaction closed as idle was, for IDLE_CLOSED_MEMORY_MS. Bounded per address first
   * (its own oldest goes: helper-87, one host making up MACs by the thousand flushed every phone's
   * entry), then overall (the oldest).
   */
  private rememberClosed(mac: string, peer: string, now: number): void {
    this.forgetClosed(mac);
    this.idleClosed.set(mac, { peer, until: now + IDLE_CLOSED_MEMORY_MS });
    const count = (this.idleClosedPerPeer.get(peer) ?? 0) + 1;
    this.idleClosedPerPeer.set(peer, count);
    if (count > this.maxTracksPerPeer) {
      for (const [m, c] of this.idleClosed) {
        if (c.peer === peer) {
          this.forgetClosed(m);
          break;
        }
      }
    }
    if (this.idleClosed.size > this.maxTracks) this.forgetClosed(this.idleClosed.keys().next().value as string);
  }

  private forgetClosed(mac: string): void {
    const c = this.idleClosed.get(mac);
    if (!c) return;
    this.idleClosed.delete(mac);
    const left = (this.idleClosedPerPeer.get(c.peer) ?? 1) - 1;
    if (left > 0) this.idleClosedPerPeer.set(c.peer, left);
    else this.idleClosedPerPeer.delete(c.peer);
  }

  private forget(t: Track): void {
    const mine = this.perPeer.get(t.peer);
    if (mine?.delete(t) && mine.size === 0) this.perPeer.delete(t.peer);
    this.tracks.delete(t);
    if (this.byPeer.get(t.peer) === t) this.byPeer.delete(t.peer);
    if (t.cookie && this.byCookie.get(t.cookie) === t) this.byCookie.delete(t.cookie);
    if (t.mac && this.byMac.get(t.mac) === t) this.byMac.delete(t.mac);
  }

  private record(request: WpiRequest, response: WpiResponse, phone: WorkpointMessage | null, parsed: { mac?: string | null; action: string | null; error: string | null; warning: string | null }): ExchangeRecord {
    return withClientTextsMasked({
      ...httpFacts(request, response, this.now()),
      reason: phone?.reason ?? null,
      replyAction: phone?.action ?? null,
      replyStatus: phone?.status ?? null,
      nonce: phone?.nonce ?? null,
      fragment: phone?.fragment ?? null,
      itemCount: phone?.items.length ?? 0,
      refusedItems: phone ? refusedItemCount(phone) : 0,
      ...parsed,
      mac: parsed.mac ?? null,
    });
  }

  private commit(record: ExchangeRecord, changes: Changes, interactionId: number | null, upstream: UpstreamView, after?: (r: { interactionId: number | null }) => void): void {
    const stored: Changes = {
      ...changes,
      ...(changes.mergeItems ? { mergeItems: redactItemsForStorage(changes.mergeItems) } : {}),
      ...(changes.replaceItems ? { replaceItems: redactItemsForStorage(changes.replaceItems) } : {}),
    };
    const result = this.store.commitRelayed(record, stored, interactionId, upstream);
    after?.(result);
    const event = exchangeSummary(record, changes, result);
    this.events.emit('exchange', event);
  }
}

type Lenient<T> = { value: T | null; problem: string | null };

function lenient<T>(parse: () => T): Lenient<T> {
  try {
    return { value: parse(), problem: null };
  } catch (e) {
    return { value: null, problem: e instanceof Error ? e.message : String(e) };
  }
}

/** The one MAC a message names; null when none, '' when one is not a MAC or two differ. */
function macNamed(items: readonly Item[]): string | null {
  let found: string | null = null;
  for (const item of items) {
    if (item.name !== 'mac-addr' || item.value === '') continue;
    const mac = normalizeMac(item.value);
    if (!mac || (found !== null && found !== mac)) return '';
    found = mac;
  }
  return found;
}

/** The DLS's written items the phone did not flag with a status in its accepted reply (manual p.26). */
function acceptedWrites(written: readonly Item[], reply: readonly Item[]): Item[] {
  const flagged = new Set(reply.filter((i) => i.status).map((i) => `${i.name}|${i.index ?? ''}`));
  return written.filter((i) => !flagged.has(`${i.name}|${i.index ?? ''}`)).map(({ name, index, value }) => ({ name, value, ...(index !== undefined ? { index } : {}) }));
}

/** A cookie as the relay keys it: the name in lower case, the value unquoted, in lower case (DLSs differ in what they tell apart). */
interface CookiePair {
  name: string;
  id: string;
  /** `name=value` as written (name and value trimmed, nothing else changed). */
  asSet: string;
}

function cookiePair(part: string): CookiePair | null {
  const eq = part.indexOf('=');
  if (eq < 0) return null;
  const raw = { name: part.slice(0, eq).trim(), value: part.slice(eq + 1).trim() };
  const name = raw.name.toLowerCase();
  const value = raw.value.replace(/^"|"$/g, '').toLowerCase();
  return name === '' ? null : { name, id: `${name}=${value}`, asSet: `${raw.name}=${raw.value}` };
}

/** Every `name=value` of the request's Cookie headers, split at `;` and `,` (a phone may echo the cookie with its attributes attached). */
function cookiePairs(headers: readonly [string, string][], separators: RegExp = /[;,]/): CookiePair[] {
  return headers
    .filter(([n]) => n.toLowerCase() === 'cookie')
    .flatMap(([, v]) => v.split(separators))
    .flatMap((p) => cookiePair(p) ?? []);
}

/** The first `name=value` of the answer's first Set-Cookie header. */
function setCookiePair(headers: readonly [string, string][]): CookiePair | null {
  const value = headers.find(([n]) => n.toLowerCase() === 'set-cookie')?.[1];
  return value === undefined ? null : cookiePair(value.split(';')[0] ?? '');
}

function timingOf(t: { started: number; connected: number | null; firstByte: number | null; ended: number }) {
  return { started: t.started, connected: t.connected, firstByte: t.firstByte, ended: t.ended };
}

function emptyUpstream(url: string, at: number, failure: UpstreamView['failure'], error: string): UpstreamView {
  return {
    url, started: at, connected: null, firstByte: null, ended: at, httpStatus: null, reused: false,
    tlsProtocol: null, tlsCipher: null, fingerprint: null, subject: null, trustedBy: null, failure, error, requestHeaders: null, responseHeaders: null, headersRecorded: true,
  };
}
