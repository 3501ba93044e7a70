/**
 * The HTTPS listener for WPI messages (Default Mode, port 18443). HTTP concerns only: routing,
 * limits, timeouts, and answering with an explicit Content-Length (never chunked, manual p.12).
 * What to answer is decided by the handler.
 */
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import type { CertificateSummary, ListenerKind } from '../../shared/model';
import { maskRequestTarget } from '../../shared/secrets';
import { bind, closeServer } from './bind';
import { certificateSummary, clientCertificateHint, clientCertificateReason } from './client-certificate';
import { headerPairs } from './header-pairs';
import { PeerConnections } from './peer-connections';
import { RowLimiter } from './rate-limit';
import { handshakeHint, handshakeReason, tlsOptionsFor, type TlsProfile } from './tls-profile';
import { TurnQueue } from './turns';
import { listenerRefusalText, similarNotRecorded } from '../../shared/listener-refusals';

export interface WpiRequest {
  started: number;
  listener: ListenerKind;
  localPort: number;
  peerAddress: string;
  peerPort: number;
  tlsProtocol: string | null;
  tlsCipher: string | null;
  method: string;
  path: string;
  /** From the request line: "1.1", or "1.0" from old firmware. */
  httpVersion?: string;
  /** Header pairs as received (rawHeaders), names in their original case. */
  headers: [string, string][];
  body: Buffer;
  /** Secure listener: the device its verified client certificate names (null: none of ours). */
  clientIdentity?: { mac: string; serial: string } | null;
  /** The certificate the client presented in the handshake (null: none). */
  clientCertificate?: CertificateSummary | null;
  /**
   * How the answer is framed, fixed when the request arrives: keep-alive (with its timeout in
   * seconds) or close. Absent means close. See frameResponse().
   */
  framing?: { keepAliveSeconds: number | null; extra: [string, string][] };
}

export interface WpiResponse {
  status: number;
  /** What the handler answers with (Content-Type, Set-Cookie, …). */
  /** Reason phrase; absent = Node's standard one for the status (a relay passes the upstream's on). */
  statusText?: string;
  /** Send exactly these headers (a relay): no Date of our own is added. */
  exactHeaders?: boolean;
  headers: [string, string][];
  body: Buffer;
  /** Every header as written to the socket, once frameResponse() has run: what is recorded. */
  sentHeaders?: [string, string][];
}

/** Headers the listener writes itself; a handler's own copies of them are dropped. */
const FRAMING_HEADERS = new Set(['content-length', 'connection', 'keep-alive', 'transfer-encoding', 'date']);
/** A relayed answer keeps the upstream's Date; the framing of our own connection is still ours. */
const CONNECTION_HEADERS = new Set(['content-length', 'connection', 'keep-alive', 'transfer-encoding']);

/**
 * The complete header list of an answer, in the order written: the handler's headers, the
 * listener's extra ones (Allow), Date, Content-Length, Connection and Keep-Alive. Computed once
 * per response and kept on it, so the handler records exactly what send() writes (the README
 * promises the exchange byte for byte).
 */
export function frameResponse(request: Pick<WpiRequest, 'framing'>, response: WpiResponse): [string, string][] {
  if (response.sentHeaders) return response.sentHeaders;
  const wantsClose = response.headers.some(([n, v]) => n.toLowerCase() === 'connection' && /\bclose\b/i.test(v));
  const keepAlive = request.framing?.keepAliveSeconds ?? null;
  const close = wantsClose || keepAlive === null;
  const own = response.exactHeaders ? CONNECTION_HEADERS : FRAMING_HEADERS;
  const headers: [string, string][] = [
    ...response.headers.filter(([n]) => !own.has(n.toLowerCase())),
    ...(request.framing?.extra ?? []),
    ...(response.exactHeaders ? [] : [['Date', new Date().toUTCString()] as [string, string]]),
    ['Content-Length', String(response.body.length)],
    ['Connection', close ? 'close' : 'keep-alive'],
  ];
  if (!close) headers.push(['Keep-Alive', `timeout=${keepAlive}`]);
  response.sentHeaders = headers;
  return headers;
}

/** A connection whose TLS handshake failed: it never became an HTTP request. */
export interface HandshakeFailure {
  time: number;
  listener: ListenerKind;
  localPort: number;
  peerAddress: string;
  peerPort: number;
  /** OpenSSL's reason, e.g. "unsupported protocol", "no shared cipher". */
  reason: string;
  hint: string | null;
  /** Similar failures not recorded since the last recorded one (rate limit). */
  suppressed: number;
  /** A refused client certificate: what it was (secure port). */
  clientCertificate?: CertificateSummary;
  /** Set when the handshake itself completed (a certificate refused afterwards). */
  tlsProtocol?: string | null;
  tlsCipher?: string | null;
}

export interface RequestHandler {
  /** A well-formed HTTP request for the WPI path: parse, decide, record, answer (a relay answers later). */
  exchange(request: WpiRequest): WpiResponse | Promise<WpiResponse>;
  /** A request refused at the HTTP level (404, 405, 413): record it and say why. */
  refused(request: WpiRequest, status: number, reason: string): WpiResponse;
  /** A failed TLS handshake, already rate-limited: record it so a phone that cannot connect is seen. */
  handshakeFailed(failure: HandshakeFailure): void;
}

export interface ListenerLimits {
  maxBodyBytes: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  handshakeTimeoutMs: number;
  /** Open connections, all addresses together; at this cap the address holding the most gives one up. */
  maxConnections: number;
  /** Open connections of one client address (all phones behind a NAT gateway share it). */
  maxConnectionsPerAddress: number;
  /** Connections of one address still in their TLS handshake, headers or body (Slowloris bound). */
  maxPendingPerAddress: number;
}

/** Phone messages stay under 50 kB (manual p.69); anything far larger is not a phone. */
export const DEFAULT_LIMITS: ListenerLimits = {
  maxBodyBytes: 256 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  // The manual asks for a keep-alive timeout of 10 (seconds, presumably), p.12.
  keepAliveTimeoutMs: 10_000,
  handshakeTimeoutMs: 10_000,
  maxConnections: 1024,
  // A site of several hundred phones behind one NAT address: each phone opens a connection per
  // message and completes it within milliseconds, so even a boot storm stays far below these.
  maxConnectionsPerAddress: 512,
  maxPendingPerAddress: 256,
};

/** Refuses limits that would disable a bound or make no sense, naming the setting. */
export function checkLimits(limits: ListenerLimits): ListenerLimits {
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 1) throw new Error(`limits.${name} must be a whole number of at least 1 (got ${String(value)})`);
  }
  return limits;
}

export interface ListenerOptions {
  kind: ListenerKind;
  host: string;
  port: number;
  tls: https.ServerOptions;
  /** `modern` (TLS 1.2+, the default) or `legacy` (adds TLS 1.0/1.1 and RSA/CBC suites). */
  tlsProfile?: TlsProfile;
  handler: RequestHandler;
  limits?: Partial<ListenerLimits>;
  /** Errors that did not reach a phone's answer (e.g. the store failed), for the service log. */
  onError?: (err: Error) => void;
  /** Mutual TLS: maps a verified client certificate to the device it names. */
  identify?: (cert: PeerCertificate) => { mac: string; serial: string } | null;
  /** The TLS key log's writer to start with, when one is on (setKeyLog switches it). */
  keyLog?: ((line: Buffer) => void) | null;
  /**
   * Where complete requests wait for the handler, one per turn of the event loop (turns.ts). The
   * service gives both listeners one queue, so together they never hold the loop for more than one
   * exchange; default: a queue of this listener's own.
   */
  turns?: TurnQueue;
}

export const WPI_PATH_PREFIX = '/DeploymentService/';
/** Request headers a message may have (a phone sends about six); more is refused with 431. */
export const MAX_REQUEST_HEADERS = 100;

/**
 * A path that another server could read as outside /DeploymentService/: a dot segment, plain or
 * percent-encoded (`..`, `%2e%2e`, `.%2E`), also with `;` parameters or a trailing blank; a
 * backslash or an encoded slash or backslash (servers that take `\` for `/` or decode `%2f`
 * first); an encoded NUL; `#` (a fragment to some servers); `%25`, `%u` and `%c0`/`%c1` (a second
 * round of decoding, IIS's encoding, overlong UTF-8). Phones never send one; a relay forwards the
 * path as it came, so the prefix alone would let a LAN host reach the upstream DLS's other
 * endpoints from the relay's address.
 */
export function unsafePath(path: string): boolean {
  if (/[\\#]|%(?:2f|5c|00|25|c0|c1|u)/i.test(path)) return true;
  // `..;x` too: servlet containers drop a segment's `;` parameters before they resolve dots.
  return path.split('/').some((segment) => /^(?:\.|%2e){1,2}(?:;|%3b|%20|%09|$)/i.test(segment));
}

export class WpiListener {
  readonly server: https.Server;
  private readonly limits: ListenerLimits;
  /**
   * Every row this listener writes about noise (failed handshakes, refused certificates, refused
   * or dropped connections, timed-out clients) passes one limiter, so a flood is bounded in rows.
   */
  private readonly noise = new RowLimiter();
  /** Requests whose body is still being read, by socket: a timeout then says what it cut. */
  private readonly reading = new WeakMap<Socket, WpiRequest>();
  /** Open connections by client address, keyed by the TCP socket (see peer-connections.ts). */
  readonly connections: PeerConnections<Socket>;
  /** Mutual TLS: a connection without a valid client certificate is closed after the handshake. */
  private readonly requireClientCert: boolean;
  /** Every TCP connection, handshake done or not: close() ends them all (an idle one must not hold a quit). */
  private readonly sockets = new Set<Socket>();
  /** The profile in force; setTlsProfile() changes it on the running server. */
  tlsProfile: TlsProfile;
  private readonly turns: TurnQueue;
  /** Set by close(): requests still queued are dropped (their sockets are closed too). */
  private closed = false;

  constructor(private readonly options: ListenerOptions) {
    this.limits = checkLimits({ ...DEFAULT_LIMITS, ...options.limits });
    this.tlsProfile = options.tlsProfile ?? 'modern';
    this.connections = new PeerConnections(this.limits);
    this.requireClientCert = options.tls.requestCert === true && options.tls.rejectUnauthorized !== false;
    this.turns = options.turns ?? new TurnQueue((e) => this.options.onError?.(e instanceof Error ? e : new Error(String(e))));
    this.server = https.createServer(
      {
        ...this.serverTls(this.tlsProfile),
        maxHeaderSize: 16 * 1024,
        handshakeTimeout: this.limits.handshakeTimeoutMs,
        requestTimeout: this.limits.requestTimeoutMs,
        headersTimeout: this.limits.headersTimeoutMs,
        keepAliveTimeout: this.limits.keepAliveTimeoutMs,
        // Node checks the header/request timeouts on this interval (default 30 s): keep it tight.
        connectionsCheckingInterval: Math.min(1000, this.limits.headersTimeoutMs),
        // Old phone firmware may omit Host; Node would answer 400 before we ever see the request.
        requireHostHeader: false,
      },
      (req, res) => this.onRequest(req, res),
    );
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    // Node drops headers past this count without a word: one more than the limit, and onRequest
    // refuses a request that reaches it (a Cookie past the cut would be lost unnoticed).
    this.server.maxHeadersCount = MAX_REQUEST_HEADERS + 1;
    // The connection cap is ours (Node's maxConnections would refuse whoever comes next, however
    // few connections their address holds): every TCP connection passes this gate before TLS.
    // Its TLS handshake then starts in a turn of its own (turns.ts): the server's side of a handshake
    // (an RSA signature, 1–2 ms) runs when the ClientHello is read, and fifty phones connecting at
    // once would otherwise sign fifty times in one poll of the loop. Bytes that arrive meanwhile
    // stay buffered on the TCP socket; Node's TLS socket takes them over.
    gate(this.server, 'connection', (socket: Socket) => this.admit(socket), (socket, start) =>
      this.turns.push(() => {
        if (this.closed) socket.destroy();
        else if (!socket.destroyed) start();
      }),
    );
    if (this.requireClientCert) gate(this.server, 'secureConnection', (socket: TLSSocket) => this.checkClientCertificate(socket));
    // Failed handshakes (old TLS stacks, TLS garbage, plain HTTP on the TLS port) end here: the
    // socket is closed, nothing else is disturbed, and a rate-limited row makes the failure visible.
    this.server.on('tlsClientError', (err, socket) => {
      const reason = handshakeReason(err);
      this.recordFailure(socket, reason, handshakeHint(reason, this.tlsProfile));
    });
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => this.onClientError(err, socket));
    if (options.keyLog) this.setKeyLog(options.keyLog);
  }

  private keyLogListener: ((line: Buffer) => void) | null = null;

  /**
   * The TLS key log (NSS format, one line per secret) of the handshakes from now on, or none. With
   * none the server has no 'keylog' listener, and Node then asks OpenSSL for no key lines at all:
   * no session's secrets pass through the heap unless the user asked for a key log.
   */
  setKeyLog(write: ((line: Buffer) => void) | null): void {
    if (this.keyLogListener) this.server.off('keylog', this.keyLogListener);
    this.keyLogListener = write ? (line: Buffer) => write(line) : null;
    if (this.keyLogListener) this.server.on('keylog', this.keyLogListener);
  }

  /** Binds; resolves with the port actually bound (0 picks a free one). */
  listen(): Promise<number> {
    const o = this.options;
    // A deep accept queue: a host that opens connections in bursts (and is refused at once) must
    // not overflow it, or the kernel drops the phones' connection attempts before we see them.
    return bind(this.server, o.port, o.host, o.kind === 'default' ? 'Default-Mode' : 'Secure-Mode', o.kind === 'default' ? '--port' : '--secure-port', ACCEPT_BACKLOG);
  }

  /**
   * Stops listening and ends every connection now: HTTP keep-alive ones and, which the HTTP
   * server does not track, TCP connections still in (or never starting) their TLS handshake.
   */
  close(): Promise<void> {
    this.closed = true;
    const closed = closeServer(this.server);
    for (const socket of this.sockets) socket.destroy();
    return closed;
  }

  /**
   * Swaps the TLS context (same identity, another profile) without closing the port: new
   * handshakes use it, connections already open keep theirs.
   */
  setTlsProfile(profile: TlsProfile): void {
    this.server.setSecureContext(this.serverTls(profile));
    this.tlsProfile = profile;
  }

  private serverTls(profile: TlsProfile): https.ServerOptions {
    return {
      ...this.options.tls,
      // Node would close a socket with a bad client certificate without a word; we check it
      // ourselves (the secureConnection gate) so the refusal is recorded with its reason.
      ...(this.requireClientCert ? { rejectUnauthorized: false } : {}),
      ...tlsOptionsFor(profile),
    };
  }

  get port(): number {
    return (this.server.address() as AddressInfo | null)?.port ?? 0;
  }

  /** The address bound, as the system reports it (a host name resolved, IPv6 canonical); null before listening. */
  get boundAddress(): string | null {
    return (this.server.address() as AddressInfo | null)?.address ?? null;
  }

  /**
   * A new TCP connection: counted for its address, or refused (closed at once) when that address
   * is at one of its limits. At the overall cap, a connection of the address holding the most is
   * dropped to make room. Both are recorded, rate-limited, as failed handshakes with the reason.
   */
  private admit(socket: Socket): boolean {
    const admission = this.connections.open(socket, socket.remoteAddress);
    if (!admission.admitted) {
      this.recordFailure(socket, `connection refused: ${admission.reason}`, NAT_HINT);
      return false;
    }
    socket.once('close', () => this.connections.close(socket));
    if (admission.evicted) this.recordFailure(admission.evicted.conn, `connection dropped: ${admission.evicted.reason}`, null);
    return true;
  }

  /** Secure port: the handshake is done; a client certificate that is not valid for our CA ends it here. */
  private checkClientCertificate(socket: TLSSocket): boolean {
    if (socket.authorized) return true;
    const reason = clientCertificateReason(socket.authorizationError);
    this.recordFailure(socket, reason, clientCertificateHint(reason), peerCertificateOf(socket), { protocol: socket.getProtocol?.() ?? null, cipher: socket.getCipher?.()?.name ?? null });
    return false;
  }

  /** Closes the socket and records why, within the noise limiter's bounds. */
  private recordFailure(socket: Socket, reason: string, hint: string | null, clientCertificate: CertificateSummary | null = null, tls: { protocol: string | null; cipher: string | null } | null = null): void {
    const peerAddress = socket.remoteAddress ?? '';
    const peerPort = socket.remotePort ?? 0;
    const localPort = socket.localPort ?? 0;
    socket.destroy();
    const now = Date.now();
    const suppressed = this.noise.admit(`${peerAddress}|${reason}`, now);
    if (suppressed === null) return;
    const failure: HandshakeFailure = {
      time: now, listener: this.options.kind, localPort, peerAddress, peerPort, reason, hint, suppressed,
      ...(clientCertificate ? { clientCertificate } : {}), ...(tls ? { tlsProtocol: tls.protocol, tlsCipher: tls.cipher } : {}),
    };
    try {
      this.options.handler.handshakeFailed(failure);
    } catch (e) {
      this.options.onError?.(e instanceof Error ? e : new Error(String(e)));
    }
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket as TLSSocket;
    // The gate closed such a socket before HTTP saw it; never answer one that slipped through.
    if (this.requireClientCert && !socket.authorized) {
      socket.destroy();
      return;
    }
    const request: WpiRequest = {
      started: Date.now(),
      listener: this.options.kind,
      localPort: socket.localPort ?? 0,
      peerAddress: socket.remoteAddress ?? '',
      peerPort: socket.remotePort ?? 0,
      tlsProtocol: socket.getProtocol?.() ?? null,
      tlsCipher: socket.getCipher?.()?.name ?? null,
      method: req.method ?? '',
      path: req.url ?? '',
      httpVersion: req.httpVersion,
      headers: headerPairs(req.rawHeaders),
      body: Buffer.alloc(0),
      // Node decided from the request (HTTP/1.0, Connection: close) whether the connection stays.
      framing: { keepAliveSeconds: res.shouldKeepAlive ? Math.floor(this.limits.keepAliveTimeoutMs / 1000) : null, extra: [] },
    };
    // Read once: Node builds the object anew on every call (issue #14, the secure storm's profile).
    const peer = presentedCertificate(socket);
    request.clientCertificate = peer && certificateSummary(peer);
    if (this.options.identify) request.clientIdentity = peer && socket.authorized ? this.options.identify(peer) : null;
    if (req.rawHeaders.length / 2 > MAX_REQUEST_HEADERS) {
      return this.refuse(req, res, request, 431, listenerRefusalText('tooManyHeaders', { max: String(MAX_REQUEST_HEADERS) }));
    }
    const path = request.path.split('?')[0] ?? '';
    if (!path.startsWith(WPI_PATH_PREFIX) || unsafePath(path)) {
      // A request target in absolute form may carry user:password@: not into the reason (stored, shown).
      return this.refuse(req, res, request, 404, listenerRefusalText('noService', { path: maskRequestTarget(path).slice(0, 80), prefix: WPI_PATH_PREFIX }));
    }
    if (request.method !== 'POST') {
      return this.refuse(req, res, request, 405, listenerRefusalText('method', { method: request.method }), [['Allow', 'POST']]);
    }
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > this.limits.maxBodyBytes) {
      return this.refuse(req, res, request, 413, listenerRefusalText('bodyDeclared', { declared: String(declared), max: String(this.limits.maxBodyBytes) }));
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    this.reading.set(socket, request);
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > this.limits.maxBodyBytes) {
        over = true;
        chunks.length = 0;
        this.reading.delete(socket);
        this.refuse(req, res, request, 413, listenerRefusalText('bodyTooLarge', { max: String(this.limits.maxBodyBytes) }));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      this.reading.delete(socket);
      this.connections.delivered(tcpOf(socket));
      if (over) return;
      request.body = Buffer.concat(chunks, size);
      this.inTurn(() => {
        const answer = this.guarded(() => this.options.handler.exchange(request));
        if (answer instanceof Promise) void answer.then((r) => this.sendLater(res, request, r), (e: unknown) => this.sendLater(res, request, this.internalError(e)));
        else this.send(res, request, answer);
      });
    });
    req.on('error', () => req.destroy());
  }

  /**
   * A client Node's HTTP parser gave up on: headers or body not complete within the limits
   * (Slowloris, a trickled body), headers too large, or bytes that are not HTTP. It gets one
   * line saying why, then the connection is closed. Timeouts are recorded, rate-limited, so a slow
   * client is visible without the store filling up with it; malformed HTTP is not recorded.
   */
  private onClientError(err: NodeJS.ErrnoException, socket: Socket): void {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    const pending = this.reading.get(socket);
    this.reading.delete(socket);
    const reason =
      status === 408
        ? pending
          ? listenerRefusalText('bodyTimeout', { ms: String(this.limits.requestTimeoutMs) })
          : listenerRefusalText('headersTimeout', { ms: String(this.limits.headersTimeoutMs) })
        : status === 431
          ? 'request headers too large'
          : `not an HTTP request (${err.code ?? 'parse error'})`;
    let response: WpiResponse = { status, headers: [['Content-Type', 'text/plain; charset=utf-8']], body: Buffer.from(`${reason}\n`) };
    if (status === 408) {
      const tls = socket as TLSSocket;
      const request: WpiRequest = pending ?? {
        started: Date.now(), listener: this.options.kind, localPort: socket.localPort ?? 0, peerAddress: socket.remoteAddress ?? '', peerPort: socket.remotePort ?? 0,
        tlsProtocol: tls.getProtocol?.() ?? null, tlsCipher: tls.getCipher?.()?.name ?? null, method: '', path: '', headers: [], body: Buffer.alloc(0),
      };
      request.framing = { keepAliveSeconds: null, extra: [] };
      const suppressed = this.noise.admit(`${request.peerAddress}|${reason}`, Date.now());
      if (suppressed !== null) {
        const recorded = this.guarded(() => this.options.handler.refused(request, status, suppressed > 0 ? similarNotRecorded(reason, suppressed) : reason));
        if (recorded.status === status) response = recorded;
      }
    }
    const framed = frameResponse({ framing: { keepAliveSeconds: null, extra: [] } }, response);
    const head = [`HTTP/1.1 ${status} ${STATUS_TEXT[status]}`, ...framed.map(([n, v]) => `${n}: ${v}`)];
    socket.end(Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), response.body]));
    // A client that does not read its answer does not keep the socket.
    setTimeout(() => socket.destroy(), 1000).unref();
  }

  private refuse(req: IncomingMessage, res: ServerResponse, request: WpiRequest, status: number, reason: string, extra: [string, string][] = []): void {
    // Do not read a refused body; close so the client cannot keep streaming into this socket.
    request.framing = { keepAliveSeconds: null, extra };
    req.resume();
    this.inTurn(() => this.send(res, request, this.guarded(() => this.options.handler.refused(request, status, reason))));
  }

  /**
   * Handler work (parse, decide, record) waits for its turn (turns.ts); a request whose listener
   * closed meanwhile is dropped unanswered, its socket already destroyed.
   */
  private inTurn(task: () => void): void {
    this.turns.push(() => {
      if (!this.closed) task();
    });
  }

  /** Not recorded means not answered: the phone retries later rather than act on a lost exchange. */
  private guarded<R extends WpiResponse | Promise<WpiResponse>>(answer: () => R): R | WpiResponse {
    try {
      return answer();
    } catch (err) {
      return this.internalError(err);
    }
  }

  private internalError(err: unknown): WpiResponse {
    const reason = `internal error, exchange not recorded: ${err instanceof Error ? err.message : String(err)}`;
    this.options.onError?.(new Error(reason));
    return { status: 500, headers: [['Content-Type', 'text/plain; charset=utf-8']], body: Buffer.from(`${reason}\n`) };
  }

  /** An answer that came later (a relay): a header Node will not write ends the connection, never the process. */
  private sendLater(res: ServerResponse, request: WpiRequest, response: WpiResponse): void {
    try {
      this.send(res, request, response);
    } catch (e) {
      this.options.onError?.(new Error(`answer not sent: ${e instanceof Error ? e.message : String(e)}`));
      res.destroy();
    }
  }

  /**
   * Writes exactly the recorded headers: Date, Connection and Keep-Alive are in the list, so Node
   * adds none of its own (sendDate off; an explicit Connection header stops the rest).
   */
  private send(res: ServerResponse, request: WpiRequest, response: WpiResponse): void {
    if (res.headersSent || res.destroyed) return;
    const headers = frameResponse(request, response);
    res.sendDate = false;
    if (headers.some(([n, v]) => n === 'Connection' && v === 'close')) res.shouldKeepAlive = false;
    if (response.statusText !== undefined) res.writeHead(response.status, response.statusText, headers.flat());
    else res.writeHead(response.status, headers.flat());
    res.end(response.body);
  }
}

const ACCEPT_BACKLOG = 4096;

const NAT_HINT = 'if many phones share this address (NAT), raise limits.maxConnectionsPerAddress / maxPendingPerAddress (docs/security.md, "Fairness under flood")';

/**
 * Puts `pass` in front of Node's own listeners for `event`: they only see the socket when it
 * returns true. (A listener merely prepended could not stop the others from running.) With
 * `defer`, they see it when `defer` calls `start`.
 */
function gate<S extends Socket>(server: https.Server, event: 'connection' | 'secureConnection', pass: (socket: S) => boolean, defer?: (socket: S, start: () => void) => void): void {
  const inner = server.listeners(event) as ((socket: S) => void)[];
  server.removeAllListeners(event);
  server.on(event, (socket: S) => {
    if (!pass(socket)) return;
    const start = () => {
      for (const listener of inner) listener.call(server, socket);
    };
    if (defer) defer(socket, start);
    else start();
  });
}

/** The TCP socket under a server-side TLS socket (what the connection gate counted). */
function tcpOf(socket: TLSSocket): Socket {
  return (socket as TLSSocket & { _parent?: Socket })._parent ?? socket;
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };

/** The certificate a TLS client presented (null: none, or not a TLS socket). */
function presentedCertificate(socket: TLSSocket): PeerCertificate | null {
  const cert = socket.getPeerCertificate?.();
  return cert && Object.keys(cert).length ? cert : null;
}

/** The certificate a TLS client presented, summarised (null: none, or not a TLS socket). */
function peerCertificateOf(socket: TLSSocket): CertificateSummary | null {
  const cert = presentedCertificate(socket);
  return cert && certificateSummary(cert);
}

