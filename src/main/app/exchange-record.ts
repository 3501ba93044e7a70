/**
 * The HTTP side of a recorded WPI exchange, the same for the exchanges the service answers and the
 * ones it relays: when, where, TLS, the request as received and the response exactly as the
 * listener writes it, key material redacted before it reaches the database.
 */
import { frameResponse, type WpiRequest, type WpiResponse } from '../net/wpi-listener';
import type { ExchangeSummary } from '../../shared/model';
import type { Changes, CommitResult, ExchangeRecord } from '../store';
import { maskRequestTarget, maskUrlPasswords } from '../../shared/secrets';
import { redactForStorage } from './redact';

export type HttpFacts = Pick<
  ExchangeRecord,
  'kind' | 'started' | 'ended' | 'listener' | 'localPort' | 'peerAddress' | 'peerPort' | 'tlsProtocol' | 'tlsCipher' | 'method' | 'path' | 'httpStatus' | 'requestHeaders' | 'requestBody' | 'responseHeaders' | 'responseBody' | 'httpVersion'
>;

export function httpFacts(request: WpiRequest, response: WpiResponse, now: number): HttpFacts {
  return {
    kind: 'wpi',
    started: request.started,
    ended: Math.max(now, request.started),
    listener: request.listener,
    localPort: request.localPort,
    peerAddress: request.peerAddress,
    peerPort: request.peerPort,
    tlsProtocol: request.tlsProtocol,
    tlsCipher: request.tlsCipher,
    method: request.method,
    // Only what is not 1.1 is kept (the start line says 1.1 when none is).
    ...(request.httpVersion && request.httpVersion !== '1.1' ? { httpVersion: request.httpVersion } : {}),
    // Masked here, not only in the store: the live feed (the UI's list) shows the record as made.
    // The relay forwards request.path, as received.
    path: maskRequestTarget(request.path),
    httpStatus: response.status,
    requestHeaders: request.headers,
    requestBody: redactForStorage(request.body),
    // Exactly what the listener writes (Date, Content-Length, Connection, … included).
    responseHeaders: frameResponse(request, response),
    responseBody: redactForStorage(response.body),
  };
}

/** The record's fields a client writes into, or that quote what it wrote: URL passwords masked (helper-72). */
const CLIENT_TEXTS = ['reason', 'replyAction', 'replyStatus', 'nonce', 'fragment', 'error', 'warning'] as const;

/**
 * A record as stored and shown: a URL with credentials is masked wherever the phone's words land
 * (an error quoting its unknown ReasonForContact, its action, its nonce), as in bodies and items.
 */
export function withClientTextsMasked<T extends Partial<Record<(typeof CLIENT_TEXTS)[number], string | null>>>(record: T): T {
  let out = record;
  for (const field of CLIENT_TEXTS) {
    const text = record[field];
    if (typeof text !== 'string') continue;
    const masked = maskUrlPasswords(text);
    if (masked !== text) out = { ...out, [field]: masked };
  }
  return out;
}

/** The `exchange` event of a committed exchange: its record without bodies, headers and certificate, with its ids and sizes. */
export function exchangeSummary(record: ExchangeRecord, changes: Changes, result: CommitResult): ExchangeSummary {
  const { requestHeaders: _rh, requestBody, responseHeaders: _sh, responseBody, clientCertificate: _cc, ...summary } = record;
  return {
    ...summary,
    id: result.exchangeId,
    mac: changes.device?.mac ?? record.mac,
    interactionId: result.interactionId,
    requestBytes: requestBody.length,
    responseBytes: responseBody.length,
  };
}
