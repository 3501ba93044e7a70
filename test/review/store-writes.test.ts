/**
 * Review of the store's writes (093005a, 0ac9363): items written as a diff through json_each, and
 * revocations committed with the exchange that causes them.
 */
import { describe, expect, it } from 'vitest';
import { Store } from '../../src/main/store';
import type { Item } from '../../src/main/wpi';
import { withRawDb } from '../support/raw-db';
import { exchangeRecord } from '../support/records';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();
const MAC = '00:1A:E8:00:00:01';
const device = { mac: MAC, lastAddress: '127.0.0.1' };

describe('review: items through json_each', () => {
  it('held: values JSON or SQLite could mangle come back exactly, as text', () => {
    const store = new Store(newDir());
    // The longest value a phone can send fits one 256 kB message (and a device's set, 1,000,000 characters).
    const values = ['"q"', 'back\\slash\\', 'a\u2028b\u2029c', '😀𝄞', '007', '1e5', '-0', 'true', 'null', '[1,2]', '{"a":1}', "it's", '\t\n\r', '', 'x'.repeat(200_000)];
    const items: Item[] = values.map((value, i) => ({ name: `n${i}`, value, status: i % 2 ? 'failed' : '' }));
    items.push({ name: 'z', value: 'none' }, { name: 'z', index: 0, value: 'zero' }, { name: 'z', index: 1, value: 'one' });
    store.commit(exchangeRecord(), { device, replaceItems: items }, null);
    const got = store.items(MAC);
    expect(got).toHaveLength(items.length);
    for (const it of items) {
      const g = got.find((x) => x.name === it.name && x.index === (it.index ?? null));
      expect(g?.value, it.name).toBe(it.value);
      expect(g?.status, it.name).toBe(it.status ?? null);
    }
    // Index 0 and no index stay apart through the delete-not-in as well.
    store.commit(exchangeRecord({ ended: 2000 }), { device, replaceItems: [{ name: 'z', index: 0, value: 'zero' }] }, null);
    expect(store.items(MAC).map((i) => [i.name, i.index, i.value, i.updated])).toEqual([['z', 0, 'zero', 1005]]);
    store.close();
  });

  it('held: 10,000 items with many duplicates, replaced, leave one row per name and index, later wins', () => {
    const store = new Store(newDir());
    const big: Item[] = Array.from({ length: 10_000 }, (_, i) => ({ name: `item-${i % 2500}`, ...(i % 2 ? { index: i % 7 } : {}), value: `v${i}` }));
    store.commit(exchangeRecord(), { device, replaceItems: big }, null);
    const last = new Map(big.map((b) => [`${b.name}|${b.index ?? ''}`, b.value]));
    const got = store.items(MAC);
    expect(got).toHaveLength(last.size);
    for (const g of got) expect(g.value).toBe(last.get(`${g.name}|${g.index ?? ''}`));
    store.close();
  });

  // FINDING (low): "an unchanged item keeps the time it last changed" does not hold when one batch
  // names an item twice (A then B, B already stored): the intermediate row is written and the
  // item's `updated` moves though its value did not change.
  it('keeps the time of an item a batch names twice but leaves as it was', () => {
    const store = new Store(newDir());
    store.commit(exchangeRecord({ ended: 1000 }), { device, mergeItems: [{ name: 'd', value: 'B' }] }, null);
    store.commit(exchangeRecord({ ended: 2000 }), { device, mergeItems: [{ name: 'd', value: 'A' }, { name: 'd', value: 'B' }] }, null);
    expect(store.items(MAC)).toMatchObject([{ name: 'd', value: 'B', updated: 1000 }]);
    store.close();
  });
});

describe('review: a revocation commits with its exchange', () => {
  it('held: when the exchange cannot be recorded, neither the revocation nor the device change is kept; the retry keeps both', () => {
    const dir = newDir();
    const store = new Store(dir);
    store.commit(exchangeRecord(), { device, mode: 'secure', certSerial: '0A0B' }, null);
    withRawDb(dir, (db) => db.exec(`CREATE TRIGGER fail_exchange BEFORE INSERT ON exchanges BEGIN SELECT RAISE(ABORT, 'disk trouble'); END`));
    const reset = { device, mode: 'default' as const, bootstrap: null, certSerial: null, revoke: { serial: '0A0B', reason: 'factory reset' } };
    expect(() => store.commit(exchangeRecord({ ended: 2000 }), reset, null)).toThrow(/disk trouble/);
    expect(store.isRevoked('0A0B')).toBe(false);
    expect(store.device(MAC)).toMatchObject({ mode: 'secure', certSerial: '0A0B' });
    withRawDb(dir, (db) => db.exec(`DROP TRIGGER fail_exchange`));
    store.commit(exchangeRecord({ ended: 3000 }), reset, null);
    expect(store.isRevoked('0a0b')).toBe(true);
    expect(store.device(MAC)).toMatchObject({ mode: 'default', certSerial: null });
    // Another process sees it at once (the Secure-Mode listener's check reads the table).
    const other = new Store(dir);
    expect(other.isRevoked('0A0B')).toBe(true);
    other.close();
    store.close();
  });
});
