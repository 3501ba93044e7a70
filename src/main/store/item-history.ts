/**
 * The history of a device's item values: every commit that changes what the phone reported adds
 * one row per item, old -> new. Values are stored as the items table stores them (key material
 * already redacted before the commit); the views mask secret items as everywhere else.
 *
 * A phone's first complete read (ReadAllItems) is not a list of changes: the hundreds of items it
 * brings are one FIRST_READ row holding their count (the exchange itself keeps every value), and
 * only the values it changes of what start-up reported before are listed. Writing one history row
 * per item of every new phone cost a third of a boot storm's CPU (docs/benchmarks.md).
 */
import type { Database, Statement } from 'better-sqlite3';
import type { Item } from '../wpi';
import { itemChars, itemKey as key, type StoredItem } from './item-sets';

export interface ItemChangeRow {
  name: string;
  index: number | null;
  /** null: the item was new. */
  oldValue: string | null;
  /** null: the item is gone (a complete read without it). */
  newValue: string | null;
}

/** What one commit writes to a device's items, and the history rows it adds (ItemHistory.plan). */
export interface ItemPlan {
  /** New, or value or status changed (their `updated` is the commit's time). */
  write: StoredItem[];
  /** Gone: a complete set without them. */
  remove: StoredItem[];
  history: ItemChangeRow[];
  /** The device's items after the commit, by itemKey: unchanged ones keep their stored time. */
  after: Map<string, StoredItem>;
  /** Items not kept because the set would pass its limits (items or characters). */
  dropped: number;
}

export interface StoredItemChange extends ItemChangeRow {
  id: number;
  mac: string;
  exchangeId: number | null;
  at: number;
}

/** The name of the row that stands for a first complete read: no XML name is empty. */
export const FIRST_READ = '';

export class ItemHistory {
  private prepared: Record<'insert' | 'forMac', Statement> | null = null;

  constructor(private readonly db: Database) {}

  /** Prepared on first use: a read-only store of an older schema never needs them. */
  private get st(): Record<'insert' | 'forMac', Statement> {
    const db = this.db;
    return (this.prepared ??= {
      insert: db.prepare(`INSERT INTO item_changes (mac, exchange_id, at, name, idx, old_value, new_value) VALUES (@mac, @exchangeId, @at, @name, @idx, @oldValue, @newValue)`),
      forMac: db.prepare(`SELECT id, mac, exchange_id, at, name, idx, old_value, new_value FROM item_changes WHERE mac = ? ORDER BY id DESC LIMIT ?`),
    });
  }

  /**
   * What writing `replace` (a complete set) and then `merge` at `at` changes, against the items
   * stored now (`stored`, by itemKey: store/item-sets.ts): the items to write (new, or value or
   * status changed; a name and index named twice counts once, the last one), those gone (a complete
   * set without them), the history rows, and the set after. Unchanged items keep their time. A set
   * holds at most `limits.items` items and `limits.chars` characters (itemChars): an item that
   * would pass either is dropped (a new one, or the change of a kept one) and counted.
   */
  plan(
    stored: ReadonlyMap<string, StoredItem>, replace: readonly Item[] | undefined, merge: readonly Item[] | undefined, at: number, firstRead = false,
    limits: { items: number; chars: number } = { items: Infinity, chars: Infinity },
  ): ItemPlan {
    const after = new Map(replace ? [] : stored);
    const plan: ItemPlan = { write: [], remove: [], history: [], after, dropped: 0 };
    if (!replace && !merge) return plan;
    let chars = 0;
    for (const i of after.values()) chars += itemChars(i);
    for (const list of [replace, merge]) {
      for (const i of list ?? []) {
        const k = key(i.name, i.index);
        const was = after.get(k);
        const grown = chars - (was ? itemChars(was) : 0) + itemChars(i);
        if ((!was && after.size >= limits.items) || grown > limits.chars) {
          plan.dropped++;
          continue;
        }
        chars = grown;
        after.set(k, { name: i.name, index: i.index ?? null, value: i.value, status: i.status ?? null, updated: at });
      }
    }
    let added = 0;
    for (const [k, now] of after) {
      const was = stored.get(k);
      if (was !== undefined && was.value === now.value && was.status === now.status) {
        after.set(k, was);
        continue;
      }
      plan.write.push(now);
      if (firstRead && was === undefined) added++;
      else if (was?.value !== now.value) plan.history.push({ name: now.name, index: now.index, oldValue: was?.value ?? null, newValue: now.value });
    }
    if (added > 0) plan.history.unshift({ name: FIRST_READ, index: null, oldValue: null, newValue: String(added) });
    for (const [k, was] of stored) {
      if (after.has(k)) continue;
      plan.remove.push(was);
      plan.history.push({ name: was.name, index: was.index, oldValue: was.value, newValue: null });
    }
    return plan;
  }

  record(mac: string, changes: readonly ItemChangeRow[], exchangeId: number | null, at: number): void {
    for (const c of changes) this.st.insert.run({ mac, exchangeId, at, name: c.name, idx: c.index, oldValue: c.oldValue, newValue: c.newValue });
  }

  /** A device's newest changes first. */
  forMac(mac: string, limit: number): StoredItemChange[] {
    return (this.st.forMac.all(mac, limit) as Row[]).map((r) => ({
      id: r.id, mac: r.mac, exchangeId: r.exchange_id, at: r.at, name: r.name, index: r.idx, oldValue: r.old_value, newValue: r.new_value,
    }));
  }
}

interface Row { id: number; mac: string; exchange_id: number | null; at: number; name: string; idx: number | null; old_value: string | null; new_value: string | null }
