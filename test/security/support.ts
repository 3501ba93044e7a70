/**
 * What the security tests share: a phone played by hand over real sockets (its own loopback
 * address, its cookie, optionally a client certificate), and scanning text and bytes for secrets.
 * Loopback only.
 */
import https from 'node:https';
import { buildWorkpointMessage, parseDLSMessage, type DLSMessage, type Item, type WorkpointMessage } from '../../src/main/wpi';
import { nonce as freshNonce } from '../support/messages';

export interface Reply {
  status: number;
  body: string;
  /** The parsed DLSMessage when the status is 200. */
  dls: DLSMessage | null;
  setCookie: string | null;
}

export interface SendOptions {
  /** Source address (Linux routes all of 127.0.0.0/8 to loopback). */
  from?: string;
  cookie?: string | null;
  /** Client certificate for the secure port. */
  tls?: https.RequestOptions;
}

/** One HTTPS POST of a phone message (raw XML text). */
export function send(port: number, xml: string, options: SendOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        path: '/DeploymentService/LoginService',
        method: 'POST',
        agent: false,
        rejectUnauthorized: false,
        ...(options.from ? { localAddress: options.from } : {}),
        ...options.tls,
        headers: {
          'Content-Type': 'text/xml',
          'Content-Length': String(Buffer.byteLength(xml)),
          Connection: 'close',
          ...(options.cookie ? { Cookie: `${options.cookie}; path=/DeploymentService; secure` } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          const set = res.headers['set-cookie'];
          resolve({
            status: res.statusCode ?? 0,
            body,
            dls: res.statusCode === 200 ? parseDLSMessage(body) : null,
            setCookie: set ? String(set).split(';')[0]! : null,
          });
        });
      },
    );
    req.on('error', reject);
    req.end(xml);
  });
}

export type PhoneMessage = Omit<WorkpointMessage, 'nonce' | 'items'> & { nonce?: string; items?: Item[] };

/** A phone played by hand: keeps its session cookie like a real one, fresh nonce per message. */
export class HandPhone {
  cookie: string | null = null;
  constructor(
    readonly mac: string,
    readonly port: number,
    readonly from: string,
    readonly tls?: https.RequestOptions,
  ) {}

  xml(m: PhoneMessage): string {
    return buildWorkpointMessage({ nonce: freshNonce(), maxItems: -1, items: [], ...m });
  }

  /** Sends a message (or raw XML text) and follows the cookie. */
  async say(m: PhoneMessage | string, options: { port?: number; cookie?: string | null; from?: string } = {}): Promise<Reply> {
    const xml = typeof m === 'string' ? m : this.xml(m);
    const r = await send(options.port ?? this.port, xml, { from: options.from ?? this.from, cookie: options.cookie === undefined ? this.cookie : options.cookie, ...(this.tls ? { tls: this.tls } : {}) });
    if (r.setCookie) this.cookie = r.setCookie;
    if (r.dls && ['CleanUp', 'Restart', 'SoftwareDeployment'].includes(r.dls.action)) this.cookie = null;
    return r;
  }

  /** Answers every job with `accepted` until the service ends the interaction; returns the actions seen. */
  async acceptAll(first: Reply, answers: (dls: DLSMessage) => Item[] = () => []): Promise<DLSMessage[]> {
    const seen: DLSMessage[] = [];
    let r = first;
    for (let n = 0; n < 20 && r.dls && !['CleanUp', 'Restart', 'SoftwareDeployment'].includes(r.dls.action); n++) {
      seen.push(r.dls);
      r = await this.say({ reason: 'reply-to', action: r.dls.action, status: 'accepted', fragment: 'final', items: answers(r.dls) });
      if (r.status !== 200) throw new Error(`reply-to ${seen.at(-1)!.action} refused: HTTP ${r.status} ${r.body}`);
    }
    if (r.dls) seen.push(r.dls);
    return seen;
  }
}

export const itemOf = (m: { items: Item[] }, name: string, index?: number) => m.items.find((i) => i.name === name && i.index === index)?.value;

/** Where a needle was found: the haystack's label and some context, for a failure message anyone can read. */
export function findings(haystacks: Record<string, string | Buffer>, needles: Record<string, string | Buffer>): string[] {
  const found: string[] = [];
  for (const [where, hay] of Object.entries(haystacks)) {
    const bytes = typeof hay === 'string' ? Buffer.from(hay, 'utf8') : hay;
    for (const [what, needle] of Object.entries(needles)) {
      const n = typeof needle === 'string' ? Buffer.from(needle, 'utf8') : needle;
      if (n.length === 0) throw new Error(`empty needle ${what}`);
      const at = bytes.indexOf(n);
      if (at >= 0) found.push(`${what} in ${where} at byte ${at}: …${bytes.subarray(Math.max(0, at - 60), at + n.length + 20).toString('latin1').replace(/\s+/g, ' ')}…`);
    }
  }
  return found;
}

/** Slices of a long secret (base64 of a key container) taken at several places. */
export function slices(secret: string, length = 40, count = 4): string[] {
  if (secret.length < length) return [secret];
  const step = Math.floor((secret.length - length) / Math.max(1, count - 1));
  return Array.from({ length: count }, (_, i) => secret.slice(i * step, i * step + length));
}
