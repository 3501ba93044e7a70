/**
 * The DCMP polling endpoint (manual p.15, p.24; Unify wiki "DCMP"): a phone behind a firewall or
 * NAT asks `GET /dcmp/contact-me?device-id=<MAC>` over plain HTTP; 202 Accepted means "connect
 * with solicited", 200 OK means nothing is pending. HTTP only; the answer comes from the handler.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import { bind, closeServer } from './bind';
import { headerPairs } from './header-pairs';
import { PeerConnections, type ConnectionCaps } from './peer-connections';
import { clipped } from '../../shared/quote';
import { maskRequestTarget } from '../../shared/secrets';

/**
 * The same bounds as a WPI listener's (docs/security.md "Fairness under flood"): a poll is one short
 * plain-HTTP request per connection, so these are far above what phones use.
 */
export const DCMP_CONNECTION_CAPS: ConnectionCaps = { maxConnections: 1024, maxConnectionsPerAddress: 512, maxPendingPerAddress: 256 };

export interface DcmpRequest {
  started: number;
  localPort: number;
  peerAddress: string;
  peerPort: number;
  method: string;
  path: string;
  headers: [string, string][];
}

export interface DcmpAnswer {
  status: number;
  /** One line of plain text for a person reading the traffic. */
  text: string;
}

/** Called for every request: `refused` is set when the listener already knows the answer (404, 405). */
export type DcmpHandler = (request: DcmpRequest, poll: { deviceId: string | null } | { refused: DcmpAnswer }) => DcmpAnswer;

export const DCMP_PATH = '/dcmp/contact-me';

/** The body of an answer: its one line of text. */
export function dcmpBody(answer: DcmpAnswer): Buffer {
  return Buffer.from(`${answer.text}\n`);
}

/**
 * Every header of an answer, as written: the handler records this list and the listener writes
 * exactly it (no Date, one poll per connection), so the recorded exchange is the one sent.
 */
export function dcmpResponseHeaders(answer: DcmpAnswer): [string, string][] {
  return [
    ['Content-Type', 'text/plain; charset=utf-8'],
    ['Content-Length', String(dcmpBody(answer).length)],
    ...(answer.status === 405 ? [['Allow', 'GET'] as [string, string]] : []),
    ['Connection', 'close'],
  ];
}

export class DcmpListener {
  readonly server: http.Server;
  readonly connections: PeerConnections<Socket>;

  constructor(
    private readonly host: string,
    private readonly port: number,
    handler: DcmpHandler,
    onError: (err: Error) => void = () => {},
    caps: ConnectionCaps = DCMP_CONNECTION_CAPS,
  ) {
    this.connections = new PeerConnections(caps);
    this.server = http.createServer({ maxHeaderSize: 8 * 1024, requestTimeout: 10_000, headersTimeout: 5_000, connectionsCheckingInterval: 1000 }, (req, res) => {
      const socket = req.socket;
      this.connections.delivered(socket);
      const request: DcmpRequest = {
        started: Date.now(), localPort: socket.localPort ?? 0, peerAddress: socket.remoteAddress ?? '', peerPort: socket.remotePort ?? 0,
        method: req.method ?? '', path: req.url ?? '', headers: headerPairs(req.rawHeaders),
      };
      let answer: DcmpAnswer;
      try {
        // `GET //` or `GET /\` is no URL to Node: a refusal, not an exception that ends the service.
        const url = URL.canParse(request.path, 'http://dcmp') ? new URL(request.path, 'http://dcmp') : null;
        if (url === null) {
          answer = handler(request, { refused: { status: 400, text: `"${clipped(maskRequestTarget(request.path, ['device-id']), 80)}" is not a request path; phones poll ${DCMP_PATH}?device-id=<MAC>` } });
        } else if (url.pathname !== DCMP_PATH) {
          answer = handler(request, { refused: { status: 404, text: `no DCMP service at ${url.pathname.slice(0, 80)}; phones poll ${DCMP_PATH}?device-id=<MAC>` } });
        } else if (request.method !== 'GET') {
          answer = handler(request, { refused: { status: 405, text: `method ${request.method} not allowed; DCMP polls with GET` } });
        } else {
          answer = handler(request, { deviceId: url.searchParams.get('device-id') });
        }
      } catch (e) {
        onError(e instanceof Error ? e : new Error(String(e)));
        answer = { status: 500, text: 'internal error' };
      }
      res.sendDate = false;
      res.writeHead(answer.status, dcmpResponseHeaders(answer).flat());
      res.end(dcmpBody(answer));
      req.resume();
    });
    // Counted from the TCP accept, per client address; at a limit the connection is closed at once.
    this.server.on('connection', (socket: Socket) => {
      const admission = this.connections.open(socket, socket.remoteAddress);
      if (!admission.admitted) {
        socket.destroy();
        return;
      }
      socket.once('close', () => this.connections.close(socket));
      if (admission.evicted) admission.evicted.conn.destroy();
    });
  }

  listen(): Promise<number> {
    return bind(this.server, this.port, this.host, 'DCMP', '--dcmp-port');
  }

  close(): Promise<void> {
    return closeServer(this.server);
  }
}
