/**
 * Test doubles for the phone simulator: a scripted in-memory transport, a real HTTPS service
 * stand-in on 127.0.0.1 with a throw-away self-signed certificate, a DCMP endpoint and a
 * contact-me client. Loopback only.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import forge from 'node-forge';
import { buildDLSMessage, parseDLSMessage, parseWorkpointMessage, type Action, type Item, type WorkpointMessage } from '../../src/main/wpi';
import type { CookieJar, ExchangeResult } from '../../src/phone';

/** What a scripted service does with one phone message. */
export type Answer = { action: Action; items?: Item[]; nonce?: string } | { status: number; body: string };
export type Script = (message: WorkpointMessage, index: number) => Answer | Promise<Answer>;

export function answerBody(message: WorkpointMessage, answer: Answer): { status: number; body: string } {
  if ('status' in answer) return answer;
  return { status: 200, body: buildDLSMessage({ nonce: answer.nonce ?? message.nonce, action: answer.action, items: answer.items ?? [] }) };
}

/** In-memory transport: records every XML body the phone sends and answers from a script. */
export function scriptedTransport(script: Script) {
  const sent: string[] = [];
  const messages: WorkpointMessage[] = [];
  return {
    sent,
    messages,
    async post(xml: string, _jar?: CookieJar): Promise<ExchangeResult> {
      sent.push(xml);
      const message = parseWorkpointMessage(xml);
      messages.push(message);
      const { status, body } = answerBody(message, await script(message, messages.length - 1));
      const result: ExchangeResult = { status, headers: {}, body, tls: { protocol: null, cipher: null }, durationMs: 0 };
      try {
        result.message = parseDLSMessage(body);
      } catch (e) {
        result.parseError = (e as Error).message;
      }
      return result;
    },
  };
}

/** The usual service: ReadAllItems on the first message, GetNextFragment per fragment, then CleanUp. */
export const readAllScript: Script = (m) => {
  if (m.reason !== 'reply-to') return { action: 'ReadAllItems' };
  return m.fragment === 'next' ? { action: 'GetNextFragment' } : { action: 'CleanUp' };
};

export function selfSignedCertificate(commonName = '127.0.0.1'): { key: string; cert: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey);
  cert.serialNumber = `01${randomBytes(8).toString('hex')}`;
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 24 * 3600_000);
  const attrs = [{ name: 'commonName', value: commonName }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.sign(forge.pki.privateKeyFromPem(privateKey), forge.md.sha256.create());
  return { key: privateKey, cert: forge.pki.certificateToPem(cert) };
}

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  message: WorkpointMessage;
  socket: Socket;
  /** The phone's address, kept while the socket was open. */
  remoteAddress: string;
  /** The client certificate the phone presented (mutual TLS), if any. */
  peer?: { subjectCN: string; serialNumber: string; fingerprint256: string; authorized: boolean };
}

export interface TestService {
  url: string;
  requests: RecordedRequest[];
  /** TLS connections accepted. */
  connections: number;
  /** Handshakes the server refused or that failed (tlsClientError), with the reason. */
  tlsErrors: string[];
  port: number;
  /** Resolves with the first request (already received or future) that matches. */
  request(match: (r: RecordedRequest) => boolean): Promise<RecordedRequest>;
  close(): Promise<void>;
}

let certificate: { key: string; cert: string } | undefined;

/**
 * A scripted WPI service on 127.0.0.1 (loopback only), sets a JSESSIONID cookie on its first answer.
 * `tls` replaces the throw-away certificate, e.g. a Secure-Mode listener with `requestCert`.
 */
export async function startService(script: Script, setCookie = 'JSESSIONID=ABC123; path=/DeploymentService; secure', tls?: https.ServerOptions): Promise<TestService> {
  const requests: RecordedRequest[] = [];
  const state = { connections: 0 };
  const tlsErrors: string[] = [];
  const waiters = new Set<{ match: (r: RecordedRequest) => boolean; resolve: (r: RecordedRequest) => void }>();
  const server = https.createServer(tls ?? (certificate ??= selfSignedCertificate()), (req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const message = parseWorkpointMessage(body);
      const recorded: RecordedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, message, socket: req.socket, remoteAddress: req.socket.remoteAddress ?? '' };
      const tlsSocket = req.socket as TLSSocket;
      const peer = tlsSocket.getPeerCertificate?.();
      if (peer && Object.keys(peer).length > 0) {
        const cn = peer.subject?.CN;
        recorded.peer = { subjectCN: Array.isArray(cn) ? cn.join(',') : (cn ?? ''), serialNumber: peer.serialNumber, fingerprint256: peer.fingerprint256, authorized: tlsSocket.authorized };
      }
      requests.push(recorded);
      for (const w of waiters) {
        if (w.match(recorded)) {
          waiters.delete(w);
          w.resolve(recorded);
        }
      }
      const answer = answerBody(message, await script(message, requests.length - 1));
      if (res.destroyed) return;
      const headers: Record<string, string> = { 'Content-Type': 'text/xml', 'Content-Length': String(Buffer.byteLength(answer.body)) };
      if (message.reason !== 'reply-to' && message.reason !== 'status' && setCookie) headers['Set-Cookie'] = setCookie;
      res.writeHead(answer.status, headers);
      res.end(answer.body);
    });
  });
  server.on('secureConnection', () => state.connections++);
  server.on('tlsClientError', (e) => tlsErrors.push(e.message));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    requests,
    tlsErrors,
    get connections() {
      return state.connections;
    },
    request: (match) => {
      const seen = requests.find(match);
      return seen ? Promise.resolve(seen) : new Promise((resolve) => waiters.add({ match, resolve }));
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface HttpAnswer {
  status: number;
  /** Raw header lines as sent, e.g. ['Server', 'DlsClient', …]. */
  rawHeaders: string[];
  headers: IncomingHttpHeaders;
  body: string;
}

/** A plain-HTTP request as a provisioning service sends contact-me (manual p.14–15). */
export function httpRequest(url: string, options: { method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const body = options.body === undefined ? undefined : Buffer.from(options.body, 'utf8');
    const headers: Record<string, string> = { ...options.headers };
    if (body !== undefined) headers['Content-Length'] = String(body.length);
    const req = http.request(url, { method: options.method ?? 'POST', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, rawHeaders: res.rawHeaders, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The manual's contact-me: POST, form body, `Content-type: application/x-www-form-urlencoded; charset=utf-8`. */
export function contactMe(uri: string, body = 'ContactMe=true'): Promise<HttpAnswer> {
  return httpRequest(uri, { method: 'POST', body, headers: { 'Content-type': 'application/x-www-form-urlencoded; charset=utf-8', 'User-Agent': 'Jakarta Commons-HttpClient/2.0final' } });
}

export interface DcmpServer {
  url: string;
  requests: { method: string; url: string; remoteAddress: string }[];
  close(): Promise<void>;
}

/** A DCMP endpoint on 127.0.0.1: answers each poll with the status `answer` returns (200/202). */
export async function startDcmp(answer: (index: number) => number): Promise<DcmpServer> {
  const requests: DcmpServer['requests'] = [];
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', remoteAddress: req.socket.remoteAddress ?? '' });
    res.writeHead(answer(requests.length - 1), { 'Content-Length': '0' });
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/dcmp/`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
