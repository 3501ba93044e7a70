/**
 * What the traffic views and exports show of an exchange: the raw bytes decoded, secret item
 * values masked (one rule, shared/secrets.ts), the WPI items parsed, and the JSON and HAR exports.
 */
import { STATUS_CODES } from 'node:http';
import packageJson from '../../../package.json';
import { ApiError, type ItemView, type MessageView, type UpstreamView } from '../../shared/api';
import type { Exchange } from '../../shared/model';
import { isAbsoluteForm, isSecretItem, MASK, maskItemValue, maskSecretsInXml, maskUrlPasswords } from '../../shared/secrets';
import { requestScheme, urlHost } from '../../shared/request-origin';
import { bodyText } from '../../shared/body-text';
import { isNeverStored } from '../app/redact';
import { parseDLSMessage, parseWorkpointMessage, wellFormednessProblem, type Item } from '../wpi';

/** Longest body text a view gets; exports carry everything. */
export const VIEW_TEXT_LIMIT = 512 * 1024;

// --- message views -------------------------------------------------------------------------------

export function itemView(name: string, index: number | null | undefined, value: string, status: string | null | undefined): ItemView {
  // A name or status is no place for a URL, but what a client writes there is shown: masked as a value is (helper-72).
  const view: ItemView = { name: maskUrlPasswords(name), index: index ?? null, value: maskItemValue(name, value), status: status === null || status === undefined ? null : maskUrlPasswords(status), secret: value !== '' && isSecretItem(name) };
  if (isNotStored(name, value)) view.notStored = true;
  return view;
}

/** The store holds the mask, not the value (app/redact.ts): revealing it would show the mask. */
export function isNotStored(name: string, storedValue: string): boolean {
  return storedValue === MASK && isNeverStored(name);
}

export function notStoredError(what: string, name: string): ApiError {
  return new ApiError('not-found', `${what}: ${name} is not kept — LocalDLS never stores a phone's private key or the PIN's TAN, so there is nothing to reveal`, [{ key: 'notKept', params: { name } }]);
}

function header(headers: [string, string][], name: string): string | null {
  return headers.find(([n]) => n.toLowerCase() === name)?.[1] ?? null;
}

/** The shared masking rule for raw message views and exports. */
export function maskXml(xml: string): string {
  return maskSecretsInXml(xml);
}

function looksLikeXml(contentType: string | null, text: string): boolean {
  return /xml/i.test(contentType ?? '') || text.trimStart().startsWith('<');
}

/** The WPI items of one side, unmasked (callers mask), or why they could not be read. */
export function parsedItems(x: Exchange, side: 'request' | 'response'): { items: Item[]; problem: string | null } {
  const body = side === 'request' ? x.requestBody : x.responseBody;
  if (x.kind !== 'wpi' || body.length === 0) return { items: [], problem: null };
  const headers = side === 'request' ? x.requestHeaders : x.responseHeaders;
  if (!looksLikeXml(header(headers, 'content-type'), bodyText(body.subarray(0, 256)).text)) return { items: [], problem: null };
  try {
    return { items: (side === 'request' ? parseWorkpointMessage(body) : parseDLSMessage(body)).items, problem: null };
  } catch (e) {
    return { items: [], problem: e instanceof Error ? e.message : String(e) };
  }
}

export function messageView(x: Exchange, side: 'request' | 'response'): MessageView {
  const headers = side === 'request' ? x.requestHeaders : x.responseHeaders;
  const body = side === 'request' ? x.requestBody : x.responseBody;
  const contentType = header(headers, 'content-type');
  // A UTF-8 byte order mark stays (U+FEFF): the text encodes back to the bytes received. Bytes
  // that are not UTF-8 become U+FFFD (the view warns, exports flag it); a body with NUL bytes is
  // withheld: no mask can be trusted on it (shared/body-text.ts).
  const { text: full, invalidUtf8: invalid, withheld } = bodyText(body);
  const isXml = body.length > 0 && looksLikeXml(contentType, full);
  // Masked whatever its type says: a body that is not XML may still carry Items (helper-63).
  const masked = maskXml(full);
  let xmlProblem: MessageView['xmlProblem'] = null;
  if (isXml) {
    xmlProblem = wellFormednessProblem(full);
  }
  const parsed = parsedItems(x, side);
  let startLine = '';
  if (x.kind !== 'tls-failure' && x.method) {
    // Node's server answers 1.1 whatever the request said.
    startLine = side === 'request' ? `${x.method ?? ''} ${x.path ?? ''} HTTP/${x.httpVersion ?? '1.1'}` : `HTTP/1.1 ${x.httpStatus} ${STATUS_CODES[x.httpStatus] ?? ''}`.trimEnd();
  }
  return {
    startLine,
    headers,
    contentType,
    bytes: body.length,
    text: masked.length > VIEW_TEXT_LIMIT ? masked.slice(0, VIEW_TEXT_LIMIT) : masked,
    truncated: masked.length > VIEW_TEXT_LIMIT,
    invalidUtf8: invalid,
    withheld,
    isXml,
    xmlProblem,
    items: parsed.items.map((i) => itemView(i.name, i.index, i.value, i.status)),
    wpiProblem: parsed.problem === null ? null : maskUrlPasswords(parsed.problem),
  };
}

// --- exports -------------------------------------------------------------------------------------

/** `name=value` split at its first `=`; without one, the text is the side `alone` says. */
function pairOf(text: string, alone: 'name' | 'value'): { name: string; value: string } {
  const eq = text.indexOf('=');
  if (eq < 0) return alone === 'name' ? { name: text, value: '' } : { name: '', value: text };
  return { name: text.slice(0, eq), value: text.slice(eq + 1) };
}

/** A cookie's `name=value`, blanks around both trimmed (a nameless cookie is its value). */
function cookiePair(text: string): { name: string; value: string } {
  const { name, value } = pairOf(text.trim(), 'value');
  return { name: name.trim(), value: value.trim() };
}

/** HAR's cookies of a request: every `Cookie` header's pairs (a DLS session id, mostly). */
function requestCookies(headers: [string, string][]): { name: string; value: string }[] {
  return headers
    .filter(([n]) => n.toLowerCase() === 'cookie')
    .flatMap(([, v]) => v.split(';'))
    .filter((pair) => pair.trim() !== '')
    .map(cookiePair);
}

interface HarCookie { name: string; value: string; path?: string; domain?: string; expires?: string; httpOnly?: boolean; secure?: boolean }

/** HAR's cookies of a response: one per `Set-Cookie`, with the attributes HAR names. */
function responseCookies(headers: [string, string][]): HarCookie[] {
  return headers
    .filter(([n]) => n.toLowerCase() === 'set-cookie')
    .map(([, v]) => {
      const [first = '', ...attributes] = v.split(';');
      const cookie: HarCookie = cookiePair(first);
      for (const a of attributes) {
        const { name: key, value: raw } = pairOf(a, 'name');
        const value = raw.trim();
        const k = key.trim().toLowerCase();
        if (k === 'path') cookie.path = value;
        else if (k === 'domain') cookie.domain = value;
        else if (k === 'expires' && !Number.isNaN(Date.parse(value))) cookie.expires = new Date(value).toISOString();
        else if (k === 'httponly') cookie.httpOnly = true;
        else if (k === 'secure') cookie.secure = true;
      }
      return cookie;
    });
}

/** HAR's queryString of a request target (stored with its values masked). */
function queryOf(path: string | null): { name: string; value: string }[] {
  const q = path?.indexOf('?') ?? -1;
  if (path === null || q < 0) return [];
  return path.slice(q + 1).split('&').filter((p) => p !== '').map((p) => pairOf(p, 'name'));
}

/** A side's body as exports give it: masked text, and whether the bytes were not UTF-8 (then the text is not them). */
function exportedBody(x: Exchange, side: 'request' | 'response'): ExportedBody {
  const body = side === 'request' ? x.requestBody : x.responseBody;
  const { text, invalidUtf8, withheld } = bodyText(body);
  return { text: maskXml(text), ...(invalidUtf8 ? { invalidUtf8: true as const } : {}), ...(withheld ? { withheld: true as const } : {}) };
}

/** An exported body: the text, and flags when it is not the bytes. */
interface ExportedBody {
  text: string;
  invalidUtf8?: true;
  /** A body with NUL bytes: its text is not given (shared/body-text.ts). */
  withheld?: true;
}

function exportedItems(x: Exchange, side: 'request' | 'response'): ItemView[] {
  return parsedItems(x, side).items.map((i) => itemView(i.name, i.index, i.value, i.status));
}

/** Relayed exchanges: the upstream's side (docs/relay.md), exported beside the phone's. */
export type UpstreamOf = (id: number) => UpstreamView | undefined;

export function toJsonExport(exchanges: Exchange[], upstreamOf: UpstreamOf = () => undefined) {
  return {
    generator: `LocalDLS ${packageJson.version}`,
    exported: new Date().toISOString(),
    secretsMasked: true,
    exchanges: exchanges.map((x) => {
      const { requestHeaders, requestBody, responseHeaders, responseBody, ...summary } = x;
      return {
        ...summary,
        startedIso: new Date(x.started).toISOString(),
        request: { headers: requestHeaders, bytes: requestBody.length, ...jsonBody(exportedBody(x, 'request')), items: exportedItems(x, 'request') },
        response: { headers: responseHeaders, bytes: responseBody.length, ...jsonBody(exportedBody(x, 'response')), items: exportedItems(x, 'response') },
        ...withUpstream(upstreamOf(x.id)),
      };
    }),
  };
}

const jsonBody = (b: ExportedBody) => ({ body: b.text, ...(b.invalidUtf8 ? { invalidUtf8: true } : {}), ...(b.withheld ? { withheld: true } : {}) });
const harText = (b: ExportedBody) => ({ text: b.text, ...(b.invalidUtf8 ? { _invalidUtf8: true } : {}), ...(b.withheld ? { _withheld: true } : {}) });

/** HAR 1.2 with LocalDLS fields prefixed `_`; failed handshakes (no HTTP) go to `_tlsErrors`. */
export function toHar(exchanges: Exchange[], upstreamOf: UpstreamOf = () => undefined) {
  const harHeaders = (h: [string, string][]) => h.map(([name, value]) => ({ name, value }));
  const entries = exchanges.filter((x) => x.kind !== 'tls-failure').map((x) => {
    // contact-me is our own request to the phone's plain-HTTP port; everything else came to a listener.
    const outgoing = x.kind === 'contact-me';
    const scheme = requestScheme(x);
    const own = outgoing ? `${urlHost(x.peerAddress)}:${x.peerPort}` : `localhost:${x.localPort}`;
    // A Host header no URL can hold (a blank, a quote, an open bracket: any client may send one)
    // made the HAR invalid (helper-67): the address the request went to stands in; the header stays in `headers`.
    const given = header(x.requestHeaders, 'host');
    const host = given && !/[\s"<>\\^`{|}]/.test(given) && URL.canParse(`${scheme}://${given}/`) ? given : own;
    const target = x.path !== null && isAbsoluteForm(x.path) ? x.path : `${scheme}://${host}${x.path ?? '/'}`;
    const parses = URL.canParse(target);
    return {
      startedDateTime: new Date(x.started).toISOString(),
      time: x.ended - x.started,
      request: {
        method: x.method ?? 'POST',
        // A target in absolute form is the URL itself.
        // A target no URL can hold (an absolute form with a blank) keeps its words in `_target`.
        url: parses ? target : `${scheme}://${own}/`,
        ...(parses ? {} : { _target: x.path }),
        httpVersion: `HTTP/${x.httpVersion ?? '1.1'}`,
        cookies: requestCookies(x.requestHeaders),
        headers: harHeaders(x.requestHeaders),
        queryString: queryOf(x.path),
        postData: { mimeType: header(x.requestHeaders, 'content-type') ?? '', ...harText(exportedBody(x, 'request')) },
        headersSize: -1,
        bodySize: x.requestBody.length,
      },
      response: {
        status: x.httpStatus,
        statusText: STATUS_CODES[x.httpStatus] ?? '',
        httpVersion: 'HTTP/1.1',
        cookies: responseCookies(x.responseHeaders),
        headers: harHeaders(x.responseHeaders),
        content: { size: x.responseBody.length, mimeType: header(x.responseHeaders, 'content-type') ?? '', ...harText(exportedBody(x, 'response')) },
        redirectURL: '',
        headersSize: -1,
        bodySize: x.responseBody.length,
      },
      cache: {},
      timings: { send: 0, wait: x.ended - x.started, receive: 0 },
      connection: String(x.peerPort),
      _localdls: {
        id: x.id, peer: `${x.peerAddress}:${x.peerPort}`, listener: x.listener, mac: x.mac, interactionId: x.interactionId,
        reason: x.reason, replyAction: x.replyAction, replyStatus: x.replyStatus, fragment: x.fragment, itemCount: x.itemCount, refusedItems: x.refusedItems,
        action: x.action, tlsProtocol: x.tlsProtocol, tlsCipher: x.tlsCipher, error: x.error, warning: x.warning,
        ...withUpstream(upstreamOf(x.id)),
      },
    };
  });
  const tlsErrors = exchanges.filter((x) => x.kind === 'tls-failure').map((x) => ({
    id: x.id, time: new Date(x.started).toISOString(), peer: `${x.peerAddress}:${x.peerPort}`, localPort: x.localPort,
    listener: x.listener, error: x.error, hint: x.warning,
  }));
  return {
    log: {
      version: '1.2',
      creator: { name: 'LocalDLS', version: packageJson.version },
      comment: 'Secret item values are masked.',
      entries,
      ...(tlsErrors.length ? { _tlsErrors: tlsErrors } : {}),
    },
  };
}

function withUpstream(u: UpstreamView | undefined): { upstream?: UpstreamView } {
  return u ? { upstream: u } : {};
}
