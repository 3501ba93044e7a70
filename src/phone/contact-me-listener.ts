/**
 * The phone's built-in web listener for contact-me (manual p.14–15 §1.4.4.2): plain HTTP,
 * `POST /contact_dls.html/ContactDLS` with the form body `ContactMe=true[&dls_ip_addr=…&dls_ip_port=…]`,
 * answered `204 No Content` with `Server: DlsClient`. A GET with the same parameters in the query
 * string works too (field notes, wpi-protocol.md §2.6). Whether to call back is the phone's
 * decision (contact gap, busy in an interaction); this module only speaks HTTP.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { isIP, type AddressInfo, type Socket } from 'node:net';

export const CONTACT_ME_PATH = '/contact_dls.html/ContactDLS';
/** "the provisioning service must use port 8085 as destination port" (manual p.12, p.14). */
export const CONTACT_ME_PORT = 8085;
/** A contact-me body is 14 bytes (p.15); anything much larger is not one. */
const MAX_BODY_BYTES = 4096;

/** A well-formed contact-me. */
export interface ContactMeRequest {
  method: 'GET' | 'POST';
  /** Address of the sender. */
  from: string;
  /** Where to call back instead of the configured service (p.14). */
  dlsIpAddr?: string;
  dlsIpPort?: number;
}

export interface ContactMeVerdict {
  outcome: 'accepted' | 'ignored';
  reason?: string;
  /** Runs once the 204 has been written: the phone answers first, then connects (p.41–42). */
  then?: () => void;
}

/** Every request the listener received, for tests and the CLI. */
export interface ContactMeRecord {
  /** ISO time. */
  at: string;
  method: string;
  path: string;
  from: string;
  /** HTTP status answered; 0 = connection dropped (phone rebooting). */
  status: number;
  /** accepted = the phone calls back; ignored = 204 but no call-back; refused = not a contact-me. */
  outcome: 'accepted' | 'ignored' | 'refused';
  reason?: string;
  dlsIpAddr?: string;
  dlsIpPort?: number;
}

export interface ContactMeHandlers {
  decide(request: ContactMeRequest): ContactMeVerdict;
  record(record: ContactMeRecord): void;
  now(): number;
}

export class ContactMeListener {
  private server: http.Server | undefined;
  private readonly sockets = new Set<Socket>();
  /** While the phone reboots its web server is gone: connections are dropped. */
  down = false;

  constructor(private readonly handlers: ContactMeHandlers) {}

  /** Binds host:port (0 = any free port) and returns the port actually bound. */
  async listen(host: string, port: number): Promise<number> {
    const server = http.createServer((req, res) => this.handle(req, res));
    server.on('connection', (socket: Socket) => {
      if (this.down) {
        this.handlers.record({ at: this.iso(), method: '', path: '', from: socket.remoteAddress ?? '', status: 0, outcome: 'refused', reason: 'phone is rebooting' });
        socket.destroy();
        return;
      }
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        reject(new Error(err.code === 'EADDRINUSE' ? `contact-me port ${host}:${port} is already in use` : err.code === 'EADDRNOTAVAIL' ? `${host} is not an address of this machine` : `contact-me listener on ${host}:${port}: ${err.message}`));
      };
      server.once('error', onError);
      server.listen(port, host, () => {
        server.off('error', onError);
        resolve();
      });
    });
    this.server = server;
    return (server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    for (const socket of this.sockets) socket.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private iso(): string {
    return new Date(this.handlers.now()).toISOString();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://phone');
    const method = req.method ?? '';
    const base = { at: this.iso(), method, path: url.pathname, from: req.socket.remoteAddress ?? '' };
    const refuse = (status: number, reason: string, headers: Record<string, string> = {}): void => {
      this.handlers.record({ ...base, status, outcome: 'refused', reason });
      answer(res, status, headers);
    };
    if (url.pathname !== CONTACT_ME_PATH) return void drain(req, () => refuse(404, `no such page ${url.pathname}`));
    if (method !== 'POST' && method !== 'GET') return void drain(req, () => refuse(405, `method ${method} not allowed`, { Allow: 'GET, POST' }));
    readBody(req, (body) => {
      if (body === undefined) return refuse(400, `body larger than ${MAX_BODY_BYTES} bytes`);
      const params = new URLSearchParams(url.search);
      if (method === 'POST') {
        const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
        if (type !== 'application/x-www-form-urlencoded') return refuse(400, `Content-type must be application/x-www-form-urlencoded, not "${req.headers['content-type'] ?? ''}"`);
        for (const [k, v] of new URLSearchParams(body)) params.set(k, v);
      }
      const parsed = parseParams(params);
      if ('error' in parsed) return refuse(400, parsed.error);
      const request: ContactMeRequest = { method, from: base.from, ...parsed };
      // ContactMe=false: "true if a response from the phone is expected" (p.14), so no call-back [INF].
      const verdict: ContactMeVerdict = parsed.contactMe ? this.handlers.decide(request) : { outcome: 'ignored', reason: 'ContactMe=false: no response expected' };
      const record: ContactMeRecord = { ...base, status: 204, outcome: verdict.outcome };
      if (verdict.reason) record.reason = verdict.reason;
      if (parsed.dlsIpAddr !== undefined) record.dlsIpAddr = parsed.dlsIpAddr;
      if (parsed.dlsIpPort !== undefined) record.dlsIpPort = parsed.dlsIpPort;
      this.handlers.record(record);
      // 'close' also fires when the sender hangs up before the 204 is out.
      res.on('close', () => verdict.then?.());
      // The phone's answer, header for header (p.15).
      answer(res, 204, {});
    });
  }
}

function parseParams(params: URLSearchParams): { contactMe: boolean; dlsIpAddr?: string; dlsIpPort?: number } | { error: string } {
  const contactMe = params.get('ContactMe');
  if (contactMe === null) return { error: 'no ContactMe parameter' };
  if (contactMe !== 'true' && contactMe !== 'false') return { error: `ContactMe must be true or false, not "${contactMe}"` };
  const out: { contactMe: boolean; dlsIpAddr?: string; dlsIpPort?: number } = { contactMe: contactMe === 'true' };
  const addr = params.get('dls_ip_addr');
  if (addr !== null && addr !== '') {
    const bare = addr.replace(/^\[(.*)\]$/, '$1');
    if (isIP(bare) === 0) return { error: `dls_ip_addr "${addr}" is not an IP address` };
    out.dlsIpAddr = bare;
  }
  const port = params.get('dls_ip_port');
  if (port !== null && port !== '') {
    const n = /^\d{1,5}$/.test(port) ? Number(port) : NaN;
    if (!(n >= 1 && n <= 65535)) return { error: `dls_ip_port "${port}" is not a port` };
    out.dlsIpPort = n;
  }
  return out;
}

function answer(res: ServerResponse, status: number, extra: Record<string, string>): void {
  res.sendDate = false;
  res.writeHead(status, { Server: 'DlsClient', 'Content-Length': '0', 'Content-type': 'text/html', Connection: 'close', ...extra });
  res.end();
}

function readBody(req: IncomingMessage, done: (body: string | undefined) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) tooLarge = true;
    else chunks.push(chunk);
  });
  req.on('end', () => done(tooLarge ? undefined : Buffer.concat(chunks).toString('utf8')));
  req.on('error', () => undefined);
}

function drain(req: IncomingMessage, done: () => void): void {
  req.resume();
  req.on('end', done);
  req.on('error', () => undefined);
}
