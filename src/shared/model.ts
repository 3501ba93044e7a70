/**
 * Records the service keeps and every view shows: shared by main, the CLI, the preload API and the
 * renderer. Times are milliseconds since the epoch.
 */

export type DeviceMode = 'default' | 'secure';
export type DeviceState = 'idle' | 'in-interaction';
export type BootstrapState = 'pending' | 'failed' | 'done';

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
  /** Profile assigned to the device (plug & play or by hand). */
  profile: string | null;
  /** When the service last sent a contact-me (the phone's contact gap counts from it). */
  lastContactMe: number | null;
  /** Where its move to Secure Mode stands: pending (job under way), failed (see the job's error), done. */
  bootstrap: BootstrapState | null;
  /** Serial of the client certificate the device holds (Secure Mode). */
  certSerial: string | null;
  firstContact: number;
  /** When the phone was last heard from (its own requests, or an answered contact-me). */
  lastContact: number;
  /** Contact-me requests in a row that failed since the phone was last heard from (0: reachable). */
  contactFailures: number;
  /** The last failed contact-me's error while contactFailures > 0, else null. */
  lastContactError: string | null;
  /**
   * What became of the last contact-me (lastContactMe): sent (no answer yet), answered (the phone
   * was heard from since), failed (refused, timed out: lastContactMeError says how); null: none sent.
   */
  lastContactMeOutcome: 'sent' | 'answered' | 'failed' | null;
  /** Why the last contact-me failed, when it did. */
  lastContactMeError: string | null;
}

export interface DeviceItem {
  name: string;
  index: number | null;
  value: string;
  status: string | null;
  updated: number;
}

/** Where an exchange happened: a WPI listener, the DCMP polling listener, or our own outgoing contact-me. */
export type ListenerKind = 'default' | 'secure' | 'dcmp' | 'contact-me';

/**
 * `wpi`: a phone's WPI request and our answer; `tls-failure`: a connection whose TLS handshake failed
 * (no HTTP at all); `contact-me`: our request to a phone's port 8085 and its answer; `dcmp`: a
 * phone's polling request (manual p.15).
 */
export type ExchangeKind = 'wpi' | 'tls-failure' | 'contact-me' | 'dcmp';

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
  /** Items the phone refused in its reply to a WriteItems (statuses inside an accepted reply, manual p.82–83). */
  refusedItems: number;
  /** Action of the service's answer. */
  action: string | null;
  /** Why the request was refused (HTTP 4xx), in one line. */
  error: string | null;
  /** Answered, but worth a person's attention (e.g. reply-to matched by address only). */
  warning: string | null;
  requestBytes: number;
  responseBytes: number;
  /** The request line's HTTP version when it was not 1.1 (old firmware may send 1.0); absent: 1.1, or recorded before migration 23. */
  httpVersion?: string;
}

/** A TLS certificate as the traffic view shows it. Times are ms since the epoch. */
export interface CertificateSummary {
  /** e.g. `CN=00:1A:E8:00:00:01, O=LocalDLS`. */
  subject: string;
  issuer: string;
  /** Hex, as OpenSSL prints it. */
  serial: string;
  validFrom: number;
  validTo: number;
  /** SHA-256 fingerprint, colon-separated hex. */
  fingerprint256: string;
}

/** An exchange with its raw bytes, as sent and received (the truth every view derives from). */
export interface Exchange extends ExchangeSummary {
  /** The certificate the client presented in the TLS handshake (secure port), if any. */
  clientCertificate?: CertificateSummary | null;
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

/** An item to send: name, optional index (0 is a real index), value. */
export interface ItemValue {
  name: string;
  index?: number;
  value: string;
}

/** Job kinds; the set stays open (the secure-mode bootstrap adds its own). */
export const JOB_KINDS = ['WriteItems', 'ReadItems', 'ReadAllItems', 'Restart', 'FactoryReset', 'FileDeployment', 'SoftwareDeployment', 'Bootstrap'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/** The source of a renewal's Bootstrap job (main/app/bootstrap.ts): the UI and the rules tell a renewal by it. */
export const RENEWAL_SOURCE = 'bootstrap:renew';
/** The source of the factory reset that takes a phone back out of Secure Mode (`bootstrap --undo`). */
export const UNDO_SOURCE = 'bootstrap:undo';

/** What a job of the secure-mode bootstrap does: a way into Secure Mode, a new certificate, or the way out. */
export type BootstrapJobRole = 'bootstrap' | 'renewal' | 'undo';

/** A job's role in the secure-mode bootstrap, as its lists say it (a renewal and an undo are no way into Secure Mode); null for another job. */
export function bootstrapJobRole(job: { kind: string; source: string | null }): BootstrapJobRole | null {
  if (job.kind === 'Bootstrap') return job.source === RENEWAL_SOURCE ? 'renewal' : 'bootstrap';
  return job.kind === 'FactoryReset' && job.source === UNDO_SOURCE ? 'undo' : null;
}

export const JOB_STATES = ['queued', 'sent', 'done', 'failed', 'waiting-busy', 'cancelled'] as const;
export type JobState = (typeof JOB_STATES)[number];

/** What the phone said about one item of a job (manual p.26: `read only`, `unknown item`, …). */
export interface ItemResult {
  name: string;
  index?: number;
  status: string;
  /**
   * A FileDeployment's file the phone already listed when the job was sent: the date and time of
   * each copy it listed then ("10:06:2008 15:35:52", p.245; more than one where it listed the file
   * under two spellings of its name). The check waits for another.
   */
  listedBefore?: string[];
}

export interface Job {
  id: number;
  mac: string;
  kind: JobKind;
  /** Items the job sends (WriteItems values, ReadItems names, file-* items, …). */
  items: ItemValue[];
  /** What the phone must report when it comes back, e.g. {"software-version": "V3 R5.12.0"}. */
  expect: Record<string, string> | null;
  state: JobState;
  /** How often it was sent. */
  attempts: number;
  /**
   * Sendings the phone left unanswered (the interaction ended without the job's reply): MAX_ATTEMPTS
   * of them fail the job. A busy phone answered, so its sendings are not among them.
   */
  unanswered: number;
  /** WriteItems split into several messages: how many parts the phone has accepted. */
  partsDone: number;
  created: number;
  updated: number;
  sent: number | null;
  finished: number | null;
  results: ItemResult[];
  /** Why it failed or waits, in words a person can act on. */
  error: string | null;
  source: string | null;
  /** The moment naming its rollout (`j<rolloutAt>-<kind>`), claimed when it was queued (store/rollout-rows.ts). */
  rolloutAt: number;
}

export interface Profile {
  name: string;
  /** Only for devices of this type (e.g. "OpenStage 60"); null = site-wide. */
  deviceType: string | null;
  /** Plug & play: new devices whose MAC / E.164 match this glob (`*`, `?`) get the profile. */
  matchMac: string | null;
  matchE164: string | null;
  items: ItemValue[];
  created: number;
  updated: number;
}
