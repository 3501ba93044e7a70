/**
 * WPI message model, named as in the manual (A31003-S2000-R102-16-7620, §3.3–3.5).
 * Phones send WorkpointMessage; the provisioning service answers with DLSMessage.
 */

export const DLS_NAMESPACE = 'http://www.siemens.com/DLS';

/** RFC values (ReasonForContact), manual p.28–29 and p.83. */
export const REASONS_FOR_CONTACT = [
  'start-up',
  'local-changes',
  'inventory-changes',
  'status',
  'solicited',
  'reply-to',
  'clean-up',
] as const;
export type ReasonForContact = (typeof REASONS_FOR_CONTACT)[number];

/** Action values the service may send, manual p.30–31. */
export const ACTIONS = [
  'ReadAllItems',
  'ReadItems',
  'WriteItems',
  'Restart',
  'FileDeployment',
  'SoftwareDeployment',
  'CleanUp',
  'GetNextFragment',
] as const;
export type Action = (typeof ACTIONS)[number];

/** `status` attribute of a reply-to ReasonForContact, manual p.29. */
export const REPLY_STATUSES = ['accepted', 'failed', 'busy'] as const;
export type ReplyStatus = (typeof REPLY_STATUSES)[number];

/** Per-item `status` values a phone may report, manual p.26 (note the spaces). */
export const ITEM_STATUSES = [
  'failed',
  'unknown item',
  'read only',
  'invalid index',
  'unexpected item',
  'not supported',
  'invalid data',
  'undefined status',
] as const;
export type ItemStatus = (typeof ITEM_STATUSES)[number];

export type Fragment = 'next' | 'final';

export interface Item {
  name: string;
  /** Multi-instance number; 0 is a real index, `undefined` means "no index". */
  index?: number;
  value: string;
  /** Only in phone messages. Unknown strings are kept as sent. */
  status?: string;
}

export interface WorkpointMessage {
  nonce: string;
  /** -1 = unlimited (the usual value); absent when the phone did not send it. */
  maxItems?: number;
  fragment?: Fragment;
  reason: ReasonForContact;
  /** `action` attribute of ReasonForContact (reply-to). Kept as sent. */
  action?: string;
  /** `status` attribute of ReasonForContact (reply-to). Kept as sent. */
  status?: string;
  items: Item[];
}

export interface DLSMessage {
  nonce: string;
  action: Action;
  items: Item[];
}

/** The phone's 50 kB message limit (manual p.69). */
export const MAX_MESSAGE_BYTES = 50 * 1024;
