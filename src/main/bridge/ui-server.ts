/**
 * The headless web UI (`localdls serve --ui`): the built renderer and the LocalDlsApi over a
 * WebSocket, on 127.0.0.1 only, never on a provisioning port. The API is "not far from remote code
 * execution" for whoever reaches it, so: a random token per run checked on every connection,
 * Host and Origin must be this server (no DNS rebinding, no other site's page), message size and
 * connection limits.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { basename, dirname, join } from 'node:path';
import { WebSocketServer } from 'ws';
import { WS_MAX_REQUEST_BYTES, WS_PATH } from '../../shared/api';
import { securityHeaders, serveStatic } from './static-files';
import { bridgeSocket, DEFAULT_BRIDGE_LIMITS, type BridgedApi, type BridgeLimits } from './ws-bridge';

export const UI_HOST = '127.0.0.1';

/**
 * Where `electron-vite build` puts the renderer (out/renderer), seen from this module in the
 * sources (src/main/bridge) or in a build (out/cli, out/main). LOCALDLS_UI_DIR overrides it.
 */
export function defaultRendererDir(): string {
  if (process.env.LOCALDLS_UI_DIR) return process.env.LOCALDLS_UI_DIR;
  // Decided by where this module is, never by what exists: from a build, out/renderer three levels
  // up is outside the checkout (a parent folder's UI would have been served, or named as missing).
  const here = dirname(fileURLToPath(import.meta.url));
  return basename(dirname(here)) === 'out' ? join(here, '../renderer') : join(here, '../../../out/renderer');
}

export class UiNotBuiltError extends Error {
  constructor(dir: string) {
    super(`the web UI is not built (no ${join(dir, 'index.html')}): run \`npm run build\` (electron-vite build) in the LocalDLS folder, then start \`serve --ui\` again`);
  }
}

export interface UiServerOptions {
  api: BridgedApi;
  /** 0 picks a free port. */
  port?: number;
  rendererDir?: string;
  /** Fixed token (tests); by default 32 random bytes per run. */
  token?: string;
  maxRequestBytes?: number;
  maxConnections?: number;
  limits?: BridgeLimits;
  /** How long a connection may take to send its request's headers, and the whole request (tests shorten them). */
  timeouts?: { headersMs: number; requestMs: number };
}

export interface UiServer {
  port: number;
  token: string;
  /** The page's address with its token, what a person opens. */
  url: string;
  close(): Promise<void>;
}

function reject(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text) + 1}\r\n\r\n${text}\n`);
}

function sameSecret(given: string, token: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export async function startUiServer(options: UiServerOptions): Promise<UiServer> {
  const rendererDir = options.rendererDir ?? defaultRendererDir();
  if (!existsSync(join(rendererDir, 'index.html'))) throw new UiNotBuiltError(rendererDir);
  const token = options.token ?? randomBytes(32).toString('base64url');
  const maxConnections = options.maxConnections ?? 16;
  let port = 0;

  /** Host must name this server: a page on another name that resolves here (DNS rebinding) is refused. */
  const hostOk = (req: IncomingMessage) => req.headers.host === `${UI_HOST}:${port}` || req.headers.host === `localhost:${port}`;

  const timeouts = options.timeouts ?? { headersMs: 10_000, requestMs: 30_000 };
  // Node looks for late requests every 30 s by default: a socket that never finished its request
  // (a WebSocket upgrade included, which only counts once its headers are in) could stay 40 s.
  const server: Server = createServer({ connectionsCheckingInterval: Math.min(1000, timeouts.headersMs) }, (req, res) => {
    const headers = securityHeaders(port);
    if (!hostOk(req)) {
      res.writeHead(421, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('misdirected request: use the address localdls printed\n');
      return;
    }
    if ((req.url ?? '').split('?')[0] === WS_PATH) {
      res.writeHead(426, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('WebSocket only\n');
      return;
    }
    void serveStatic(rendererDir, req, res, headers);
  });
  server.headersTimeout = timeouts.headersMs;
  server.requestTimeout = timeouts.requestMs;

  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxRequestBytes ?? WS_MAX_REQUEST_BYTES });
  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== WS_PATH) return reject(socket, 404, 'Not Found');
    if (!hostOk(req)) return reject(socket, 421, 'Misdirected Request');
    // Same origin only: the page this server served, on either name it answers to.
    const origin = req.headers.origin;
    if (origin !== `http://${req.headers.host}`) return reject(socket, 403, 'Forbidden: wrong origin');
    if (!sameSecret(url.searchParams.get('token') ?? '', token)) return reject(socket, 401, 'Unauthorized: missing or wrong token');
    if (wss.clients.size >= maxConnections) return reject(socket, 503, 'Service Unavailable: too many connections');
    wss.handleUpgrade(req, socket, head, (ws) => bridgeSocket(ws, options.api, options.limits ?? DEFAULT_BRIDGE_LIMITS));
  });

  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      rejectListen(
        e.code === 'EADDRINUSE'
          ? new Error(`UI port ${options.port} on ${UI_HOST} is in use by another program: choose another with --ui-port, or 0 for any free port`)
          : e,
      );
    });
    server.listen(options.port ?? 0, UI_HOST, () => resolveListen());
  });
  const address = server.address();
  port = typeof address === 'object' && address ? address.port : 0;

  return {
    port,
    token,
    url: `http://${UI_HOST}:${port}/?token=${token}`,
    close: async () => {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}
