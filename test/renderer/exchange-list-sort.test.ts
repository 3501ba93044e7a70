/** Sorting the exchange list by a column: stable, both directions, back to arrival order. */
import { describe, expect, it } from 'vitest';
import { sortRows } from '../../src/renderer/src/traffic/ExchangeList';
import { summary } from './fake-api';

describe('sortRows', () => {
  const rows = [summary(1, { itemCount: 5, mac: 'B' }), summary(2, { itemCount: 1, mac: null }), summary(3, { itemCount: 5, mac: 'A' }), summary(4, { itemCount: 0, mac: 'A' })];

  it('sorts ascending and descending, ties in arrival order', () => {
    expect(sortRows(rows, { key: 'items', descending: false }).map((x) => x.id)).toEqual([4, 2, 1, 3]);
    expect(sortRows(rows, { key: 'items', descending: true }).map((x) => x.id)).toEqual([1, 3, 2, 4]);
    // No MAC sorts first (as the empty text), equal MACs keep their order.
    expect(sortRows(rows, { key: 'mac', descending: false }).map((x) => x.id)).toEqual([2, 3, 4, 1]);
  });

  it('by status: the HTTP status first, then a clean reply before a busy, failed or refused one', () => {
    const replies = [
      summary(1, { httpStatus: 200, replyStatus: 'accepted', refusedItems: 2 }),
      summary(2, { httpStatus: 200, replyStatus: 'accepted', refusedItems: 0 }),
      summary(3, { httpStatus: 403, replyStatus: null, refusedItems: 0 }),
      summary(4, { httpStatus: 200, replyStatus: null, refusedItems: 0 }),
      summary(5, { httpStatus: 200, replyStatus: 'failed', refusedItems: 0 }),
      summary(6, { httpStatus: 200, replyStatus: 'busy', refusedItems: 0 }),
    ];
    // A write refused item by item is "accepted" in the text but sorts with the failed ones.
    expect(sortRows(replies, { key: 'status', descending: false }).map((x) => x.id)).toEqual([2, 4, 1, 5, 6, 3]);
    expect(sortRows(replies, { key: 'status', descending: true }).map((x) => x.id)).toEqual([3, 1, 5, 6, 2, 4]);
  });

  it('without an order is the arrival order, untouched', () => {
    expect(sortRows(rows, null)).toBe(rows);
  });
});
