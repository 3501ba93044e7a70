/**
 * Migration 22 on a store of schema 21: replies to writes stored before count the items the phone
 * refused from their bodies (compressed or not), and "errors only" finds them through its index.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../src/main/store';
import { ERROR_EXCHANGE } from '../../src/main/store/exchange-filter';
import { buildWorkpointMessage, type Item } from '../../src/main/wpi';
import { exchangeRecord } from '../support/records';
import { withRawDb } from '../support/raw-db';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();
const stores: Store[] = [];
afterEach(() => stores.splice(0).forEach((s) => s.close()));

const body = (reason: 'reply-to' | 'start-up', action: string | undefined, items: Item[], status = 'accepted') =>
  Buffer.from(buildWorkpointMessage({ nonce: '2253A404241C11D774122654989181BC', maxItems: -1, reason, ...(action ? { action, status } : {}), items }));

describe('migration 22: refused items of writes stored before', () => {
  it('counts them from the stored bodies; reads, start-ups, busy replies and writes taken whole stay 0; errors only finds them through the index', () => {
    const dir = newDir();
    const store = new Store(dir);
    // 600 refused items: a body large enough to be stored compressed.
    const many: Item[] = Array.from({ length: 600 }, (_, i) => ({ name: 'line-key', index: i, value: '', status: 'invalid index' }));
    const rows = [
      { reason: 'reply-to', replyAction: 'WriteItems', replyStatus: 'accepted', itemCount: 2, requestBody: body('reply-to', 'WriteItems', [{ name: 'sntp-addr', value: '', status: 'invalid data' }, { name: 'e164', value: '1' }]) },
      { reason: 'reply-to', replyAction: 'WriteItems', replyStatus: 'accepted', itemCount: 600, requestBody: body('reply-to', 'WriteItems', many) },
      { reason: 'reply-to', replyAction: 'WriteItems', replyStatus: 'accepted', itemCount: 0, requestBody: body('reply-to', 'WriteItems', []) },
      { reason: 'reply-to', replyAction: 'ReadItems', replyStatus: 'accepted', itemCount: 1, requestBody: body('reply-to', 'ReadItems', [{ name: 'no-such-item', value: '', status: 'unknown item' }]) },
      { reason: 'start-up', itemCount: 1, requestBody: body('start-up', undefined, [{ name: 'gigabit-ethernet', value: '', status: 'failed' }]) },
      { reason: 'reply-to', replyAction: 'WriteItems', replyStatus: 'accepted', itemCount: 1, requestBody: Buffer.from('<WorkpointMessage><not xml') },
      { reason: 'reply-to', replyAction: 'WriteItems', replyStatus: 'busy', itemCount: 1, requestBody: body('reply-to', 'WriteItems', [{ name: 'sntp-addr', value: '', status: 'invalid data' }], 'busy') },
    ] as const;
    for (const r of rows) store.commit(exchangeRecord({ ...r, requestBody: Buffer.from(r.requestBody) }), {}, null);
    store.close();
    // Back to schema 21: no column, the index without it.
    withRawDb(dir, (db) => {
      expect((db.prepare(`SELECT request_encoding AS e FROM exchanges WHERE id = 2`).get() as { e: string | null }).e).toBe('deflate-raw');
      db.exec(`DROP INDEX exchanges_errors; ALTER TABLE exchanges DROP COLUMN refused_items;
        CREATE INDEX exchanges_errors ON exchanges (id) WHERE (kind = 'tls-failure' OR error IS NOT NULL OR http_status >= 400 OR reply_status = 'failed')`);
      db.pragma('user_version = 21');
    });
    const again = new Store(dir);
    stores.push(again);
    const all = again.listExchanges({}, { limit: 10 }).exchanges;
    expect(all.map((x) => x.refusedItems)).toEqual([1, 600, 0, 0, 0, 0, 0]);
    expect(again.listExchanges({ errorsOnly: true }, { limit: 10 }).exchanges.map((x) => x.id)).toEqual([1, 2]);
    const plan = withRawDb(dir, (db) => db.prepare(`EXPLAIN QUERY PLAN SELECT id FROM exchanges WHERE ${ERROR_EXCHANGE}`).all() as { detail: string }[]);
    expect(plan.map((p) => p.detail).join(' ')).toMatch(/INDEX exchanges_errors/);
  });
});
