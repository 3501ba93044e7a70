/**
 * Splitting an item list into messages that respect `maxItems` and the 50 kB limit (manual
 * p.69–71). Items that must travel together share a group key and are never separated; a group
 * larger than the limit goes alone (the phone's limit cannot be met, and breaking it is worse).
 */
import { itemXml } from './build';
import { MAX_MESSAGE_BYTES, type Item } from './types';

export interface SplitLimits {
  /** The phone's maxItems; -1 or undefined = unlimited. */
  maxItems?: number;
  /** Budget for the serialized items of one message. */
  maxBytes?: number;
  /** Items with the same key stay in one message. Default: every item on its own. */
  groupOf?: (item: Item) => string;
}

/**
 * Room left for the envelope (declaration, root, Message, ReasonForContact/Action). With a
 * 256-character nonce, maxItems, fragment and a reply-to action/status it is about 680 bytes.
 */
const ENVELOPE_BYTES = 1024;

export function splitItems(items: readonly Item[], limits: SplitLimits = {}): Item[][] {
  const maxItems = limits.maxItems === undefined || limits.maxItems < 0 ? Infinity : Math.max(1, limits.maxItems);
  const maxBytes = (limits.maxBytes ?? MAX_MESSAGE_BYTES) - ENVELOPE_BYTES;
  const chunks: Item[][] = [];
  let current: Item[] = [];
  let currentBytes = 0;
  for (const group of groups(items, limits.groupOf)) {
    const bytes = group.reduce((sum, i) => sum + Buffer.byteLength(itemXml(i, true)) + 7, 0);
    const fits = current.length + group.length <= maxItems && currentBytes + bytes <= maxBytes;
    if (!fits && current.length > 0) {
      chunks.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(...group);
    currentBytes += bytes;
  }
  if (current.length > 0 || chunks.length === 0) chunks.push(current);
  return chunks;
}

function groups(items: readonly Item[], groupOf?: (item: Item) => string): Item[][] {
  if (!groupOf) return items.map((i) => [i]);
  const byKey = new Map<string, Item[]>();
  for (const item of items) {
    const key = groupOf(item);
    const group = byKey.get(key);
    if (group) group.push(item);
    else byKey.set(key, [item]);
  }
  return [...byKey.values()];
}
