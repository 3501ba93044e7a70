/**
 * The relay's HTTPS client to a site's existing DLS ("the upstream"). HTTP concerns only: one
 * keep-alive agent, the trust rule for the upstream's certificate, timeouts and size limits, and
 * timing/TLS facts per request. What is forwarded and recorded is decided by the relay handler.
 *
 * Trust: the upstream's certificate is accepted only if it chains to the CA the user gave
 * (`--upstream-ca`, host name checked) or its SHA-256 fingerprint is one the user accepted
 * (`--upstream-fingerprint`). The system's public CAs are never consulted: a DLS on a LAN
 * rarely has a public certificate, and a relay that silently trusted whatever a public CA
 * vouches for would hand every phone's secrets to whoever answers at that address.
 */
import { randomBytes, X509Certificate } from 'node:crypto';
import dns, { type LookupAddress } from 'node:dns';
import { isIP as netIsIp } from 'node:net';
import https from 'node:https';
import { validateHeaderName, validateHeaderValue, type IncomingMessage } from 'node:http';
import tls, { type ConnectionOptions, type DetailedPeerCertificate, type TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import { clipped } from '../../shared/quote';
import { headerPairs } from './header-pairs';
import { relayFailureText } from '../../shared/relay-failures';

export interface UpstreamTrust {
  /** PEM of the CA(s) the upstream's certificate must chain to. */
  ca?: string;
  /** Accepted SHA-256 fingerprints of the upstream's own certificate (any spelling; see normalizeFingerprint). */
  fingerprints?: string[];
}

export interface UpstreamOptions {
  /** https://HOST:PORT of the upstream DLS; the phone's path is appended as it was sent. */
  url: string;
  trust: UpstreamTrust;
  /** TCP connect + TLS handshake, ms. */
  connectTimeoutMs?: number;
  /** The whole exchange (connect to the last byte of the answer), ms: beyond it the phone gets 504. */
  timeoutMs?: number;
  /** Largest upstream answer passed on; a larger one is cut off and the phone gets 502. */
  maxResponseBytes?: number;
  /** Connections to the upstream at once (more requests wait for one). */
  maxSockets?: number;
  /**
   * Where a refused certificate's way out is given: the `serve` flags, or the app's Setup page
   * (a relay chosen there is changed there).
   */
  advice?: 'flags' | 'setup';
  /** Whether a connected address and port are the relay's own listener (net/own-listener.ts): then nothing is sent. */
  isSelf?: (address: string, port: number) => boolean;
  /** This relay's name in the Via header (random per start unless given; tests name it). */
  viaName?: string;
}

export const UPSTREAM_DEFAULTS = { connectTimeoutMs: 5_000, timeoutMs: 15_000, maxResponseBytes: 4 * 1024 * 1024, maxSockets: 64 };

/** How the upstream's certificate was accepted, and what it was. */
export interface UpstreamTls {
  protocol: string | null;
  cipher: string | null;
  /** SHA-256 of the upstream's certificate, upper-case hex pairs joined by ':'. */
  fingerprint: string | null;
  subject: string | null;
  trustedBy: 'ca' | 'fingerprint' | null;
}

export interface UpstreamTiming {
  started: number;
  /** TLS handshake done (null: an open keep-alive connection was reused). */
  connected: number | null;
  /** Response headers arrived. */
  firstByte: number | null;
  ended: number;
}

export interface UpstreamRequest {
  method: string;
  /** Path and query as the phone sent them. */
  path: string;
  /** Header pairs as the phone sent them (hop-by-hop ones are dropped here). */
  headers: [string, string][];
  body: Buffer;
  /** The HTTP version the phone spoke ("1.0", "1.1"): the relay's Via names it (RFC 9110 §7.6.3). */
  httpVersion?: string;
}

export interface UpstreamAnswer {
  status: number;
  statusText: string;
  /** Header pairs as the upstream sent them, names in their case (hop-by-hop ones are dropped). */
  headers: [string, string][];
  body: Buffer;
  timing: UpstreamTiming;
  tls: UpstreamTls;
  /** The request went over a connection opened for an earlier one. */
  reused: boolean;
  /** The request's header pairs as written to the upstream, in order (Host and Connection included). */
  sent: [string, string][];
  /** The answer's header pairs as the upstream wrote them, hop-by-hop ones included. */
  received: [string, string][];
}

export type UpstreamFailure = 'unreachable' | 'timeout' | 'certificate' | 'too-large' | 'protocol' | 'not-relayed';

/** The upstream gave no usable answer; `status` is what the phone gets (502 or 504). */
export class UpstreamError extends Error {
  override readonly name = 'UpstreamError';
  constructor(
    readonly failure: UpstreamFailure,
    message: string,
    readonly timing: UpstreamTiming,
    readonly tls: UpstreamTls | null = null,
    /** The request's header pairs as written to the upstream; null when no request was written (no connection, or a refused certificate). */
    readonly sent: [string, string][] | null = null,
    /** The answer's header pairs as the upstream wrote them, when it answered with something not passed on (too large, cut off, not writable). */
    readonly received: [string, string][] | null = null,
  ) {
    super(message);
  }

  get status(): 502 | 504 {
    return this.failure === 'timeout' ? 504 : 502;
  }
}

/**
 * Headers that belong to one connection, not to the message (RFC 9110 §7.6.1): never forwarded.
 * Content-Length is set again for the bytes actually sent; Host names the upstream.
 */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'content-length', 'host']);

/** In an answer the same, except Host (it names nothing of the connection there, so it is passed on). */
const HOP_BY_HOP_ANSWER = new Set([...HOP_BY_HOP].filter((h) => h !== 'host'));

/**
 * Headers a server behind a proxy may take for the client's address (Tomcat's RemoteIpValve trusts
 * private and loopback proxies by default). Phones send none; a LAN host that did would choose the
 * address a DLS records for it, and so which phone's session it continues (helper-86): dropped
 * from requests. The phone's own request, as recorded, keeps them.
 */
const CLIENT_ADDRESS = new Set(['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-forwarded-port', 'x-forwarded-server', 'x-real-ip', 'x-client-ip', 'client-ip', 'true-client-ip', 'x-cluster-client-ip', 'x-original-forwarded-for', 'cf-connecting-ip', 'fastly-client-ip', 'proxy-client-ip', 'wl-proxy-client-ip']);
const NOT_FORWARDED = new Set([...HOP_BY_HOP, ...CLIENT_ADDRESS]);

/**
 * The header pairs that go on: not the hop-by-hop ones, nor any the message's own Connection
 * header names (RFC 9110 §7.6.1: `Connection: X-Hidden` makes X-Hidden hop-by-hop too).
 */
export function endToEndHeaders(pairs: readonly (readonly [string, string])[], hopByHop: ReadonlySet<string>): [string, string][] {
  const named = new Set<string>();
  for (const [name, value] of pairs) {
    if (name.toLowerCase() === 'connection') for (const token of value.split(',')) named.add(token.trim().toLowerCase());
  }
  return pairs.filter(([name]) => !hopByHop.has(name.toLowerCase()) && !named.has(name.toLowerCase())).map(([n, v]) => [n, v]);
}

/**
 * The request headers the upstream gets (the relay checks the session cookies in these: a Cookie
 * the phone's own Connection header names is not passed on, helper-85): neither hop-by-hop ones nor
 * those naming a client address.
 */
export function forwardedHeaders(pairs: readonly (readonly [string, string])[]): [string, string][] {
  return endToEndHeaders(pairs, NOT_FORWARDED);
}

/** What Node writes in a status line (its own check, lib/_http_common.js; it exports none for it). */
const INVALID_FIELD_CHAR = /[^\t\x20-\x7e\x80-\xff]/;

/**
 * Why an upstream answer cannot be passed on as it came (Node refuses to write it, so the phone
 * would get a closed connection while the record said answered), or null. Headers are checked
 * with Node's own validators, the ones writeHead uses.
 */
function unwritable(status: number, statusText: string, headers: readonly [string, string][]): string | null {
  if (!Number.isInteger(status) || status < 200 || status > 999) return `its status ${status} is not a final HTTP status`;
  if (INVALID_FIELD_CHAR.test(statusText)) return `its status line holds a control character`;
  for (const [name, value] of headers) {
    try {
      validateHeaderName(name);
      validateHeaderValue(name, value);
    } catch {
      return `its header "${clipped(name)}" is not valid HTTP`;
    }
  }
  return null;
}

/** Accepts `AB:CD:…`, `abcd…`, `sha256/AB:CD…` or `SHA256:AB…`; null unless it is 32 bytes of hex. */
export function normalizeFingerprint(raw: string): string | null {
  const hex = raw.trim().replace(/^sha-?256[:/=]?/i, '').replace(/[:\s-]/g, '');
  if (!/^[0-9a-f]{64}$/i.test(hex)) return null;
  return hex.toUpperCase().match(/../g)!.join(':');
}

/** Checks the upstream URL: https, a host, a port; no credentials, query or fragment. */
export function parseUpstreamUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`the upstream "${raw.slice(0, 100)}" is not a URL; write it as https://HOST:PORT (e.g. https://dls.example.net:18443)`);
  }
  if (url.protocol !== 'https:') throw new Error(`the upstream must be an https:// URL (phones talk WPI over TLS), not "${url.protocol}"`);
  if (url.username || url.password) throw new Error('the upstream URL must not carry a user name or password');
  if (url.search || url.hash) throw new Error('the upstream URL must not have a query or fragment: phones send their own path');
  if (url.pathname !== '/' && url.pathname !== '') throw new Error(`the upstream URL must not have a path ("${url.pathname}"): each phone's path is passed on as it was sent`);
  return url;
}

export class UpstreamClient {
  readonly url: URL;
  private readonly agent: https.Agent;
  private readonly fingerprints: Set<string>;
  private readonly ca: string | undefined;
  private readonly limits: typeof UPSTREAM_DEFAULTS;
  /** What each connection's handshake established (reused connections keep it). */
  private readonly socketTls = new WeakMap<Duplex, UpstreamTls>();
  private readonly connectedAt = new WeakMap<Duplex, number>();

  private readonly isSelf: (address: string, port: number) => boolean;
  private readonly advice: 'flags' | 'setup';
  /**
   * This relay in the Via header of every request it passes on (RFC 9110 §7.6.3: a gateway sends
   * one), a pseudonym as the RFC allows: it names no host or port. A request that comes back with
   * it has gone round a loop of relays (passed).
   */
  readonly viaName: string;

  constructor(options: UpstreamOptions) {
    this.url = parseUpstreamUrl(options.url);
    this.viaName = options.viaName ?? `localdls-${randomBytes(6).toString('hex')}`;
    if (!/^[\w.-]+$/.test(this.viaName)) throw new Error(`the relay's Via name "${this.viaName.slice(0, 100)}" is not a token`);
    this.isSelf = options.isSelf ?? (() => false);
    this.advice = options.advice ?? 'flags';
    this.limits = { ...UPSTREAM_DEFAULTS, ...definedOnly(options) };
    this.ca = options.trust.ca;
    this.fingerprints = new Set();
    for (const raw of options.trust.fingerprints ?? []) {
      const f = normalizeFingerprint(raw);
      if (!f) throw new Error(`upstream fingerprint "${raw.slice(0, 100)}" is not a SHA-256 fingerprint (64 hex digits, colons optional)`);
      this.fingerprints.add(f);
    }
    if (this.ca !== undefined) checkCaPem(this.ca);
    this.agent = this.createAgent();
  }

  /** Accepted fingerprints, normalised (for the status line). */
  get acceptedFingerprints(): string[] {
    return [...this.fingerprints];
  }

  get hasCa(): boolean {
    return this.ca !== undefined;
  }

  /** The upstream as phones would name it: https://host:port. */
  get origin(): string {
    return `https://${this.url.host}`;
  }

  /**
   * Sends one phone request on and resolves with the upstream's whole answer, or rejects with an
   * UpstreamError saying why not. A keep-alive connection the upstream closed just as it was
   * reused is retried on another connection (nothing reached the upstream's application).
   */
  async forward(request: UpstreamRequest): Promise<UpstreamAnswer> {
    // Each stale connection leaves the pool as it fails, so a retry takes the next kept-alive one
    // or a fresh one: several may have gone at once (an upstream's idle timeout closes all those of
    // a burst together; helper-84: the second stale one reached the phone as a 500, not recorded).
    for (let tries = 1; ; tries++) {
      try {
        return await this.send(request);
      } catch (e) {
        if (!(e instanceof StaleConnection)) throw e;
        if (tries > MAX_FREE_SOCKETS) throw e.error;
      }
    }
  }

  /**
   * Whether the request has passed this relay already: one of its Via headers names it. Two relays
   * pointing at each other (directly or round more) would otherwise pass each message on until
   * the connection caps or the timeout stopped them.
   */
  passed(pairs: readonly (readonly [string, string])[]): boolean {
    const name = this.viaName.toLowerCase();
    // Comments (in parentheses, RFC 9110 §5.6.5) are no hops: a comma inside one separates nothing.
    const hops = (value: string) => value.replace(/\([^()]*\)/g, ' ').split(',');
    return pairs.some(([header, value]) => header.toLowerCase() === 'via' && hops(value).some((hop) => hop.trim().split(/\s+/)[1]?.toLowerCase() === name));
  }

  close(): void {
    this.agent.destroy();
  }

  private send(request: UpstreamRequest): Promise<UpstreamAnswer> {
    const timing: UpstreamTiming = { started: Date.now(), connected: null, firstByte: null, ended: 0 };
    const headers: string[] = [];
    for (const [name, value] of forwardedHeaders(request.headers)) headers.push(name, value);
    // Via after the phone's own (a relay before this one put its own there); Connection as the
    // agent would add it, but written here so that `sent` is the whole list.
    headers.push('Via', `${request.httpVersion === '1.0' ? '1.0' : '1.1'} ${this.viaName}`, 'Host', this.url.host, 'Content-Length', String(request.body.length), 'Connection', 'keep-alive');
    const sentPairs = headerPairs(headers);
    return new Promise<UpstreamAnswer>((resolve, reject) => {
      let req: ReturnType<typeof https.request>;
      try {
        req = this.request(request, headers);
      } catch (e) {
        // Node refuses to write some headers it accepted on the way in; say so rather than fail silently.
        timing.ended = Date.now();
        reject(new UpstreamError('protocol', relayFailureText('requestNotPassed', { detail: (e as Error).message }), timing));
        return;
      }
      let socketTls: UpstreamTls | null = null;
      let settled = false;
      // The agent hands a connection over only once its certificate passed: from then on the request is written.
      let written = false;
      // The answer's headers once they came: a failure after them (too large, cut off) still shows them.
      let answered: [string, string][] | null = null;
      const fail = (err: UpstreamError | StaleConnection) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.destroy();
        reject(err instanceof UpstreamError && ((written && err.sent === null) || (answered !== null && err.received === null)) ? new UpstreamError(err.failure, err.message, err.timing, err.tls, written ? sentPairs : err.sent, err.received ?? answered) : err);
      };
      const timer = setTimeout(() => {
        timing.ended = Date.now();
        fail(new UpstreamError('timeout', relayFailureText('timeout', { origin: this.origin, ms: String(this.limits.timeoutMs) }), timing, socketTls));
      }, this.limits.timeoutMs);
      req.on('socket', (socket) => {
        written = true;
        socketTls = this.socketTls.get(socket) ?? null;
        const at = this.connectedAt.get(socket);
        if (at !== undefined && !req.reusedSocket) timing.connected = at;
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        timing.ended = Date.now();
        if (err instanceof UpstreamError) return fail(new UpstreamError(err.failure, err.message, timing, err.tls));
        if (req.reusedSocket && timing.firstByte === null && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) {
          return fail(new StaleConnection(new UpstreamError('unreachable', relayFailureText('staleClosed', { origin: this.origin, detail: describe(err) }), timing, socketTls, sentPairs)));
        }
        // Node's HTTP parser refused what the upstream sent (HPE_…): it answered, but not in HTTP.
        if (err.code?.startsWith('HPE_')) return fail(new UpstreamError('protocol', relayFailureText('malformed', { origin: this.origin, detail: describe(err) }), timing, socketTls));
        fail(new UpstreamError('unreachable', relayFailureText('unreachable', { origin: this.origin, detail: describe(err) }), timing, socketTls));
      });
      // A 101 with Upgrade gets neither a response nor an error from Node: without this the phone waited for the timeout.
      req.on('upgrade', (res: IncomingMessage, socket: Duplex) => {
        socket.destroy();
        timing.firstByte ??= Date.now();
        timing.ended = Date.now();
        fail(new UpstreamError('protocol', relayFailureText('switching', { origin: this.origin, status: String(res.statusCode ?? 101) }), timing, socketTls));
      });
      req.on('response', (res: IncomingMessage) => {
        timing.firstByte = Date.now();
        answered = headerPairs(res.rawHeaders);
        socketTls = this.socketTls.get(res.socket) ?? socketTls;
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > this.limits.maxResponseBytes) {
            timing.ended = Date.now();
            fail(new UpstreamError('too-large', relayFailureText('tooLarge', { bytes: String(this.limits.maxResponseBytes) }), timing, socketTls));
            return;
          }
          chunks.push(chunk);
        });
        res.on('aborted', () => {
          timing.ended = Date.now();
          fail(new UpstreamError('protocol', relayFailureText('closedEarly', { origin: this.origin }), timing, socketTls));
        });
        res.on('error', () => undefined);
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          timing.ended = Date.now();
          const received = answered ?? headerPairs(res.rawHeaders);
          const out = endToEndHeaders(received, HOP_BY_HOP_ANSWER);
          const why = unwritable(res.statusCode ?? 0, res.statusMessage ?? '', out);
          if (why) {
            reject(new UpstreamError('protocol', relayFailureText('answerNotPassed', { origin: this.origin, why }), timing, socketTls, sentPairs, received));
            return;
          }
          resolve({
            status: res.statusCode ?? 502,
            statusText: res.statusMessage ?? '',
            headers: out,
            body: Buffer.concat(chunks, size),
            timing,
            tls: socketTls ?? { protocol: null, cipher: null, fingerprint: null, subject: null, trustedBy: null },
            reused: req.reusedSocket,
            sent: sentPairs,
            received,
          });
        });
      });
      req.end(request.body);
    });
  }

  private request(request: UpstreamRequest, headers: string[]): ReturnType<typeof https.request> {
    return https.request({
      protocol: 'https:',
      hostname: this.url.hostname.replace(/^\[|\]$/g, ''),
      port: this.url.port || 443,
      method: request.method,
      path: request.path,
      // A flat array: Node would otherwise lower-case and merge what it sends; this keeps each pair as the phone wrote it.
      headers: headers as unknown as Record<string, string>,
      agent: this.agent,
      setHost: false,
      maxHeaderSize: 16 * 1024,
    });
  }

  /**
   * An agent whose connections are handed to HTTP only after the upstream's certificate passed
   * the trust rule: a refused upstream never sees a byte of the phone's request.
   */
  private createAgent(): https.Agent {
    const agent = new https.Agent({ keepAlive: true, maxSockets: this.limits.maxSockets, maxFreeSockets: MAX_FREE_SOCKETS, scheduling: 'lifo', maxCachedSessions: 0 });
    type OnCreate = (err: Error | null, socket?: Duplex) => void;
    const connect = (options: ConnectionOptions, oncreate: OnCreate): undefined => {
      const started = Date.now();
      const empty: UpstreamTiming = { started, connected: null, firstByte: null, ended: 0 };
      const port = Number(options.port);
      const self = () => {
        empty.ended = Date.now();
        return new UpstreamError('not-relayed', relayFailureText('self', { origin: this.origin, port: String(port) }), empty);
      };
      // The relay's own listener is known before any connection (helper-82: the TLS hello went
      // out before the 'connect' check below, and the listener recorded a failed handshake for
      // each): an address as written, or each address a name resolves to.
      const host = String(options.host ?? '');
      if (netIsIp(host) && this.isSelf(host, port)) {
        process.nextTick(() => oncreate(self()));
        return undefined;
      }
      const lookup = ((hostname: string, opts: dns.LookupOptions, cb: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void) => {
        dns.lookup(hostname, { ...opts }, (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => {
          if (err) return cb(err, address, family);
          if (Array.isArray(address)) {
            const others = address.filter((a) => !this.isSelf(a.address, port));
            return others.length === 0 && address.length > 0 ? cb(self(), []) : cb(null, others);
          }
          return this.isSelf(address, port) ? cb(self(), '', family) : cb(null, address, family);
        });
      }) as unknown as ConnectionOptions['lookup'];
      const socket = tls.connect({
        ...options,
        lookup,
        // Checked below by our rule (CA or fingerprint), never by the system's public CAs.
        rejectUnauthorized: false,
        ...(this.ca !== undefined ? { ca: this.ca } : {}),
        servername: isIp(this.url.hostname) ? undefined : this.url.hostname,
      } as ConnectionOptions);
      const timer = setTimeout(() => {
        empty.ended = Date.now();
        socket.destroy();
        oncreate(new UpstreamError('timeout', relayFailureText('handshakeTimeout', { origin: this.origin, ms: String(this.limits.connectTimeoutMs) }), empty));
      }, this.limits.connectTimeoutMs);
      // The last check, on the address connected to (any the lookup above did not see): the TLS
      // hello may be out by now, but nothing of the phone's request.
      socket.once('connect', () => {
        const address = socket.remoteAddress;
        const remotePort = socket.remotePort;
        if (address === undefined || remotePort === undefined || !this.isSelf(address, remotePort)) return;
        clearTimeout(timer);
        socket.destroy();
        oncreate(self());
      });
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        const verdict = this.verify(socket);
        if (typeof verdict === 'string') {
          empty.ended = Date.now();
          const seen = this.tlsOf(socket, null);
          socket.destroy();
          oncreate(new UpstreamError('certificate', verdict, empty, seen));
          return;
        }
        this.socketTls.set(socket, verdict);
        this.connectedAt.set(socket, Date.now());
        oncreate(null, socket);
      });
      socket.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        if (socket.listenerCount('error') > 0) return;
        // Before the handshake: the agent has not got this socket yet, so this is the request's error.
        oncreate(err);
      });
      return undefined;
    };
    (agent as unknown as { createConnection: typeof connect }).createConnection = connect;
    return agent;
  }

  /** The trust rule; a string is the refusal, in words that say what to accept. */
  private verify(socket: TLSSocket): UpstreamTls | string {
    const cert = socket.getPeerCertificate();
    const fingerprint = cert && cert.raw ? fingerprintOf(cert.raw) : null;
    if (!fingerprint) return `the upstream ${this.origin} presented no certificate`;
    if (this.fingerprints.has(fingerprint)) return this.tlsOf(socket, 'fingerprint');
    if (this.ca !== undefined && socket.authorized) return this.tlsOf(socket, 'ca');
    const subject = subjectOf(socket);
    // The way out in the words of where the relay was chosen: `serve`'s flags, or the app's Setup.
    const words =
      this.advice === 'setup'
        ? { accept: `accept this certificate: add its fingerprint ${fingerprint} in Setup › Relay (it applies at the next start)`, caGiven: 'the CA file given in Setup › Relay', giveCa: 'give its CA file in Setup › Relay', giveSigningCa: 'give the CA file that signed it in Setup › Relay' }
        : { accept: `accept this certificate with --upstream-fingerprint ${fingerprint}`, caGiven: 'the CA given with --upstream-ca', giveCa: 'give its CA with --upstream-ca FILE', giveSigningCa: 'give the CA that signed it with --upstream-ca FILE' };
    const { accept, caGiven, giveCa } = words;
    const error = String(socket.authorizationError ?? 'unknown reason');
    const expired = error === 'CERT_HAS_EXPIRED';
    // Each case says what is actually wrong, and a way out that is not the one already taken (helper-81).
    let why: string;
    let wayOut: string;
    if (this.ca !== undefined && error === 'ERR_TLS_CERT_ALTNAME_INVALID') {
      why = `its certificate (${subject}) is signed by ${caGiven}, but is not for ${this.url.hostname} (it names ${cert.subjectaltname || 'no address or host name'})`;
      wayOut = `give the upstream by a name or address its certificate holds, or ${accept}`;
    } else if (this.ca !== undefined && DATE_ERRORS.has(error) && chainsToCa(socket, this.ca)) {
      // Chained to the CA given, but out of its dates: not "give the CA that signed it" (helper-82).
      const leafOut = expired ? Date.parse(cert.valid_to) < Date.now() : Date.parse(cert.valid_from) > Date.now();
      const dates = expired ? `has expired (valid until ${cert.valid_to})` : `is not valid yet (valid from ${cert.valid_from})`;
      why = leafOut
        ? `its certificate (${subject}) ${dates}, by this machine's clock`
        : `a certificate of its chain (${caGiven}?) ${expired ? 'has expired' : 'is not valid yet'}, by this machine's clock`;
      wayOut = expired ? `check this machine's date and renew the certificate on the DLS, or ${accept}` : `check this machine's date (and the DLS's), or ${accept}`;
    } else if (this.ca !== undefined) {
      why = `its certificate (${subject}) is not valid for ${caGiven}: ${error}`;
      wayOut = `${words.giveSigningCa}, or ${accept}`;
    } else if (this.fingerprints.size > 0) {
      why = `its certificate (${subject}, ${fingerprint}) is not the one accepted (${[...this.fingerprints].join(' or ')}): the DLS's certificate may have been renewed`;
      wayOut = `${accept} (given beside the old one, both are accepted), or ${giveCa}`;
    } else {
      why = `its certificate (${subject}) is unknown`;
      wayOut = `${accept} (or ${giveCa})`;
    }
    return `the upstream ${this.origin} was refused: ${why}. If this is your DLS, ${wayOut}`;
  }

  private tlsOf(socket: TLSSocket, trustedBy: UpstreamTls['trustedBy']): UpstreamTls {
    const cert = socket.getPeerCertificate();
    return {
      protocol: socket.getProtocol() ?? null,
      cipher: socket.getCipher()?.name ?? null,
      fingerprint: cert?.raw ? fingerprintOf(cert.raw) : null,
      subject: subjectOf(socket),
      trustedBy,
    };
  }
}

/** Chain errors of dates: the certificate chains to the CA given, but not at this time. */
const DATE_ERRORS = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);

/**
 * Whether the certificate presented, or one of the chain presented with it, is a CA certificate of
 * the file given or signed by one. OpenSSL's verify result says only the last error: an expired
 * certificate reads CERT_HAS_EXPIRED whoever signed it.
 */
function chainsToCa(socket: TLSSocket, caPem: string): boolean {
  const cas = (caPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).flatMap((pem) => {
    try {
      return [new X509Certificate(pem)];
    } catch {
      return [];
    }
  });
  const seen = new Set<string>();
  let c: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  while (c?.raw && !seen.has(c.fingerprint256)) {
    seen.add(c.fingerprint256);
    const x = new X509Certificate(c.raw);
    if (cas.some((ca) => ca.fingerprint256 === x.fingerprint256 || (x.checkIssued(ca) && x.verify(ca.publicKey)))) return true;
    c = c.issuerCertificate;
  }
  return false;
}

/** A keep-alive connection that was gone when reused (internal: retried on another; `error` if none is left). */
class StaleConnection extends Error {
  constructor(readonly error: UpstreamError) {
    super(error.message);
  }
}

/** Idle kept-alive connections held (each a retry at most when all went stale together). */
const MAX_FREE_SOCKETS = 16;

function fingerprintOf(raw: Buffer): string {
  return new X509Certificate(raw).fingerprint256;
}

function subjectOf(socket: TLSSocket): string {
  const cert = socket.getPeerCertificate();
  const cn = cert?.subject?.CN;
  return `CN=${Array.isArray(cn) ? cn.join(',') : (cn ?? '?')}`;
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':') || host.startsWith('[');
}

function describe(err: NodeJS.ErrnoException): string {
  return err.code ? `${err.code}${err.message.includes(err.code) ? ` (${err.message})` : `: ${err.message}`}` : err.message;
}

/** Refuses a CA file that holds no certificate, so the mistake shows at start, not per phone. */
function checkCaPem(pem: string): void {
  if (!/-----BEGIN CERTIFICATE-----/.test(pem)) throw new Error('the upstream CA file holds no PEM certificate (-----BEGIN CERTIFICATE-----)');
  try {
    new X509Certificate(pem);
  } catch (e) {
    throw new Error(`the upstream CA file is not a readable certificate: ${(e as Error).message}`);
  }
}

function definedOnly(o: UpstreamOptions): Partial<typeof UPSTREAM_DEFAULTS> {
  const out: Partial<typeof UPSTREAM_DEFAULTS> = {};
  for (const key of Object.keys(UPSTREAM_DEFAULTS) as (keyof typeof UPSTREAM_DEFAULTS)[]) {
    const value = o[key];
    if (value !== undefined) {
      if (!Number.isSafeInteger(value) || value < 1) throw new Error(`upstream ${key} must be a whole number of at least 1 (got ${String(value)})`);
      out[key] = value;
    }
  }
  return out;
}
