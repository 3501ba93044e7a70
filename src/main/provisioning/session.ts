/**
 * HTTP sessions of running interactions (manual p.13, p.28, p.34). Phones open a new TLS connection
 * per message, so the interaction is held together by the JSESSIONID cookie; reply-to messages carry
 * no mac-addr, so a session can also be found by the phone's address (field practice, see
 * wpi-protocol.md §2.4) or, on the secure port, by its client certificate. In memory only: an
 * interaction does not survive a restart of the service.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Item, WorkpointMessage } from '../wpi';
import type { ListenerKind } from '../../shared/model';
import { peerKey } from '../net/peer-address';
import { newInteraction, type InteractionState } from './decide';

export const SESSION_COOKIE = 'JSESSIONID';

export interface Session {
  id: string;
  /** The device this interaction belongs to: bound by its opening message, never changed after. */
  mac: string | null;
  peerAddress: string;
  listener: ListenerKind;
  /** Secure listener: serial of the client certificate that opened it; every message must present the same. */
  certSerial: string | null;
  interactionId: number | null;
  /**
   * Phone message being assembled from fragments (manual p.69–70); `bytes` is what it holds
   * (estimate). `refused`: its fragments were dropped at a bound, so its rest is refused too.
   */
  assembling: { first: WorkpointMessage; items: Item[]; bytes: number; refused?: { status: 413 | 503; reason: string } } | null;
  /** The job in flight and the busy chain (see decide.ts). */
  interaction: InteractionState;
  lastSeen: number;
  /**
   * Replay defence (see RecentNonces): digests of the messages answered, the last nonce. `nonceKept`:
   * two messages in a row carried the same nonce, so the phone keeps one for the whole flow (manual
   * p.34), and two of its replies can be the same bytes without being a replay (two accepted
   * WriteItems, or two answers in fragments to the same read, answer alike). `partDigests`: the
   * parts of the message being assembled; `lastWhole`: the last part, when the message just before
   * was a message in fragments completed (its parts, sent again, would be taken twice).
   */
  replay: { digests: string[]; partDigests: string[]; lastWhole: string | null; lastNonce: string | null; nonceKept: boolean };
}

export interface SessionLimits {
  /** A phone that goes silent this long has abandoned the interaction. */
  idleMs: number;
  /** Bound on memory: beyond it, the oldest session of the address holding the most is dropped. */
  maxSessions: number;
  /**
   * Open sessions one address may hold (default 2,000: hundreds of phones behind one NAT address
   * fit); beyond it that address's own oldest session is dropped, never another address's.
   */
  maxSessionsPerAddress?: number;
  /** Bound on one phone message held as fragments until its final part (default 4 MiB). */
  maxAssemblyBytes?: number;
  /** Bound on the fragments all sessions hold together (default 64 MiB). */
  maxAssemblingBytes?: number;
  /** Bound on the fragments the sessions of one client address hold together (default 16 MiB). */
  maxAssemblingBytesPerAddress?: number;
}

/** A phone's whole ReadAllItems reply is tens of kB; these bounds only stop a peer that never sends the final fragment. */
export const DEFAULT_MAX_ASSEMBLY_BYTES = 4 * 1024 * 1024;
export const DEFAULT_MAX_ASSEMBLING_BYTES = 64 * 1024 * 1024;
/** A quarter of the pool: one address cannot hold it all, yet hundreds of phones behind one NAT fit. */
export const DEFAULT_MAX_ASSEMBLING_BYTES_PER_ADDRESS = 16 * 1024 * 1024;

export const DEFAULT_MAX_SESSIONS_PER_ADDRESS = 2000;

/** More than the new sessions one group commit decides before the first is inserted (app/group-commit.ts MAX_BATCH). */
export const CROWD_MARGIN = 64;

/**
 * Where a message without a cookie looks for its interaction. On the secure port the client
 * certificate names the phone: phones behind one NAT address each find their own interaction, and
 * one phone never finds another's only to be refused for the wrong certificate. On the
 * Default-Mode port the address is all there is.
 */
function slotOf(listener: ListenerKind, peerAddress: string, certSerial: string | null): string {
  return listener === 'secure' ? `secure|${certSerial ?? ''}` : `default|${peerAddress}`;
}

export class SessionTable {
  private readonly byId = new Map<string, Session>();
  /** The latest open session of each cookieless slot (see slotOf). */
  private readonly bySlot = new Map<string, Session>();
  /** Open sessions per peer address (both listeners). */
  private readonly perAddress = new Map<string, number>();
  /** What all assemblies hold together. */
  private assemblingBytes = 0;
  /** What the assemblies of each client address hold (addresses holding nothing are not kept). */
  private readonly assemblingByAddress = new Map<string, number>();
  /** The address each held assembly was counted under (the session's may be updated meanwhile). */
  private readonly assemblyAddress = new WeakMap<Session, string>();
  constructor(private readonly limits: SessionLimits = { idleMs: 120_000, maxSessions: 10_000 }) {}

  /**
   * A new session, not yet in the table: the engine inserts it only once the exchange that opens
   * it has been committed (a failed write leaves the table as it was).
   */
  open(peerAddress: string, listener: ListenerKind, certSerial: string | null, now: number): Session {
    return {
      id: randomBytes(16).toString('hex').toUpperCase(),
      mac: null,
      peerAddress,
      listener,
      certSerial,
      interactionId: null,
      assembling: null,
      interaction: newInteraction(),
      lastSeen: now,
      replay: { digests: [], partDigests: [], lastWhole: null, lastNonce: null, nonceKept: false },
    };
  }

  insert(session: Session): void {
    // One address filling the table evicts its own sessions, not the other addresses' phones.
    for (const gone of this.evictionsFor(session.peerAddress, undefined)) this.remove(gone);
    this.byId.set(session.id, session);
    this.bySlot.set(slotOf(session.listener, session.peerAddress, session.certSerial), session);
    this.perAddress.set(peerKey(session.peerAddress), (this.perAddress.get(peerKey(session.peerAddress)) ?? 0) + 1);
  }

  /**
   * The sessions insert() drops to make room for a session of this address (its own oldest beyond
   * its share; at the overall bound, the oldest of the address holding the most), computed without
   * dropping them: the engine closes their interactions in the same commit that opens the new one.
   */
  evictionsFor(address: string, leaving: Session | undefined): Session[] {
    const peerAddress = peerKey(address);
    const gone = new Set<Session>(leaving ? [leaving] : []);
    const perAddress = new Map(this.perAddress);
    const drop = (s: Session) => {
      gone.add(s);
      perAddress.set(peerKey(s.peerAddress), (perAddress.get(peerKey(s.peerAddress)) ?? 1) - 1);
    };
    if (leaving) perAddress.set(peerKey(leaving.peerAddress), (perAddress.get(peerKey(leaving.peerAddress)) ?? 1) - 1);
    const oldest = (address: string) => {
      for (const s of this.byId.values()) if (peerKey(s.peerAddress) === address && !gone.has(s)) return s;
      return undefined;
    };
    const own = this.limits.maxSessionsPerAddress ?? DEFAULT_MAX_SESSIONS_PER_ADDRESS;
    while ((perAddress.get(peerAddress) ?? 0) >= own) drop(oldest(peerAddress)!);
    while (this.byId.size - gone.size >= this.limits.maxSessions) {
      let busiest = '';
      let most = -1;
      for (const [address, n] of perAddress) if (n > most) [busiest, most] = [address, n];
      drop(oldest(busiest)!);
    }
    if (leaving) gone.delete(leaving);
    return [...gone];
  }

  /**
   * Whether a new session of this address comes within CROWD_MARGIN of its share or of the table's
   * bound. Then several new sessions decided before any is inserted (group commit) could each plan
   * room for itself alone, and insert() would evict more than was planned: the caller decides such
   * sessions one at a time.
   */
  crowded(address: string): boolean {
    const own = this.limits.maxSessionsPerAddress ?? DEFAULT_MAX_SESSIONS_PER_ADDRESS;
    return this.byId.size + CROWD_MARGIN >= this.limits.maxSessions || (this.perAddress.get(peerKey(address)) ?? 0) + CROWD_MARGIN >= own;
  }

  /** open() and insert() at once (tests, and callers with nothing to commit). */
  create(peerAddress: string, listener: ListenerKind, now: number, certSerial: string | null = null): Session {
    const session = this.open(peerAddress, listener, certSerial, now);
    this.insert(session);
    return session;
  }

  /**
   * The cookie's session if it is still open; without a cookie, the latest open session of that
   * address (Default-Mode port) or of that client certificate (secure port).
   */
  find(cookieId: string | null, peerAddress: string, listener: ListenerKind, certSerial: string | null = null): { session: Session; by: 'cookie' | 'peer' } | null {
    if (cookieId) {
      // A cookie that names no open session of this listener (ended, expired, made up, the other
      // port's) matches nothing: falling back to the address would hand it another phone's interaction.
      const s = this.byId.get(cookieId);
      return s && s.listener === listener ? { session: s, by: 'cookie' } : null;
    }
    const s = this.bySlot.get(slotOf(listener, peerAddress, certSerial));
    return s ? { session: s, by: 'peer' } : null;
  }

  forMac(mac: string): Session | undefined {
    for (const s of this.byId.values()) if (s.mac === mac) return s;
    return undefined;
  }

  touch(session: Session, now: number): void {
    session.lastSeen = now;
    // Keep insertion order = idle order, so expiry and eviction look at the front only.
    this.byId.delete(session.id);
    this.byId.set(session.id, session);
  }

  /**
   * Whether a fragment would be refused (a bound reached), without changing anything: the engine
   * asks before the exchange is committed and holds the fragment only after.
   */
  fragmentRefusal(session: Session, message: WorkpointMessage): { status: 413 | 503; reason: string } | null {
    if (session.assembling?.refused) return session.assembling.refused;
    const bytes = fragmentBytes(message);
    const perMessage = this.limits.maxAssemblyBytes ?? DEFAULT_MAX_ASSEMBLY_BYTES;
    const overall = this.limits.maxAssemblingBytes ?? DEFAULT_MAX_ASSEMBLING_BYTES;
    const perAddress = this.limits.maxAssemblingBytesPerAddress ?? DEFAULT_MAX_ASSEMBLING_BYTES_PER_ADDRESS;
    const address = this.addressOf(session);
    if ((session.assembling?.bytes ?? 0) + bytes > perMessage) {
      return { status: 413, reason: `fragmented message larger than ${perMessage} bytes: its fragments are dropped` };
    }
    if ((this.assemblingByAddress.get(address) ?? 0) + bytes > perAddress) {
      // Checked before the pool: an address beyond its share is told so, whatever the others hold.
      return { status: 503, reason: `fragmented messages from ${address} hold ${perAddress} bytes, the limit per address: finish or abandon them, then try again` };
    }
    if (this.assemblingBytes + bytes > overall) return { status: 503, reason: 'too many fragmented messages in progress: try again later' };
    return null;
  }

  /** The address an assembly is counted under (the one it started under, if it holds one). */
  private addressOf(session: Session): string {
    return (session.assembling && this.assemblyAddress.get(session)) ?? peerKey(session.peerAddress);
  }

  /**
   * Holds a fragment's items until the final fragment. Beyond a bound nothing is added, the
   * session's assembly is dropped and the reason (one line) is returned; null when held.
   */
  addFragment(session: Session, message: WorkpointMessage): { status: 413 | 503; reason: string } | null {
    const refused = this.fragmentRefusal(session, message);
    const address = this.addressOf(session);
    if (refused) {
      // Nothing is held any more, but the message stays refused: its final fragment must not pass for the whole.
      this.dropAssembly(session);
      session.assembling = { first: message, items: [], bytes: 0, refused };
      return refused;
    }
    const bytes = fragmentBytes(message);
    if (session.assembling) {
      for (const item of message.items) session.assembling.items.push(item);
      session.assembling.bytes += bytes;
    } else {
      session.assembling = { first: message, items: [...message.items], bytes };
      this.assemblyAddress.set(session, address);
    }
    this.assemblingBytes += bytes;
    this.assemblingByAddress.set(address, (this.assemblingByAddress.get(address) ?? 0) + bytes);
    return null;
  }

  /** The final fragment arrived (or the assembly is given up): the session holds none any more. */
  dropAssembly(session: Session): void {
    if (!session.assembling) return;
    this.assemblingBytes -= session.assembling.bytes;
    const address = this.assemblyAddress.get(session);
    if (address !== undefined) {
      const left = (this.assemblingByAddress.get(address) ?? 0) - session.assembling.bytes;
      if (left > 0) this.assemblingByAddress.set(address, left);
      else this.assemblingByAddress.delete(address);
      this.assemblyAddress.delete(session);
    }
    session.assembling = null;
  }

  /** Bytes held in fragments by the sessions of one address (any spelling of it). */
  assemblingBytesOf(peerAddress: string): number {
    return this.assemblingByAddress.get(peerKey(peerAddress)) ?? 0;
  }

  remove(session: Session): void {
    this.dropAssembly(session);
    if (!this.byId.delete(session.id)) return;
    const address = peerKey(session.peerAddress);
    const n = (this.perAddress.get(address) ?? 1) - 1;
    if (n > 0) this.perAddress.set(address, n);
    else this.perAddress.delete(address);
    const key = slotOf(session.listener, session.peerAddress, session.certSerial);
    if (this.bySlot.get(key) === session) this.bySlot.delete(key);
  }

  /** Removes and returns sessions idle for longer than the limit. */
  expire(now: number): Session[] {
    const gone: Session[] = [];
    for (const s of this.byId.values()) {
      if (now - s.lastSeen < this.limits.idleMs) break;
      gone.push(s);
    }
    for (const s of gone) this.remove(s);
    return gone;
  }

  get size(): number {
    return this.byId.size;
  }
}

/** What a fragment's items hold in memory (estimate). */
function fragmentBytes(message: WorkpointMessage): number {
  return message.items.reduce((sum, i) => sum + 64 + i.name.length + i.value.length + (i.status?.length ?? 0), 0);
}

/** Finds JSESSIONID in Cookie headers; phones send it back with attributes attached. */
export function sessionIdFromCookies(headers: readonly string[]): string | null {
  for (const header of headers) {
    for (const part of header.split(/[;,]/)) {
      const eq = part.indexOf('=');
      if (eq < 0) continue;
      if (part.slice(0, eq).trim().toUpperCase() === SESSION_COOKIE) {
        const value = part.slice(eq + 1).trim().replace(/^"|"$/g, '');
        if (/^[0-9A-Za-z]{1,64}$/.test(value)) return value.toUpperCase();
      }
    }
  }
  return null;
}

export function sessionCookie(session: Session): string {
  return `${SESSION_COOKIE}=${session.id}; Path=/DeploymentService; Secure`;
}

/** Messages remembered per interaction, and nonces per device, for the replay checks. */
export const REPLAY_DIGESTS_PER_SESSION = 32;
export const RECENT_NONCES_PER_DEVICE = 32;
export const RECENT_NONCE_DEVICES = 10_000;

/** A short fixed-size key for a nonce (nonces may be 256 characters long). */
export function nonceKey(nonce: string): string {
  return createHash('sha256').update(nonce, 'utf8').digest('base64url').slice(0, 22);
}

/**
 * What makes two phone messages the same message (a retransmission, or a replay): the same bytes.
 * Hashing them costs a third of hashing the parsed message as JSON (a 320-Item reply). A message
 * made in memory (the engine's own tests) is hashed as its JSON.
 */
export function messageDigest(message: WorkpointMessage, body?: Uint8Array): string {
  const hash = createHash('sha256');
  if (body) hash.update(body);
  else hash.update(JSON.stringify(message), 'utf8');
  return hash.digest('base64url').slice(0, 22);
}

/** Remembers an answered message in its session (bounded). */
export function rememberInSession(session: Session, key: string, digest: string, part: 'first' | 'next' | 'last' | null = null): void {
  const r = session.replay;
  r.digests.push(digest);
  if (r.digests.length > REPLAY_DIGESTS_PER_SESSION) r.digests.shift();
  // The parts of the message being assembled (read only while one is: a first part starts afresh); its last part, once complete.
  if (part === 'first') r.partDigests = [digest];
  else if (part === 'next' && r.partDigests.length < REPLAY_DIGESTS_PER_SESSION) r.partDigests.push(digest);
  r.lastWhole = part === 'last' ? digest : null;
  if (r.lastNonce === key) r.nonceKept = true;
  r.lastNonce = key;
}

/**
 * The nonces each device used lately and the interaction (session id) that used them, in memory
 * only: bounded per device and in the number of devices (least recently seen forgotten first).
 * The manual's nonce exists to stop replays (p.28); this is what lets the service notice one.
 */
export class RecentNonces {
  private readonly byMac = new Map<string, Map<string, string>>();
  constructor(
    private readonly perDevice = RECENT_NONCES_PER_DEVICE,
    private readonly maxDevices = RECENT_NONCE_DEVICES,
  ) {}

  /** The session that used this nonce of this device, if it is still remembered. */
  owner(mac: string, key: string): string | undefined {
    return this.byMac.get(mac)?.get(key);
  }

  add(mac: string, key: string, sessionId: string): void {
    let nonces = this.byMac.get(mac);
    if (nonces) this.byMac.delete(mac);
    else {
      nonces = new Map();
      if (this.byMac.size >= this.maxDevices) this.byMac.delete(this.byMac.keys().next().value as string);
    }
    this.byMac.set(mac, nonces);
    nonces.delete(key);
    nonces.set(key, sessionId);
    if (nonces.size > this.perDevice) nonces.delete(nonces.keys().next().value as string);
  }

  get devices(): number {
    return this.byMac.size;
  }
}
