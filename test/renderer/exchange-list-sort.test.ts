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

  it('without an order is the arrival order, untouched', () => {
    expect(sortRows(rows, null)).toBe(rows);
  });
});
