/**
 * A small stand-in for a site's existing DLS, for the relay tests: an HTTPS server on loopback
 * that answers WorkpointMessages from a script. Deliberately not LocalDLS's engine or codec: the
 * few fields it needs are read with regular expressions and its answers are written as text, so
 * the relay is tested against a server that shares none of its code.
 *
 * Default script (a DLS's usual start-up): ReadAllItems with two cookies, GetNextFragment for
 * each fragment="next", a WriteItems once the last fragment came, CleanUp after the phone's reply.
 * Every request is kept as the bytes that arrived, every answer as the bytes that were sent.
 */
import { randomBytes } from 'node:crypto';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { selfSignedCertificate } from '../phone/helpers';

export interface StandInRequest {
  method: string;
  url: string;
  /** Header pairs as they arrived, names in their case. */
  headers: [string, string][];
  body: Buffer;
  remoteAddress: string;
  /** What the stand-in answered, as sent. */
  answer?: StandInAnswer;
}

export interface StandInAnswer {
  status: number;
  statusText?: string;
  /** Header pairs to send as they are (Content-Length is added). */
  headers: [string, string][];
  body: Buffer;
  /** Send the body chunked (Transfer-Encoding: chunked, no Content-Length), as some servers do. */
  chunked?: boolean;
}

/** What to do with one request: an answer, or 'hang' (never answer), or 'drop' (close the connection). */
export type StandInScript = (request: StandInRequest, index: number) => StandInAnswer | 'hang' | 'drop' | Promise<StandInAnswer | 'hang' | 'drop'>;

/** The WriteItems the default script sends once the phone's items are all in. */
export const STAND_IN_WRITE = [
  { name: 'display-id', value: 'Relayed "&" written' },
  { name: 'dls-contact-interval', value: '120' },
];

export function field(body: Buffer | string, pattern: RegExp): string | null {
  return pattern.exec(typeof body === 'string' ? body : body.toString('utf8'))?.[1] ?? null;
}

/** The fields the stand-in needs of a WorkpointMessage. */
export function readPhone(body: Buffer) {
  return {
    nonce: field(body, /<Message\b[^>]*\bnonce="([^"]*)"/),
    reason: field(body, /<ReasonForContact\b[^>]*>\s*([^<\s]+)\s*</),
    action: field(body, /<ReasonForContact\b[^>]*\baction="([^"]*)"/),
    fragment: field(body, /<Message\b[^>]*\bfragment="([^"]*)"/),
  };
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A DLSMessage as a DLS writes it (attribute order and whitespace of the manual's examples). */
export function dlsMessage(nonce: string, action: string, items: { name: string; value: string; index?: number }[] = []): Buffer {
  const list = items.length
    ? `\n    <ItemList>\n${items.map((i) => `      <Item name="${esc(i.name)}"${i.index !== undefined ? ` index="${i.index}"` : ''}>${esc(i.value)}</Item>`).join('\n')}\n    </ItemList>`
    : '';
  return Buffer.from(
    `<?xml version="1.0" encoding="UTF-8"?>\n<DLSMessage xmlns="http://www.siemens.com/DLS" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.siemens.com/DLS">\n  <Message nonce="${nonce}">\n    <Action>${action}</Action>${list}\n  </Message>\n</DLSMessage>\n`,
    'utf8',
  );
}

/** The default script: start-up → ReadAllItems (+ cookies) → GetNextFragment… → WriteItems → CleanUp. */
export const startUpScript: StandInScript = (request) => {
  const m = readPhone(request.body);
  const xml = (action: string, items: { name: string; value: string }[] = []) => dlsMessage(m.nonce ?? '', action, items);
  const headers: [string, string][] = [['Content-Type', 'text/xml;charset=UTF-8'], ['X-Stand-In', 'yes']];
  if (m.reason !== 'reply-to') {
    headers.push(['Set-Cookie', `JSESSIONID=${randomBytes(16).toString('hex').toUpperCase()}; Path=/DeploymentService; Secure`], ['Set-Cookie', 'DLSNODE=node-7; HttpOnly']);
    return { status: 200, headers, body: xml('ReadAllItems') };
  }
  if (m.action === 'ReadAllItems') return { status: 200, headers, body: m.fragment === 'next' ? xml('GetNextFragment') : xml('WriteItems', STAND_IN_WRITE) };
  return { status: 200, headers, body: xml('CleanUp') };
};

export interface StandInDls {
  url: string;
  port: number;
  requests: StandInRequest[];
  /** TLS connections accepted (keep-alive reuse shows as fewer connections than requests). */
  connections: number;
  /** SHA-256 fingerprint of the certificate it presents. */
  fingerprint: string;
  cert: string;
  close(): Promise<void>;
}

export async function startStandInDls(options: { script?: StandInScript; tls?: { key: string; cert: string }; host?: string } = {}): Promise<StandInDls> {
  const identity = options.tls ?? selfSignedCertificate('stand-in-dls');
  const script = options.script ?? startUpScript;
  const requests: StandInRequest[] = [];
  const state = { connections: 0 };
  const server = https.createServer({ key: identity.key, cert: identity.cert, keepAliveTimeout: 10_000 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const headers: [string, string][] = [];
      for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
      const request: StandInRequest = { method: req.method ?? '', url: req.url ?? '', headers, body: Buffer.concat(chunks), remoteAddress: req.socket.remoteAddress ?? '' };
      requests.push(request);
      // A promise: the DLS took the message (its state changed) and answers later, as over a WAN.
      const answer = await script(request, requests.length - 1);
      if (answer === 'hang') return;
      if (answer === 'drop') {
        req.socket.destroy();
        return;
      }
      request.answer = answer;
      // Only the headers the script gives (so what is recorded here is what was sent).
      res.sendDate = false;
      const flat = [...answer.headers, ...(answer.chunked ? [] : [['Content-Length', String(answer.body.length)]])].flat();
      if (answer.statusText !== undefined) res.writeHead(answer.status, answer.statusText, flat);
      else res.writeHead(answer.status, flat);
      if (answer.chunked) {
        // Two writes, so the body really goes as two chunks.
        res.write(answer.body.subarray(0, 10));
        res.end(answer.body.subarray(10));
      } else res.end(answer.body);
    });
  });
  server.on('secureConnection', () => state.connections++);
  await new Promise<void>((resolve) => server.listen(0, options.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const fingerprint = new (await import('node:crypto')).X509Certificate(identity.cert).fingerprint256;
  return {
    url: `https://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    requests,
    get connections() {
      return state.connections;
    },
    fingerprint,
    cert: identity.cert,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

