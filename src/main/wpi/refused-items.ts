import type { WorkpointMessage } from './types';

/**
 * How many items the phone refused in its reply to a write, judged from the message alone (relay
 * mode, where another DLS decides, and stored replies): in an accepted reply-to WriteItems every
 * item that carries a status is one it did not take (manual p.82–83: `failed`, `read only`,
 * `unknown item`, `invalid data`, …). A busy reply refuses nothing (the phone is in a call), nor do
 * start-ups and reads, which mark items the phone cannot provide the same way. The service itself
 * counts what its engine decided (provisioning/decide.ts), which also covers a reply without its
 * action attribute and one in fragments.
 */
export function refusedItemCount(m: Pick<WorkpointMessage, 'reason' | 'action' | 'status' | 'items'>): number {
  if (m.reason !== 'reply-to' || m.action !== 'WriteItems' || m.status !== 'accepted') return 0;
  let n = 0;
  for (const item of m.items) if (item.status !== undefined) n++;
  return n;
}
