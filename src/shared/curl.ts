/**
 * "Copy as curl": one exchange's request as a POSIX shell command that sends it again, headers as
 * recorded (curl sets Content-Length and the connection headers itself), the body as shown (secret
 * item values masked). -k because the phones' DLS certificate is LocalDLS's own. A replayed WPI
 * message is refused as a replay (its nonce was used): that is the service working; the command is
 * for seeing the same request reach a listener, a proxy or another DLS.
 */
import type { ExchangeSummary } from './model';
import { requestScheme, urlHost } from './request-origin';

/** Headers curl writes itself; copying them would send them twice or wrong. */
const CURL_OWN = new Set(['content-length', 'connection', 'transfer-encoding', 'keep-alive']);

/** Single-quoted for sh: nothing inside is interpreted; a quote ends, is escaped, and starts again. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export interface CurlRequest {
  summary: Pick<ExchangeSummary, 'kind' | 'listener' | 'method' | 'path' | 'peerAddress' | 'peerPort' | 'localPort' | 'tlsProtocol' | 'httpVersion'>;
  headers: [string, string][];
  body: string;
}

/** The curl command, or null when there was no HTTP request (a failed TLS handshake). */
export function curlCommand(x: CurlRequest): string | null {
  const s = x.summary;
  if (s.kind === 'tls-failure' || !s.method) return null;
  const header = (name: string) => x.headers.find(([n]) => n.toLowerCase() === name)?.[1];
  const outgoing = s.kind === 'contact-me';
  // The port the request arrived on, when its Host header names none (old firmware may send none).
  const given = header('host');
  const host = outgoing ? `${urlHost(s.peerAddress)}:${s.peerPort}` : given && /^(\[[^\]]*\]|[^:]*):\d+$/.test(given) ? given : `${given ?? 'localhost'}:${s.localPort}`;
  const scheme = requestScheme(s);
  // -g: brackets and braces in the target are sent, not expanded into several requests (helper-67).
  // 1.0 as the phone sent it; without ALPN, as old firmware: curl would offer "http/1.0", which a
  // server that speaks 1.1 (LocalDLS, Node) refuses in the handshake.
  const parts = ['curl', ...(s.httpVersion === '1.0' ? ['--http1.0', '--no-alpn'] : ['--http1.1']), '-sS', '-i', '-g'];
  if (scheme === 'https') parts.push('-k');
  if (s.listener === 'secure') parts.push('--cert', 'phone-cert.pem', '--key', 'phone-key.pem');
  parts.push('-X', shellQuote(s.method), shellQuote(`${scheme}://${host}${s.path ?? '/'}`));
  for (const [name, value] of x.headers) if (!CURL_OWN.has(name.toLowerCase())) parts.push('-H', shellQuote(`${name}: ${value}`));
  // --data-raw: the body as recorded; --data-binary reads a body starting with @ as a file name,
  // and would send a file of the user's instead (helper-67).
  if (x.body !== '' || s.method === 'POST') parts.push('--data-raw', shellQuote(x.body));
  return parts.join(' ');
}
