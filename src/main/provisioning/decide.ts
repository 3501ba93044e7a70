/**
 * What the service answers to one complete phone message, and what that message changes.
 * Pure: (message, device state) -> decision. Flows from the manual: start-up p.32–35, local
 * changes p.37–38, read p.42–45, error handling p.77–83, busy p.72–76.
 */
import type { Action, Item, WorkpointMessage } from '../wpi';
import type { Device } from '../../shared/model';
import type { Changes, DeviceUpsert } from '../store';

export interface Decision {
  answer: { action: Action; items: Item[] };
  changes: Changes;
  /** Set when this answer ends the interaction (CleanUp, Restart, …). */
  ends: string | null;
  /** Something a person should notice (shown in the traffic view), the exchange still succeeds. */
  warning?: string;
}

/** A message that is valid XML but that the service cannot act on: answered with HTTP 400. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

/** Reasons that open an interaction and carry the phone's identity items (manual p.27). */
export const FIRST_MESSAGE_REASONS = new Set(['start-up', 'solicited', 'local-changes', 'inventory-changes']);

export interface DecisionInput {
  message: WorkpointMessage;
  /** The device this message belongs to: from mac-addr, or from the session for reply-to. */
  mac: string | null;
  device: Device | undefined;
  peerAddress: string;
}

const cleanUp = (items: Item[] = []) => ({ action: 'CleanUp' as const, items });

export function decide(input: DecisionInput): Decision {
  const { message, mac } = input;
  switch (message.reason) {
    case 'start-up':
    case 'solicited':
    case 'local-changes':
    case 'inventory-changes':
      return firstMessage(input);
    case 'reply-to':
      return replyTo(message, mac);
    case 'status':
      // File deployment result (manual p.52–54): keep the file-deployment-* items.
      return { answer: cleanUp(), changes: { mergeItems: message.items, state: 'idle' }, ends: 'CleanUp' };
    case 'clean-up': {
      const why = itemValue(message.items, 'cleanup-reason');
      return {
        answer: cleanUp(),
        changes: { state: 'idle' },
        ends: why ? `phone clean-up: ${why}` : 'phone clean-up',
      };
    }
  }
}

function firstMessage({ message, device, peerAddress }: DecisionInput): Decision {
  const rawMac = itemValue(message.items, 'mac-addr');
  if (rawMac === undefined || rawMac === '') {
    throw new ProtocolError(`${message.reason} without a mac-addr item: the phone cannot be identified`);
  }
  const mac = normalizeMac(rawMac);
  if (!mac) throw new ProtocolError(`mac-addr "${rawMac.slice(0, 40)}" is not a MAC address`);
  const upsert: DeviceUpsert = { mac, lastAddress: peerAddress };
  const set = (key: keyof Omit<DeviceUpsert, 'mac' | 'lastAddress'>, item: string) => {
    const v = itemValue(message.items, item);
    if (v !== undefined && v !== '') upsert[key] = v;
  };
  set('e164', 'e164');
  set('deviceType', 'device-type');
  set('softwareVersion', 'software-version');
  set('partNumber', 'part-number');
  set('contactMeUri', 'contact-me-uri');
  const changed = itemValue(message.items, 'configuration-changed-flag') === 'true';
  // A known phone whose configuration is unchanged need not be read again (manual p.34).
  const read = device === undefined || changed;
  return {
    answer: read ? { action: 'ReadAllItems', items: [] } : cleanUp(),
    changes: {
      device: upsert,
      mergeItems: message.items,
      openInteraction: { reason: message.reason },
      state: read ? 'in-interaction' : 'idle',
    },
    ends: read ? null : 'CleanUp',
  };
}

function replyTo(message: WorkpointMessage, mac: string | null): Decision {
  const done = (changes: Changes, warning?: string): Decision => ({
    answer: cleanUp(),
    changes: { ...changes, state: 'idle' },
    ends: 'CleanUp',
    ...(warning ? { warning } : {}),
  });
  if (mac === null) return done({}, 'reply-to outside any known interaction (no session cookie or address match)');
  const action = message.action ?? '';
  switch (message.status) {
    case 'accepted':
      if (action === 'ReadAllItems') return done({ replaceItems: message.items });
      if (action === 'ReadItems') return done({ mergeItems: message.items });
      return done({}, itemErrors(message.items));
    case 'failed':
      return done({}, `the phone refused ${action || 'the action'} (status failed)`);
    case 'busy':
      return done({}, `the phone is busy and did not accept ${action || 'the action'}`);
    default:
      return done({}, `reply-to with unexpected status "${message.status ?? ''}"`);
  }
}

/** Per-item error statuses inside an accepted reply (manual p.77–83). */
function itemErrors(items: readonly Item[]): string | undefined {
  const failed = items.filter((i) => i.status !== undefined);
  if (failed.length === 0) return undefined;
  return failed
    .slice(0, 5)
    .map((i) => `${i.name}${i.index !== undefined ? `[${i.index}]` : ''}: ${i.status}`)
    .join(', ') + (failed.length > 5 ? ` (+${failed.length - 5} more)` : '');
}

export function itemValue(items: readonly Item[], name: string): string | undefined {
  return items.find((i) => i.name === name)?.value;
}

/** Canonical MAC form: upper-case hex pairs joined by colons (manual example 00:01:E3:25:EA:13). */
export function normalizeMac(raw: string): string | null {
  const hex = raw.trim().replace(/[:\-.]/g, '');
  if (!/^[0-9a-fA-F]{12}$/.test(hex)) return null;
  return hex.toUpperCase().match(/../g)!.join(':');
}
