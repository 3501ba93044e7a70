/** How an exchanges row becomes an ExchangeSummary / Exchange: one mapping for every read. */
import type { CertificateSummary, Exchange, ExchangeKind, ExchangeSummary, ListenerKind } from '../../shared/model';
import { unpackBody } from './body-codec';

/** The list columns; the byte counts are the sizes as received, without reading the bodies out. */
export const SUMMARY_COLUMNS = `id, kind, started, ended, listener, local_port, peer_address, peer_port, tls_protocol, tls_cipher, method, path,
  http_status, mac, interaction_id, reason, reply_action, reply_status, nonce, fragment, item_count, refused_items, action, error, warning, http_version,
  coalesce(request_size, length(request_body)) AS request_bytes, coalesce(response_size, length(response_body)) AS response_bytes`;

export interface ExchangeRow extends StoredBodies {
  id: number; kind: ExchangeKind; started: number; ended: number; listener: ListenerKind; local_port: number; peer_address: string; peer_port: number;
  tls_protocol: string | null; tls_cipher: string | null; method: string | null; path: string | null; http_status: number;
  mac: string | null; interaction_id: number | null; reason: string | null; reply_action: string | null; reply_status: string | null;
  nonce: string | null; fragment: string | null; item_count: number; refused_items: number; action: string | null; error: string | null; warning: string | null;
  request_bytes?: number; response_bytes?: number; http_version?: string | null;
  request_headers?: string; response_headers?: string;
  client_cert?: string | null;
}

export function toSummary(r: ExchangeRow): ExchangeSummary {
  return {
    id: r.id, kind: r.kind, started: r.started, ended: r.ended, listener: r.listener, localPort: r.local_port, peerAddress: r.peer_address,
    peerPort: r.peer_port, tlsProtocol: r.tls_protocol, tlsCipher: r.tls_cipher, method: r.method, path: r.path,
    httpStatus: r.http_status, mac: r.mac, interactionId: r.interaction_id, reason: r.reason, replyAction: r.reply_action,
    replyStatus: r.reply_status, nonce: r.nonce, fragment: r.fragment, itemCount: r.item_count, refusedItems: r.refused_items, action: r.action, error: r.error, warning: r.warning,
    requestBytes: r.request_bytes ?? r.request_size ?? r.request_body?.length ?? 0,
    responseBytes: r.response_bytes ?? r.response_size ?? r.response_body?.length ?? 0,
    ...(r.http_version ? { httpVersion: r.http_version } : {}),
  };
}

/** The body columns of a row, as stored (body-codec.ts). */
export interface StoredBodies {
  id: number;
  request_body?: Buffer; request_encoding?: string | null; request_size?: number | null;
  response_body?: Buffer; response_encoding?: string | null; response_size?: number | null;
}

/** One body of a row exactly as received, unpacked if it was stored compressed. */
export function receivedBody(r: StoredBodies, side: 'request' | 'response'): Buffer {
  return side === 'request'
    ? unpackBody(r.request_body ?? Buffer.alloc(0), r.request_encoding, r.request_size, `exchange ${r.id}'s request body`)
    : unpackBody(r.response_body ?? Buffer.alloc(0), r.response_encoding, r.response_size, `exchange ${r.id}'s response body`);
}

export function toExchange(r: ExchangeRow): Exchange {
  return {
    ...toSummary(r),
    clientCertificate: r.client_cert ? (JSON.parse(r.client_cert) as CertificateSummary) : null,
    requestHeaders: JSON.parse(r.request_headers ?? '[]') as [string, string][],
    requestBody: new Uint8Array(receivedBody(r, 'request')),
    responseHeaders: JSON.parse(r.response_headers ?? '[]') as [string, string][],
    responseBody: new Uint8Array(receivedBody(r, 'response')),
  };
}
