import type { WorkpointMessage } from './types';

/**
 * How many items the phone refused in its reply to a write. In a reply-to WriteItems every item
 * that carries a status is one it did not take, inside an "accepted" reply (manual p.82–83:
 * `failed`, `read only`, `unknown item`, `invalid data`, …); the write's job fails with them.
 * Start-ups and reads mark items the phone cannot provide the same way, which refuses nothing.
 */
export function refusedItemCount(m: Pick<WorkpointMessage, 'reason' | 'action' | 'items'>): number {
  if (m.reason !== 'reply-to' || m.action !== 'WriteItems') return 0;
  let n = 0;
  for (const item of m.items) if (item.status !== undefined) n++;
  return n;
}
