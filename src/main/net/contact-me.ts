/**
 * The contact-me request (manual p.14–15): a plain-HTTP form POST to the phone's own listener
 * (port 8085), answered with 204 No Content, after which the phone opens an interaction with
 * ReasonForContact `solicited`. HTTP only; when and whom to contact is decided by the caller.
 */
import http from 'node:http';
import { headerPairs } from './header-pairs';
import { contactMeErrorText } from '../../shared/contact-me-errors';

export interface ContactMeOptions {
  /** The phone's contact-me-uri, e.g. http://10.0.0.5:8085/contact_dls.html/ContactDLS. */
  uri: string;
  /** Ask the phone to answer on this port of the local address that reaches it (dls_ip_addr/-port). */
  announcePort?: number;
  timeoutMs?: number;
}

export interface ContactMeResult {
  started: number;
  ended: number;
  /** 204 = the phone will call back; 0 = no HTTP answer (see error). */
  status: number;
  localAddress: string;
  peerAddress: string;
  peerPort: number;
  path: string;
  requestHeaders: [string, string][];
  requestBody: Buffer;
  responseHeaders: [string, string][];
  responseBody: Buffer;
  error: string | null;
}

/** A phone answers 204 with no body: more than this is not read (the connection is closed). */
export const CONTACT_ME_MAX_ANSWER = 64 * 1024;

export function sendContactMe(options: ContactMeOptions): Promise<ContactMeResult> {
  const url = new URL(options.uri);
  const started = Date.now();
  const result: ContactMeResult = {
    started, ended: started, status: 0, localAddress: '', peerAddress: url.hostname.replace(/^\[|\]$/g, ''),
    peerPort: Number(url.port || 80), path: `${url.pathname}${url.search}`, requestHeaders: [], requestBody: Buffer.alloc(0),
    responseHeaders: [], responseBody: Buffer.alloc(0), error: null,
  };
  const timeoutMs = options.timeoutMs ?? 5000;
  return new Promise((resolve) => {
    let settled = false;
    const done = (error: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      result.ended = Date.now();
      result.error = error;
      resolve(result);
    };
    // `timeout` below fires only when the connection goes quiet: a listener that trickles a byte
    // now and then would hold this (and one of the few contact-me slots) for ever. A deadline for
    // the whole request bounds it.
    const deadline = setTimeout(() => {
      req.destroy();
      done(contactMeErrorText('deadline', { host: url.host, ms: String(timeoutMs) }));
    }, timeoutMs);
    const req = http.request(url, { method: 'POST', agent: false, timeout: timeoutMs });
    req.setHeader('Content-Type', 'application/x-www-form-urlencoded; charset=utf-8');
    req.on('socket', (socket) => {
      // The body names the local address that reaches the phone, known only once connected.
      socket.once('connect', () => {
        result.localAddress = socket.localAddress ?? '';
        const form = new URLSearchParams({ ContactMe: 'true' });
        if (options.announcePort !== undefined) {
          form.set('dls_ip_addr', result.localAddress.replace(/^::ffff:/, ''));
          form.set('dls_ip_port', String(options.announcePort));
        }
        result.requestBody = Buffer.from(form.toString());
        req.setHeader('Content-Length', String(result.requestBody.length));
        result.requestHeaders = Object.entries(req.getHeaders()).map(([k, v]) => [k, String(v)]);
        req.end(result.requestBody);
      });
    });
    req.on('response', (res) => {
      result.status = res.statusCode ?? 0;
      result.responseHeaders = headerPairs(res.rawHeaders);
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= CONTACT_ME_MAX_ANSWER) return void chunks.push(c);
        req.destroy();
        result.responseBody = Buffer.concat(chunks);
        done(contactMeErrorText('tooLarge', { bytes: String(CONTACT_ME_MAX_ANSWER) }));
      });
      res.on('end', () => {
        result.responseBody = Buffer.concat(chunks);
        done(result.status === 204 ? null : contactMeErrorText('status', { status: String(result.status) }));
      });
      res.on('error', (e) => done(contactMeErrorText('readFailed', { message: e.message })));
    });
    req.on('timeout', () => {
      req.destroy();
      done(contactMeErrorText('silent', { host: url.host, ms: String(timeoutMs) }));
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      done(e.code === 'ECONNREFUSED' ? contactMeErrorText('refused', { host: url.host }) : contactMeErrorText('failed', { host: url.host, message: e.message }));
    });
  });
}
