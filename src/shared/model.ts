/**
 * Records the service keeps and every view shows: shared by main, the CLI, the preload API and the
 * renderer. Times are milliseconds since the epoch.
 */

export type DeviceMode = 'default' | 'secure';
export type DeviceState = 'idle' | 'in-interaction';

export interface Device {
  mac: string;
  e164: string | null;
  deviceType: string | null;
  softwareVersion: string | null;
  partNumber: string | null;
  contactMeUri: string | null;
  lastAddress: string | null;
  mode: DeviceMode;
  state: DeviceState;
  /** TLS protocol of the device's last exchange; TLSv1/TLSv1.1 mean old firmware on legacy TLS. */
  tlsProtocol: string | null;
  firstContact: number;
  lastContact: number;
}

export interface DeviceItem {
  name: string;
  index: number | null;
  value: string;
  status: string | null;
  updated: number;
}

export type ListenerKind = 'default' | 'secure';

/** `wpi`: an HTTP exchange; `tls-failure`: a connection whose TLS handshake failed (no HTTP at all). */
export type ExchangeKind = 'wpi' | 'tls-failure';

/** One HTTP exchange: what the list views show. */
export interface ExchangeSummary {
  id: number;
  kind: ExchangeKind;
  started: number;
  ended: number;
  listener: ListenerKind;
  localPort: number;
  peerAddress: string;
  peerPort: number;
  tlsProtocol: string | null;
  tlsCipher: string | null;
  method: string | null;
  path: string | null;
  httpStatus: number;
  mac: string | null;
  interactionId: number | null;
  /** ReasonForContact of the phone's message. */
  reason: string | null;
  replyAction: string | null;
  replyStatus: string | null;
  nonce: string | null;
  fragment: string | null;
  itemCount: number;
  /** Action of the service's answer. */
  action: string | null;
  /** Why the request was refused (HTTP 4xx), in one line. */
  error: string | null;
  /** Answered, but worth a person's attention (e.g. reply-to matched by address only). */
  warning: string | null;
  requestBytes: number;
  responseBytes: number;
}

/** An exchange with its raw bytes, as sent and received (the truth every view derives from). */
export interface Exchange extends ExchangeSummary {
  requestHeaders: [string, string][];
  requestBody: Uint8Array;
  responseHeaders: [string, string][];
  responseBody: Uint8Array;
}

export interface Interaction {
  id: number;
  mac: string | null;
  peer: string;
  listener: ListenerKind;
  reason: string | null;
  started: number;
  ended: number | null;
  endReason: string | null;
}
