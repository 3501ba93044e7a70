/**
 * The boot storm's write path (issue #14): a device's items kept as one set per device
 * (migration 12, store/item-sets.ts), and a phone's first complete read kept in the item history as
 * one row with its count instead of one row per item. Real databases, read back through a second
 * connection.
 */
import BetterSqlite3 from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIRST_READ, MIGRATIONS, migrate, Store, type Changes } from '../../src/main/store';
import type { Item } from '../../src/main/wpi';
import { DATABASE_FILE } from '../../src/main/store/data-dir';
import { MAX_ITEM_SET_CHARS, MAX_ITEMS_PER_DEVICE } from '../../src/main/store/item-sets';
import { exchangeRecord } from '../support/records';
import { withRawDb } from '../support/raw-db';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();
const MAC = '00:1A:E8:00:00:01';
const OTHER = '00:1A:E8:00:00:02';

const inventory = (n: number, changed: Record<string, string> = {}): Item[] =>
  Array.from({ length: n }, (_, i) => {
    const name = `item-${String(i).padStart(4, '0')}`;
    return { name, ...(i % 3 === 0 ? { index: i % 7 } : {}), value: changed[name] ?? `value ${i}` };
  });

function commitRead(store: Store, mac: string, items: Item[], at: number, kind: 'replace' | 'merge' = 'replace') {
  const changes: Changes = { device: { mac, lastAddress: '127.0.0.1' }, ...(kind === 'replace' ? { replaceItems: items } : { mergeItems: items }) };
  return store.commit(exchangeRecord({ mac, started: at, ended: at }), changes, null);
}

const historyOf = (dir: string, mac: string) =>
  withRawDb(dir, (db) => db.prepare(`SELECT name, idx, old_value, new_value FROM item_changes WHERE mac = ? ORDER BY id`).all(mac) as { name: string; idx: number | null; old_value: string | null; new_value: string | null }[]);

describe('item history of a boot storm', () => {
  it('writes a first complete read as one row with its count, and later reads item by item', () => {
    const dir = newDir();
    const store = new Store(dir);
    // start-up names two items first; the complete read brings 600, one of start-up's with a new value.
    commitRead(store, MAC, [{ name: 'item-0001', value: 'from start-up' }, { name: 'e164', value: '100' }], 1000, 'merge');
    expect(historyOf(dir, MAC)).toHaveLength(2);
    commitRead(store, MAC, inventory(600), 2000);
    const afterFirst = historyOf(dir, MAC).slice(2);
    expect(afterFirst).toEqual([
      { name: FIRST_READ, idx: null, old_value: null, new_value: '599' },
      { name: 'item-0001', idx: null, old_value: 'from start-up', new_value: 'value 1' },
      { name: 'e164', idx: null, old_value: '100', new_value: null },
    ]);
    expect(store.items(MAC)).toHaveLength(600);

    // The second complete read lists what changed, and an item new to it, one by one.
    commitRead(store, MAC, [...inventory(600, { 'item-0005': 'changed' }), { name: 'added-later', value: 'x' }], 3000);
    expect(historyOf(dir, MAC).slice(5)).toEqual([
      { name: 'item-0005', idx: null, old_value: 'value 5', new_value: 'changed' },
      { name: 'added-later', idx: null, old_value: null, new_value: 'x' },
    ]);
    // Another phone's first read is its own.
    commitRead(store, OTHER, inventory(10), 4000);
    expect(historyOf(dir, OTHER)).toEqual([{ name: FIRST_READ, idx: null, old_value: null, new_value: '10' }]);
    store.close();
  });

  it('a first read that brings nothing new writes no count row', () => {
    const dir = newDir();
    const store = new Store(dir);
    commitRead(store, MAC, [{ name: 'a', value: '1' }], 1000, 'merge');
    commitRead(store, MAC, [{ name: 'a', value: '1' }], 2000);
    expect(historyOf(dir, MAC)).toEqual([{ name: 'a', idx: null, old_value: null, new_value: '1' }]);
    store.close();
  });
});

const setRow = (dir: string, mac: string) =>
  withRawDb(dir, (db) => db.prepare(`SELECT items, encoding, size FROM item_sets WHERE mac = ?`).get(mac) as { items: Buffer; encoding: string | null; size: number } | undefined);

describe('items as one set per device (migration 12)', () => {
  it('stores no index and index 0 apart, and a phone repeating an item keeps the last value', () => {
    const dir = newDir();
    const store = new Store(dir);
    commitRead(store, MAC, [{ name: 'k', value: 'none' }, { name: 'k', index: 0, value: 'zero' }, { name: 'k', index: 0, value: 'zero again' }, { name: 'k', index: 2, value: 'two' }], 1000);
    expect(store.items(MAC).map((i) => [i.name, i.index, i.value])).toEqual([['k', null, 'none'], ['k', 0, 'zero again'], ['k', 2, 'two']]);
    // A complete read without index 2 removes it, and only it.
    commitRead(store, MAC, [{ name: 'k', value: 'none' }, { name: 'k', index: 0, value: 'zero again' }], 2000);
    expect(store.items(MAC).map((i) => [i.index, i.value, i.updated])).toEqual([[null, 'none', 1000], [0, 'zero again', 1000]]);
    // Only what changed is written: a new status on the same value is, the rest keeps its time.
    commitRead(store, MAC, [{ name: 'k', value: 'none', status: 'read only' }, { name: 'k', index: 0, value: 'zero again' }], 3000);
    expect(store.items(MAC).map((i) => [i.index, i.status, i.updated])).toEqual([[null, 'read only', 3000], [0, null, 1000]]);
    withRawDb(dir, (db) => {
      expect(db.prepare(`SELECT count(*) AS n FROM sqlite_master WHERE name = 'items'`).get()).toEqual({ n: 0 });
      expect(db.prepare(`SELECT count(*) AS n FROM item_sets`).get()).toEqual({ n: 1 });
    });
    store.close();
  });

  it('migrates a version-8 database: every item kept, devices with items count as read, no free pages left', () => {
    const dir = newDir();
    const db = new BetterSqlite3(join(dir, 'localdls.sqlite'));
    db.pragma('auto_vacuum = INCREMENTAL');
    db.pragma('journal_mode = WAL');
    for (const sql of MIGRATIONS.slice(0, 8)) db.exec(sql as string);
    db.pragma('user_version = 8');
    const device = db.prepare(`INSERT INTO devices (mac, first_contact, last_contact) VALUES (?, 1, ?)`);
    device.run(MAC, 500);
    device.run(OTHER, 600);
    const item = db.prepare(`INSERT INTO items (mac, name, idx, value, status, updated) VALUES (?, ?, ?, ?, ?, ?)`);
    for (let i = 0; i < 300; i++) item.run(MAC, `n${i}`, i % 2 ? null : i, `v${i}`, i === 7 ? 'failed' : null, 100 + i);
    db.close();

    expect(migrate(new BetterSqlite3(join(dir, 'localdls.sqlite')))).toBe(MIGRATIONS.length);
    const store = new Store(dir);
    const items = store.items(MAC);
    expect(items).toHaveLength(300);
    expect(items.find((i) => i.name === 'n7')).toEqual({ name: 'n7', index: null, value: 'v7', status: 'failed', updated: 107 });
    expect(items.find((i) => i.name === 'n0')).toMatchObject({ index: 0, value: 'v0' });
    // MAC had items before: its next complete read is listed item by item. OTHER had none.
    commitRead(store, MAC, [{ name: 'n0', index: 0, value: 'new' }], 2000);
    expect(historyOf(dir, MAC).some((c) => c.name === FIRST_READ)).toBe(false);
    commitRead(store, OTHER, inventory(5), 2000);
    expect(historyOf(dir, OTHER)).toEqual([{ name: FIRST_READ, idx: null, old_value: null, new_value: '5' }]);
    store.close();
    withRawDb(dir, (raw) => expect(raw.pragma('freelist_count', { simple: true })).toBe(0));
  });

  it('keeps a first read of 600 items as one compressed row, and rewrites it only when something changed', () => {
    const dir = newDir();
    const store = new Store(dir);
    commitRead(store, MAC, inventory(600), 1000);
    const first = setRow(dir, MAC)!;
    expect(first.encoding).toBe('deflate-raw');
    expect(first.items.length).toBeLessThan(first.size / 3);
    // The same values again (start-up repeats some of them at every boot): the row is not written.
    commitRead(store, MAC, inventory(20), 2000, 'merge');
    expect(setRow(dir, MAC)!.items.equals(first.items)).toBe(true);
    commitRead(store, MAC, [{ name: 'item-0002', value: 'new' }], 3000, 'merge');
    expect(setRow(dir, MAC)!.items.equals(first.items)).toBe(false);
    const items = store.items(MAC);
    expect(items).toHaveLength(600);
    expect(items.find((i) => i.name === 'item-0002')).toEqual({ name: 'item-0002', index: null, value: 'new', status: null, updated: 3000 });
    expect(items.find((i) => i.name === 'item-0001')).toMatchObject({ updated: 1000 });
    store.close();
  });

  it('lists items by name and index in code point order, no index first, as SQLite ordered them', () => {
    const dir = newDir();
    const store = new Store(dir);
    const names = ['b', 'a', '\uFF21', '\u{1F600}', 'a'];
    commitRead(store, MAC, names.map((name, i) => ({ name, ...(i === 4 ? { index: 0 } : {}), value: String(i) })), 1000);
    expect(store.items(MAC).map((i) => [i.name, i.index])).toEqual([['a', null], ['a', 0], ['b', null], ['\uFF21', null], ['\u{1F600}', null]]);
    store.close();
  });

  it("a damaged set is refused naming the device; its phone's next message replaces it and says so", () => {
    const dir = newDir();
    const store = new Store(dir);
    commitRead(store, MAC, inventory(50), 1000);
    commitRead(store, OTHER, inventory(5), 1000);
    const damage = (items: Buffer, encoding: string | null, size: number) =>
      withRawDb(dir, (db) => db.prepare(`UPDATE item_sets SET items = ?, encoding = ?, size = ? WHERE mac = ?`).run(items, encoding, size, MAC));
    damage(Buffer.from('[["a", null, "v", null]]'), null, 24);
    expect(() => store.items(MAC)).toThrow(/item set of device 00:1A:E8:00:00:01 .*damaged/);
    damage(Buffer.from('not json'), null, 8);
    expect(() => store.items(MAC)).toThrow(/item set of device 00:1A:E8:00:00:01 is not readable JSON/);
    damage(Buffer.from('garbage'), 'deflate-raw', 100);
    expect(() => store.items(MAC)).toThrow(/item set of device 00:1A:E8:00:00:01 does not unpack/);
    expect(store.items(OTHER)).toHaveLength(5);
    // The phone's items are what it reports: its next message is stored, and replaces the set.
    const next = commitRead(store, MAC, [{ name: 'x', value: '1' }], 2000, 'merge');
    expect(store.exchange(next.exchangeId)!.warning).toMatch(/^the item set of device 00:1A:E8:00:00:01 does not unpack .*; replaced by the items of this message$/);
    expect(store.items(MAC)).toEqual([{ name: 'x', index: null, value: '1', status: null, updated: 2000 }]);
    const after = commitRead(store, MAC, [{ name: 'y', value: '2' }], 3000, 'merge');
    expect(store.exchange(after.exchangeId)!.warning).toBeNull();
    expect(store.items(MAC)).toHaveLength(2);
    store.close();
  });

  it('migrates a version-11 database: every item of every device kept with its index, status and time', () => {
    const dir = newDir();
    const db = new BetterSqlite3(join(dir, DATABASE_FILE));
    db.pragma('auto_vacuum = INCREMENTAL');
    db.pragma('journal_mode = WAL');
    for (const sql of MIGRATIONS.slice(0, 11)) db.exec(sql as string);
    db.pragma('user_version = 11');
    const device = db.prepare(`INSERT INTO devices (mac, first_contact, last_contact, inventoried) VALUES (?, 1, 2, ?)`);
    device.run(MAC, 2);
    device.run(OTHER, null);
    const item = db.prepare(`INSERT INTO items (mac, name, idx, value, status, updated) VALUES (?, ?, ?, ?, ?, ?)`);
    const rows: [string, number, string, string | null, number][] = [];
    for (let i = 0; i < 400; i++) rows.push([`n${i % 150}`, i < 150 ? -1 : i, `v${i} "quoted" \\ \u00e9 \u{1F600}`, i === 7 ? 'failed' : null, 100 + i]);
    for (const r of rows) item.run(MAC, ...r);
    // A value or status stored as a BLOB (an edited database) still migrates, as text.
    item.run(OTHER, 'blob-item', -1, Buffer.from('as bytes'), Buffer.from('ok'), 7);
    db.close();

    const store = new Store(dir);
    withRawDb(dir, (raw) => {
      expect(raw.prepare(`SELECT count(*) AS n FROM sqlite_master WHERE name = 'items'`).get()).toEqual({ n: 0 });
      expect(raw.pragma('freelist_count', { simple: true })).toBe(0);
    });
    const items = store.items(MAC);
    expect(items).toHaveLength(400);
    const expected = rows.map(([name, idx, value, status, updated]) => ({ name, index: idx === -1 ? null : idx, value, status, updated }));
    expect(new Set(items.map((i) => JSON.stringify(i)))).toEqual(new Set(expected.map((i) => JSON.stringify(i))));
    expect(store.items(OTHER)).toEqual([{ name: 'blob-item', index: null, value: 'as bytes', status: 'ok', updated: 7 }]);
    // The migrated set is plain JSON; the next change writes it compressed.
    expect(setRow(dir, MAC)!.encoding).toBeNull();
    commitRead(store, MAC, [{ name: 'n1', value: 'changed' }], 5000, 'merge');
    expect(setRow(dir, MAC)!.encoding).toBe('deflate-raw');
    expect(store.items(MAC)).toHaveLength(400);
    store.close();
  });

  it(`keeps at most ${MAX_ITEMS_PER_DEVICE} items per device, says so on the exchange, and still takes changes to kept ones`, () => {
    const dir = newDir();
    const store = new Store(dir);
    const named = (prefix: string, n: number): Item[] => Array.from({ length: n }, (_, i) => ({ name: `${prefix}-${i}`, value: 'v' }));
    const first = commitRead(store, MAC, named('a', 6000), 1000, 'merge');
    expect(store.exchange(first.exchangeId)!.warning).toBeNull();
    const second = commitRead(store, MAC, [{ name: 'a-0', value: 'changed' }, ...named('b', 6000)], 2000, 'merge');
    expect(store.exchange(second.exchangeId)!.warning).toMatch(/^2000 item\(s\) not kept: this device's items reach the most LocalDLS keeps per device \(10000 items, 1000000 characters\)$/);
    const items = store.items(MAC);
    expect(items).toHaveLength(MAX_ITEMS_PER_DEVICE);
    expect(items.find((i) => i.name === 'a-0')!.value).toBe('changed');
    expect(items.some((i) => i.name === 'b-3999')).toBe(true);
    expect(items.some((i) => i.name === 'b-4000')).toBe(false);
    // A complete read replaces the set: within the limit, nothing is dropped.
    const third = commitRead(store, MAC, named('c', 10), 3000);
    expect(store.exchange(third.exchangeId)!.warning).toBeNull();
    expect(store.items(MAC)).toHaveLength(10);
    store.close();
  });

  it(`keeps at most ${MAX_ITEM_SET_CHARS} characters per device: long values past it are not kept, the set stays readable`, () => {
    const dir = newDir();
    const store = new Store(dir);
    const long = (prefix: string, n: number): Item[] => Array.from({ length: n }, (_, i) => ({ name: `${prefix}-${i}`, value: 'x'.repeat(20_000) }));
    // A hostile host sends 20 kB values, 12 per message: the set stops growing at the limit.
    let last = null as ReturnType<typeof commitRead> | null;
    for (let m = 0; m < 6; m++) last = commitRead(store, MAC, long(`m${m}`, 12), 1000 + m, 'merge');
    expect(store.exchange(last!.exchangeId)!.warning).toMatch(/^12 item\(s\) not kept/);
    const items = store.items(MAC);
    expect(items.reduce((n, i) => n + i.name.length + i.value.length, 0)).toBeLessThanOrEqual(MAX_ITEM_SET_CHARS);
    expect(items.length).toBe(49);
    // A change that keeps the size is still taken.
    commitRead(store, MAC, [{ name: 'm0-0', value: 'y'.repeat(20_000) }], 2000, 'merge');
    expect(store.items(MAC).find((i) => i.name === 'm0-0')!.value[0]).toBe('y');
    store.close();
  });

  it('a set in an encoding this version does not know is not taken for damage: the commit fails and the set is kept', () => {
    const dir = newDir();
    const store = new Store(dir);
    commitRead(store, MAC, inventory(5), 1000);
    withRawDb(dir, (db) => db.prepare(`UPDATE item_sets SET encoding = 'zstd' WHERE mac = ?`).run(MAC));
    expect(() => store.items(MAC)).toThrow(/encoding "zstd", which this LocalDLS cannot read: use a newer LocalDLS/);
    expect(() => commitRead(store, MAC, [{ name: 'x', value: '1' }], 2000, 'merge')).toThrow(/use a newer LocalDLS/);
    expect(setRow(dir, MAC)!.encoding).toBe('zstd');
    store.close();
  });
});
