/**
 * A device's current items, kept as one row per device (migration 12): the set as JSON
 * `[[name, index, value, status, updated], …]`, compressed like a body (store/body-codec.ts).
 *
 * Why not a row per item (migrations 1–11): a phone's first complete read brings 300–600 items, and
 * inserting them into a B-tree, plus the pages that commit then writes, was about a seventh of a boot
 * storm's CPU (issue #14; skipping the writes altogether measured 9–21 % less CPU per exchange).
 * Items are only ever read and written per device (the device view, the plan of what a commit
 * changes, a profile's diff), never searched across devices, so nothing is lost. A commit that
 * changes nothing about a device's items does not rewrite its set.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { DeviceItem } from '../../shared/model';
import { packBody, unpackBody } from './body-codec';

/** One item as kept: `updated` is when its value or status last changed. */
export type StoredItem = DeviceItem;

/**
 * The most a device's set holds. A phone reports about 600 items, some 35 kB (wpi-items.tsv, with
 * indexed ones); every commit with items reads the whole set and one that changes it writes it
 * all, in one turn of the event loop. So a host inventing new names, or long values, in every
 * message (each up to 256 kB) must not grow it without bound: at most this many items, and this
 * many characters of names, values and statuses (a set at the limit reads and writes in a few ms).
 */
export const MAX_ITEMS_PER_DEVICE = 10_000;
export const MAX_ITEM_SET_CHARS = 1_000_000;

/** What an item counts towards MAX_ITEM_SET_CHARS. */
export const itemChars = (i: { name: string; value: string; status?: string | null }): number => i.name.length + i.value.length + (i.status?.length ?? 0);

/** A stored set that does not read back: damaged outside LocalDLS (not a newer version's format). */
export class DamagedItemSetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DamagedItemSetError';
  }
}

/** Name and index as one key: a name, or a name and its index, is one item. */
export const itemKey = (name: string, index: number | null | undefined): string => `${name}\u0000${index ?? ''}`;

type Encoded = [name: string, index: number | null, value: string, status: string | null, updated: number];

interface SetRow { items: Uint8Array; encoding: string | null; size: number }

export class ItemSets {
  private prepared: Record<'get' | 'put', Statement> | null = null;

  constructor(private readonly db: Database) {}

  private get st(): Record<'get' | 'put', Statement> {
    const db = this.db;
    return (this.prepared ??= {
      get: db.prepare(`SELECT items, encoding, size FROM item_sets WHERE mac = ?`),
      put: db.prepare(`INSERT INTO item_sets (mac, items, encoding, size) VALUES (@mac, @items, @encoding, @size)
        ON CONFLICT (mac) DO UPDATE SET items = excluded.items, encoding = excluded.encoding, size = excluded.size`),
    });
  }

  /** The device's items by itemKey (empty when it has none). Throws, naming the device, for a damaged set. */
  read(mac: string): Map<string, StoredItem> {
    const out = new Map<string, StoredItem>();
    for (const item of this.list(mac)) out.set(itemKey(item.name, item.index), item);
    return out;
  }

  /** The device's items, ordered by name and index as SQLite orders text (by code point). */
  items(mac: string): StoredItem[] {
    return this.list(mac).sort(byNameAndIndex);
  }

  /** Replaces the device's set. */
  write(mac: string, items: Iterable<StoredItem>): void {
    const encoded: Encoded[] = [];
    for (const i of items) encoded.push([i.name, i.index, i.value, i.status, i.updated]);
    const packed = packBody(Buffer.from(JSON.stringify(encoded), 'utf8'));
    this.st.put.run({ mac, items: packed.bytes, encoding: packed.encoding, size: packed.size });
  }

  private list(mac: string): StoredItem[] {
    const row = this.st.get.get(mac) as SetRow | undefined;
    if (!row) return [];
    const what = `the item set of device ${mac}`;
    let parsed: unknown;
    try {
      parsed = JSON.parse(unpackBody(row.items, row.encoding, row.size, what).toString('utf8'));
    } catch (e) {
      // An encoding this version does not know is a newer LocalDLS's, not damage: unpackBody says so.
      if (row.encoding !== null && row.encoding !== 'deflate-raw') throw e;
      if (e instanceof SyntaxError) throw new DamagedItemSetError(`${what} is not readable JSON (${e.message}): the database is damaged`);
      throw new DamagedItemSetError(e instanceof Error ? e.message : String(e));
    }
    if (!Array.isArray(parsed)) throw new DamagedItemSetError(`${what} is not a list: the database is damaged`);
    return parsed.map((e: unknown) => {
      if (!isEncoded(e)) throw new DamagedItemSetError(`${what} holds an entry that is not [name, index, value, status, updated]: the database is damaged`);
      return { name: e[0], index: e[1], value: e[2], status: e[3], updated: e[4] };
    });
  }
}

function isEncoded(e: unknown): e is Encoded {
  return (
    Array.isArray(e) && e.length === 5 && typeof e[0] === 'string' && (e[1] === null || Number.isInteger(e[1])) &&
    typeof e[2] === 'string' && (e[3] === null || typeof e[3] === 'string') && typeof e[4] === 'number'
  );
}

/** SQLite's BINARY order of UTF-8 text is code point order; JavaScript's < is UTF-16 code unit order. */
function compareText(a: string, b: string): number {
  if (a === b) return 0;
  const surrogates = /[\uD800-\uDFFF]/;
  if (!surrogates.test(a) && !surrogates.test(b)) return a < b ? -1 : 1;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** No index sorts first, as idx -1 did in the items table. */
function byNameAndIndex(x: StoredItem, y: StoredItem): number {
  return compareText(x.name, y.name) || (x.index ?? -1) - (y.index ?? -1);
}
