/**
 * The ceiling of the storm benchmarks: a minimal Node HTTPS server with the service's own
 * certificate and TLS settings that answers every POST with a fixed DLSMessage — no parsing, no
 * engine, no store. It picks one of three fixed answers so the simulated phones can finish their
 * interaction (start-up → ReadAllItems, a `fragment="next"` reply → GetNextFragment, the last
 * reply → CleanUp) and echoes the nonce, which the phones check. What it reaches is what Node's
 * TLS + HTTP alone can do on this machine with this client load.
 *
 * Argument: JSON {port, host, keyFile, certFile, caFile?} (caFile = mutual TLS, as the secure
 * listener). Prints {"event":"listening","port":N}; SIGTERM stops it.
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tlsOptionsFor } from '../src/main/net/tls-profile';
import { DEFAULT_LIMITS } from '../src/main/net/wpi-listener';
import { buildDLSMessage, type Action } from '../src/main/wpi';

interface CeilingConfig {
  host: string;
  port: number;
  keyFile: string;
  certFile: string;
  caFile?: string;
}

const config = JSON.parse(process.argv[2] ?? '{}') as CeilingConfig;
const NONCE = '@@NONCE@@';
const template = (action: Action) => {
  const [head, tail] = buildDLSMessage({ nonce: NONCE, action, items: [] }).split(NONCE) as [string, string];
  return { head: Buffer.from(head), tail: Buffer.from(tail) };
};
const answers = { ReadAllItems: template('ReadAllItems'), GetNextFragment: template('GetNextFragment'), CleanUp: template('CleanUp') };

const mutual = config.caFile !== undefined;
const server = https.createServer(
  {
    key: readFileSync(config.keyFile),
    cert: readFileSync(config.certFile),
    ...(mutual ? { ca: readFileSync(config.caFile!), requestCert: true, rejectUnauthorized: true } : {}),
    ...tlsOptionsFor('modern'),
    keepAliveTimeout: DEFAULT_LIMITS.keepAliveTimeoutMs,
  },
  (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('latin1');
      const nonce = /nonce="([^"]*)"/.exec(body)?.[1] ?? '';
      const answer = !body.includes('>reply-to<') ? answers.ReadAllItems : body.includes('fragment="next"') ? answers.GetNextFragment : answers.CleanUp;
      const out = Buffer.concat([answer.head, Buffer.from(nonce, 'latin1'), answer.tail]);
      res.writeHead(200, { 'Content-Type': 'text/xml; charset=utf-8', 'Content-Length': String(out.length) });
      res.end(out);
    });
  },
);
server.maxConnections = DEFAULT_LIMITS.maxConnections;
server.listen(config.port, config.host, () => {
  console.log(JSON.stringify({ event: 'listening', port: (server.address() as AddressInfo).port }));
});
process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
