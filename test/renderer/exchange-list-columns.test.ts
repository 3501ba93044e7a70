/** The exchange list's columns for the room it has: the reason keeps its least room, others give way in order. */
import { describe, expect, it } from 'vitest';
import { layoutColumns, REASON_MIN, type ColumnKey } from '../../src/renderer/src/traffic/ExchangeList';

const none = new Set<ColumnKey>();
const ALL: ColumnKey[] = ['id', 'time', 'mac', 'peer', 'port', 'what', 'action', 'status', 'items', 'size', 'dur', 'tls'];

describe('layoutColumns', () => {
  it('shows every column where nothing is laid out (no width known)', () => {
    expect(layoutColumns(null, none, none)).toEqual({ shown: ALL, dropped: [], fits: true });
  });

  it('leaves out size, duration, peer, items, TLS, port and time in that order as the room shrinks', () => {
    // The rows' room in a 1440, 1366, 1280 and 1024 px window (a 15 px scrollbar taken off).
    expect(layoutColumns(1425, none, none).dropped).toEqual([]);
    expect(layoutColumns(1351, none, none).dropped).toEqual(['size']);
    expect(layoutColumns(1265, none, none).dropped).toEqual(['size', 'dur']);
    expect(layoutColumns(1009, none, none)).toEqual({ shown: ['id', 'time', 'mac', 'port', 'what', 'action', 'status', 'tls'], dropped: ['size', 'dur', 'peer', 'items'], fits: true });
    expect(layoutColumns(700, none, none).dropped).toEqual(['size', 'dur', 'peer', 'items', 'tls', 'port', 'time']);
    expect(layoutColumns(700, none, none).fits).toBe(true);
    // Never the number, device, reason, Action or status: below their room the reason gives way.
    expect(layoutColumns(500, none, none)).toEqual({ shown: ['id', 'mac', 'what', 'action', 'status'], dropped: ['size', 'dur', 'peer', 'items', 'tls', 'port', 'time'], fits: false });
  });

  it('the reason keeps its least room whatever is shown', () => {
    for (let room = 600; room <= 1500; room += 7) {
      const { shown, fits } = layoutColumns(room, none, none);
      if (fits) expect(shown).toContain('what');
    }
    expect(REASON_MIN).toBeGreaterThanOrEqual(200);
  });

  it('columns the user hid free room for others; a pinned one stays and others give way to it', () => {
    // Without TLS and port the item count fits again at 1024 px (the peer still does not).
    expect(layoutColumns(1009, new Set<ColumnKey>(['tls', 'port']), none).dropped).toEqual(['size', 'dur', 'peer']);
    expect(layoutColumns(1009, none, new Set<ColumnKey>(['peer'])).dropped).toEqual(['size', 'dur', 'items', 'tls', 'port']);
    // Pinned beyond the room: they stay, and the reason is what gives way.
    expect(layoutColumns(1009, none, new Set<ColumnKey>(['peer', 'size', 'dur', 'items'])).fits).toBe(false);
  });
});
