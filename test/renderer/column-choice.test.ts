/**
 * The Columns chooser's rule, shared by the traffic and devices lists: a column asked back where
 * the width left it out is pinned and others give way to it; where the columns pinned before leave
 * it no room, those asked for earliest give way again (helper-79: every column asked back at
 * 1024 px made the devices table overflow, its flexible column at 0 px).
 */
import { describe, expect, it } from 'vitest';
import { chooseColumn, fitColumns, type ColumnSpec } from '../../src/renderer/src/lib/columns';

type K = 'name' | 'a' | 'b' | 'c' | 'd';
// Room for the name (its least 100 px) and two of the 100 px columns in 300 px.
const SPEC: ColumnSpec<K> = {
  columns: [{ key: 'name', width: 0 }, { key: 'a', width: 100 }, { key: 'b', width: 100 }, { key: 'c', width: 100 }, { key: 'd', width: 100 }],
  flexMin: 100,
  always: new Set(['name']),
  giveWay: ['d', 'c', 'b', 'a'],
  hiddenKey: 'h',
  pinnedKey: 'p',
};
const none = new Set<K>();

describe('chooseColumn', () => {
  it('asked back, a column is shown and the next in line gives way', () => {
    expect(fitColumns(SPEC, 300, none, none)).toEqual({ shown: ['name', 'a', 'b'], dropped: ['d', 'c'], fits: true });
    const d = chooseColumn(SPEC, 300, none, none, 'd', true);
    expect([...d.pinned]).toEqual(['d']);
    expect(fitColumns(SPEC, 300, d.hidden, d.pinned)).toEqual({ shown: ['name', 'a', 'd'], dropped: ['c', 'b'], fits: true });
  });

  it('every column asked back in turn: the table always fits, the newest asked is shown, the earliest give way again', () => {
    let choice = { hidden: new Set<K>(), pinned: new Set<K>() };
    for (const key of ['d', 'c', 'b', 'd', 'c'] as const) {
      const layout = fitColumns(SPEC, 300, choice.hidden, choice.pinned);
      if (layout.shown.includes(key)) continue;
      choice = chooseColumn(SPEC, 300, choice.hidden, choice.pinned, key, true);
      const after = fitColumns(SPEC, 300, choice.hidden, choice.pinned);
      expect(after.fits, key).toBe(true);
      expect(after.shown, key).toContain(key);
      expect(after.shown, key).toHaveLength(3);
    }
    // Asked for last: c, then d before it; b (asked before d) gave way again.
    expect(fitColumns(SPEC, 300, choice.hidden, choice.pinned).shown).toEqual(['name', 'c', 'd']);
  });

  it('a column shown already is not pinned; hidden, it is neither shown nor pinned', () => {
    expect([...chooseColumn(SPEC, 300, new Set(['a']), none, 'a', true).pinned]).toEqual([]);
    const hidden = chooseColumn(SPEC, 300, none, new Set(['d']), 'd', false);
    expect([[...hidden.hidden], [...hidden.pinned]]).toEqual([['d'], []]);
  });

  it('where even the one asked for has no room beside the flexible column, it stays asked for (the others give way)', () => {
    const c = chooseColumn(SPEC, 150, none, new Set(['a', 'b']), 'c', true);
    expect([...c.pinned]).toEqual(['c']);
  });
});
