/**
 * Bodies stored compactly (store/body-codec.ts, migration 11): what is read back is what was
 * received, byte for byte, whatever the body holds; the list shows sizes as received; a damaged
 * or altered row is refused with a clear error instead of returning wrong bytes or expanding
 * without bound.
 */
import { randomBytes } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../src/main/store';
import { BODY_PACK_MIN, packBody, unpackBody } from '../../src/main/store/body-codec';
import { exchangeRecord } from '../support/records';
import { withRawDb } from '../support/raw-db';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();
const stores: Store[] = [];
afterEach(() => stores.splice(0).forEach((s) => s.close()));

function open(): Store {
  const store = new Store(newDir(), { searchIndexing: 'manual', synchronous: 'OFF' });
  stores.push(store);
  return store;
}

const inventory = Buffer.from(
  `<?xml version="1.0" encoding="UTF-8"?><WorkpointMessage><Message nonce="N" maxItems="320"><ItemList>${Array.from(
    { length: 300 },
    (_, i) => `<Item name="item-${i % 50}" index="${i}">value ${i * 7919}</Item>`,
  ).join('')}</ItemList></Message></WorkpointMessage>`,
);

const BODIES: Record<string, Buffer> = {
  empty: Buffer.alloc(0),
  small: Buffer.from('<WorkpointMessage/>'),
  'just under the threshold': Buffer.alloc(BODY_PACK_MIN - 1, 'a'),
  'at the threshold': Buffer.alloc(BODY_PACK_MIN, 'a'),
  'an inventory (compresses)': inventory,
  'random bytes (do not compress)': randomBytes(40_000),
  'not UTF-8, repetitive': Buffer.concat(Array.from({ length: 200 }, () => Buffer.from([0xff, 0xfe, 0x00, 0x3c, 0xc3]))),
  'a deflate stream as the body': packBody(inventory).bytes,
};

describe('bodies stored compactly', () => {
  it('reads back every body exactly as received, and lists its size as received', () => {
    const store = open();
    const ids = new Map<string, number>();
    for (const [name, body] of Object.entries(BODIES)) {
      ids.set(name, store.commit(exchangeRecord({ requestBody: body, responseBody: Buffer.from(body).reverse() }), {}, null).exchangeId);
    }
    const stored = withRawDb(store.dataDir, (db) =>
      db.prepare('SELECT id, length(request_body) AS bytes, request_encoding AS encoding, request_size AS size FROM exchanges').all(),
    ) as { id: number; bytes: number; encoding: string | null; size: number }[];
    const row = (name: string) => stored.find((r) => r.id === ids.get(name))!;
    for (const [name, body] of Object.entries(BODIES)) {
      const x = store.exchange(ids.get(name)!)!;
      expect(Buffer.from(x.requestBody).equals(body), name).toBe(true);
      expect(Buffer.from(x.responseBody).equals(Buffer.from(body).reverse()), name).toBe(true);
      expect(x.requestBytes, name).toBe(body.length);
      expect(row(name).size, name).toBe(body.length);
    }
    const summaries = new Map(store.exchanges({ limit: 100 }).map((s) => [s.id, s]));
    for (const [name, body] of Object.entries(BODIES)) expect(summaries.get(ids.get(name)!)?.requestBytes, name).toBe(body.length);
    // What was stored how: small and incompressible bodies as received, the rest compressed.
    expect(row('small').encoding).toBeNull();
    expect(row('just under the threshold').encoding).toBeNull();
    expect(row('random bytes (do not compress)')).toMatchObject({ encoding: null, bytes: 40_000 });
    expect(row('at the threshold').encoding).toBe('deflate-raw');
    expect(row('an inventory (compresses)').encoding).toBe('deflate-raw');
    expect(row('an inventory (compresses)').bytes).toBeLessThan(inventory.length / 4);
  });

  it('still reads rows written before migration 11 (no encoding, no size)', () => {
    const store = open();
    const id = store.commit(exchangeRecord({ requestBody: inventory }), {}, null).exchangeId;
    withRawDb(store.dataDir, (db) =>
      db.prepare('UPDATE exchanges SET request_body = ?, request_encoding = NULL, request_size = NULL WHERE id = ?').run(inventory, id),
    );
    expect(Buffer.from(store.exchange(id)!.requestBody).equals(inventory)).toBe(true);
    expect(store.exchanges({ limit: 1 })[0]!.requestBytes).toBe(inventory.length);
  });

  it('refuses a damaged or altered row with an error that names it, and never expands past the recorded size', () => {
    const store = open();
    const id = store.commit(exchangeRecord({ requestBody: inventory }), {}, null).exchangeId;
    const set = (sql: string, ...args: unknown[]) => withRawDb(store.dataDir, (db) => db.prepare(sql).run(...args, id));
    set('UPDATE exchanges SET request_encoding = ? WHERE id = ?', 'zstd');
    expect(() => store.exchange(id)).toThrow(`exchange ${id}'s request body is stored with encoding "zstd", which this LocalDLS cannot read`);
    set("UPDATE exchanges SET request_encoding = 'deflate-raw', request_size = ? WHERE id = ?", 100);
    expect(() => store.exchange(id)).toThrow(/does not unpack .*the database is damaged/);
    set('UPDATE exchanges SET request_size = ? WHERE id = ?', inventory.length + 5);
    expect(() => store.exchange(id)).toThrow(`unpacks to ${inventory.length} bytes, not the ${inventory.length + 5} recorded`);
    set('UPDATE exchanges SET request_size = NULL WHERE id = ?');
    expect(() => store.exchange(id)).toThrow('compressed but its size is not recorded');
    set("UPDATE exchanges SET request_size = ?, request_body = X'00010203' WHERE id = ?", inventory.length);
    expect(() => store.exchange(id)).toThrow(/does not unpack/);
    // A row whose stored bytes are a "bomb" (1 MB of zeros in a few hundred bytes) but whose recorded size is small.
    const bomb = deflateRawSync(Buffer.alloc(1 << 20), { level: 9 });
    expect(bomb.length).toBeLessThan(2000);
    expect(() => unpackBody(bomb, 'deflate-raw', 1000, 'the bomb')).toThrow(/the bomb does not unpack/);
  });

  it('finds text inside a compressed body, before and after it is indexed', () => {
    const store = open();
    const id = store.commit(exchangeRecord({ requestBody: inventory, requestHeaders: [['Content-Type', 'text/xml']] }), {}, null).exchangeId;
    store.commit(exchangeRecord({ requestBody: Buffer.from('<other/>') }), {}, null);
    const found = (text: string) => store.listExchanges({ text }, { limit: 10 }).exchanges.map((x) => x.id);
    expect(found('value 2367781')).toEqual([id]); // 299 × 7919, the last item
    store.search.catchUp();
    expect(found('value 2367781')).toEqual([id]);
    expect(found('value 2367782')).toEqual([]);
  });
});
