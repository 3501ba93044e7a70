/**
 * Test doubles for the phone simulator: a scripted in-memory transport and a real HTTPS service
 * stand-in on 127.0.0.1 with a throw-away self-signed certificate.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import https from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import forge from 'node-forge';
import { buildDLSMessage, parseDLSMessage, parseWorkpointMessage, type Action, type Item, type WorkpointMessage } from '../../src/main/wpi';
import type { CookieJar, ExchangeResult } from '../../src/phone';

/** What a scripted service does with one phone message. */
export type Answer = { action: Action; items?: Item[]; nonce?: string } | { status: number; body: string };
export type Script = (message: WorkpointMessage, index: number) => Answer;

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
      const { status, body } = answerBody(message, script(message, messages.length - 1));
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
}

export interface TestService {
  url: string;
  requests: RecordedRequest[];
  /** TLS connections accepted. */
  connections: number;
  close(): Promise<void>;
}

let certificate: { key: string; cert: string } | undefined;

/** A scripted WPI service on 127.0.0.1 (loopback only), sets a JSESSIONID cookie on its first answer. */
export async function startService(script: Script, setCookie = 'JSESSIONID=ABC123; path=/DeploymentService; secure'): Promise<TestService> {
  certificate ??= selfSignedCertificate();
  const requests: RecordedRequest[] = [];
  const state = { connections: 0 };
  const server = https.createServer({ ...certificate }, (req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const message = parseWorkpointMessage(body);
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, message, socket: req.socket });
      const answer = answerBody(message, script(message, requests.length - 1));
      const headers: Record<string, string> = { 'Content-Type': 'text/xml', 'Content-Length': String(Buffer.byteLength(answer.body)) };
      if (requests.length === 1 && setCookie) headers['Set-Cookie'] = setCookie;
      res.writeHead(answer.status, headers);
      res.end(answer.body);
    });
  });
  server.on('secureConnection', () => state.connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    requests,
    get connections() {
      return state.connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
