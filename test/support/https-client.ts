/** A raw HTTPS client for tests that must send what no phone would. Loopback only. */
import https from 'node:https';
import tls from 'node:tls';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export function post(port: number, body: string | Buffer, options: { path?: string; method?: string; headers?: Record<string, string>; localAddress?: string } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        ...(options.localAddress ? { localAddress: options.localAddress } : {}),
        port,
        path: options.path ?? '/DeploymentService/LoginService',
        method: options.method ?? 'POST',
        rejectUnauthorized: false,
        agent: false,
        headers: { 'Content-Type': 'text/xml', Connection: 'close', ...(options.method === 'GET' ? {} : { 'Content-Length': String(Buffer.byteLength(body)) }), ...options.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    if (options.method !== 'GET') req.end(body);
    else req.end();
  });
}

/** Opens a TLS connection and writes raw bytes; resolves with whatever comes back before close. */
export function rawTls(port: number, payload: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => socket.end(payload));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.on('error', reject);
  });
}

/** One phone message over mutual TLS with the given client credential (and session cookie, sent back as phones do). */
export function securePost(port: number, body: string, client: https.RequestOptions, cookie?: string): Promise<{ status: number; body: string; cookie?: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port, path: '/DeploymentService/LoginService', method: 'POST', agent: false, ...client,
        headers: { 'Content-Type': 'text/xml', 'Content-Length': Buffer.byteLength(body), Connection: 'close', ...(cookie ? { Cookie: `${cookie}; path=/DeploymentService; secure` } : {}) } },
      (res) => {
        let data = '';
        res.on('data', (c) => (data += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data, cookie: String(res.headers['set-cookie'] ?? '').split(';')[0] || undefined }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
