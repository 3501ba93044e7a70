/**
 * The phone's HTTPS client: one POST per WorkpointMessage on a fresh TLS connection, as real
 * phones do (`Connection: close`, field capture in wpi-protocol.md §2.3), session continuity by
 * cookie only (manual p.13, p.28). TLS options are injectable: Secure Mode (client certificate +
 * CA, manual p.64–65) and legacy TLS are layered on without touching the phone logic.
 */
import https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';
import { parseDLSMessage, PhoneCodecError, type DLSMessage } from './codec';

/** Path every field implementation serves; the manual only gives an example (wpi-protocol.md §2.2). */
export const DEFAULT_PATH = '/DeploymentService/LoginService';

export interface TlsClientOptions {
  /** Default Mode: the phone does not authenticate the server (manual p.12). */
  rejectUnauthorized?: boolean;
  ca?: string | Buffer | (string | Buffer)[];
  cert?: string | Buffer;
  key?: string | Buffer;
  pfx?: Buffer;
  passphrase?: string;
  minVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  maxVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  ciphers?: string;
  servername?: string;
}

export interface TransportOptions {
  /** https://host:port[/path]; a bare host:port posts to DEFAULT_PATH. */
  server: string | URL;
  /** Whole request, connect to last byte. */
  timeoutMs?: number;
  tls?: TlsClientOptions;
  /** Refuse answers larger than this (a hostile or broken server). */
  maxResponseBytes?: number;
  /** Source address of the phone's connections (each simulated phone its own loopback address). */
  localAddress?: string;
}

export interface TlsInfo {
  protocol: string | null;
  cipher: string | null;
}

export interface ExchangeResult {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** The parsed answer, when the body is a valid DLSMessage. */
  message?: DLSMessage;
  /** Why the body is not a usable DLSMessage. */
  parseError?: string;
  tls: TlsInfo;
  durationMs: number;
}

export type TransportErrorCode = 'timeout' | 'network' | 'too-large' | 'aborted';

/** The request did not produce an HTTP answer; `message` is one line. */
export class TransportError extends Error {
  override readonly name = 'TransportError';
  constructor(
    readonly code: TransportErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Session cookies of one interaction. Real phones return the cookie *with* the attributes they
 * received (e.g. `JSESSIONID=ABC; path=/DeploymentService; secure`), so the Set-Cookie text is kept
 * as sent and echoed verbatim, one entry per cookie name.
 */
export class CookieJar {
  private readonly cookies = new Map<string, string>();

  store(setCookie: string | string[] | undefined): void {
    for (const raw of setCookie === undefined ? [] : Array.isArray(setCookie) ? setCookie : [setCookie]) {
      const text = raw.trim();
      const eq = text.indexOf('=');
      if (eq <= 0) continue;
      const name = text.slice(0, eq).trim();
      if (/;\s*max-age\s*=\s*0\s*(;|$)/i.test(text)) this.cookies.delete(name);
      else this.cookies.set(name, text);
    }
  }

  /** The Cookie header value, or undefined when the jar is empty. */
  header(): string | undefined {
    return this.cookies.size === 0 ? undefined : [...this.cookies.values()].join('; ');
  }

  clear(): void {
    this.cookies.clear();
  }
}

export function serverUrl(server: string | URL): URL {
  const url = typeof server === 'string' ? new URL(server) : new URL(server.href);
  if (url.protocol !== 'https:') throw new Error(`server must be an https:// URL, not ${url.protocol}//`);
  if (url.pathname === '/' || url.pathname === '') url.pathname = DEFAULT_PATH;
  return url;
}

export class Transport {
  readonly url: URL;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;
  private readonly tls: TlsClientOptions;
  private readonly localAddress: string | undefined;
  /**
   * The TLS context (CA, client certificate and key, versions, ciphers), made at the first request
   * and kept, as a phone keeps its configuration: making one per connection parsed the key and the
   * CA again each time, a third of a simulated fleet's CPU in the rollout benchmark.
   */
  private context: SecureContext | undefined;

  constructor(options: TransportOptions) {
    this.localAddress = options.localAddress;
    this.url = serverUrl(options.server);
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.maxResponseBytes = options.maxResponseBytes ?? 4 * 1024 * 1024;
    this.tls = { rejectUnauthorized: false, ...options.tls };
  }

  /** Sends one WorkpointMessage and returns the service's HTTP answer; `signal` aborts it (phone stopped). */
  post(xml: string, jar?: CookieJar, signal?: AbortSignal): Promise<ExchangeResult> {
    const body = Buffer.from(xml, 'utf8');
    const headers: Record<string, string> = {
      'Content-Type': 'text/xml',
      'Content-Length': String(body.length),
      Connection: 'close',
    };
    const cookie = jar?.header();
    if (cookie !== undefined) headers.Cookie = cookie;
    const started = performance.now();

    return new Promise<ExchangeResult>((resolve, reject) => {
      let settled = false;
      const onAbort = (): void => fail(new TransportError('aborted', 'the phone was stopped'));
      const fail = (err: TransportError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        req.destroy();
        reject(err);
      };
      const { rejectUnauthorized, servername, ...contextOptions } = this.tls;
      // Made here, inside the request's promise, so a credential that does not load fails the request as before.
      this.context ??= createSecureContext(contextOptions);
      const req = https.request(
        this.url,
        {
          method: 'POST',
          headers,
          agent: false,
          // Handed on to tls.connect (https' types leave it out).
          ...({ secureContext: this.context } as https.RequestOptions),
          ...(rejectUnauthorized !== undefined ? { rejectUnauthorized } : {}),
          ...(servername !== undefined ? { servername } : {}),
          ...(this.localAddress ? { localAddress: this.localAddress } : {}),
        },
        (res) => {
          const socket = res.socket as TLSSocket;
          const tls: TlsInfo = { protocol: socket.getProtocol?.() ?? null, cipher: socket.getCipher?.()?.name ?? null };
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > this.maxResponseBytes) fail(new TransportError('too-large', `answer larger than ${this.maxResponseBytes} bytes`));
            else chunks.push(chunk);
          });
          res.on('error', (err) => fail(new TransportError('network', `reading the answer failed: ${err.message}`)));
          res.on('end', () => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            signal?.removeEventListener('abort', onAbort);
            jar?.store(res.headers['set-cookie']);
            const bytes = Buffer.concat(chunks);
            const result: ExchangeResult = { status: res.statusCode ?? 0, headers: res.headers, body: bytes.toString('utf8'), tls, durationMs: performance.now() - started };
            try {
              // The bytes, not the decoded text: a body that is not UTF-8 is refused, not patched up.
              result.message = parseDLSMessage(bytes);
            } catch (err) {
              result.parseError = err instanceof PhoneCodecError ? err.message : String(err);
            }
            resolve(result);
          });
        },
      );
      const timer = setTimeout(() => fail(new TransportError('timeout', `no answer from ${this.url.host} within ${this.timeoutMs} ms`)), this.timeoutMs);
      req.on('error', (err: NodeJS.ErrnoException) => fail(new TransportError('network', describe(err, this.url, this.tls.cert !== undefined || this.tls.pfx !== undefined))));
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      req.end(body);
    });
  }
}

/** `withCertificate`: the phone offered a client certificate (Secure Mode). */
function describe(err: NodeJS.ErrnoException, url: URL, withCertificate: boolean): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return `connection refused by ${url.host}: is the service running on that port?`;
    case 'ENOTFOUND':
      return `host ${url.hostname} not found`;
    case 'ECONNRESET':
      // The service's secure port closes a connection without a client certificate (helper-77: said without why).
      return withCertificate ? `connection reset by ${url.host}` : `connection reset by ${url.host}: if that is the service's secure port, it takes only phones in Secure Mode (a client certificate); a phone in Default Mode uses the Default-Mode port (18443 unless set)`;
    // Secure Mode: the phone verifies the server certificate against dls-server-ca (manual p.62, p.64).
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'CERT_SIGNATURE_FAILURE':
    case 'CERT_HAS_EXPIRED':
    case 'CERT_NOT_YET_VALID':
    case 'CERT_UNTRUSTED':
    case 'CERT_REJECTED':
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `the server certificate of ${url.host} is not trusted: ${err.message.split('\n')[0]} (${err.code})`;
    default: {
      // OpenSSL's messages carry a trace; its reason is the part a person needs.
      const openssl = /SSL routines:[^:]*:([^:]+)/.exec(err.message)?.[1]?.trim();
      // What a plain-HTTP port (the web UI's, DCMP polling's) answers a TLS handshake with.
      const plain = openssl === 'wrong version number' ? `: nothing speaks TLS there (a plain-HTTP port such as the web UI's?); the service's WPI ports are HTTPS (18443 unless set)` : '';
      if (openssl) return `TLS handshake with ${url.host} failed: ${openssl}${plain}`;
      return `${url.host}: ${err.message.split('\n')[0]}`;
    }
  }
}

/**
 * What old OpenStage firmware offers (wpi-protocol.md §2.5): TLS 1.0 only, RSA key exchange,
 * AES128-SHA. OpenSSL's security level 0 is needed for a client to offer it at all.
 */
export const OLD_FIRMWARE_TLS: TlsClientOptions = { minVersion: 'TLSv1', maxVersion: 'TLSv1', ciphers: 'AES128-SHA:@SECLEVEL=0' };
