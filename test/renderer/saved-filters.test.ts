/** Saved filters come back as the filter bar can apply them. */
import { describe, expect, it } from 'vitest';
import { loadSavedFilters } from '../../src/renderer/src/traffic/SavedFilters';

const storage = (value: unknown) => ({ getItem: () => JSON.stringify(value) });

describe('loadSavedFilters', () => {
  it('leaves out free text saved before it needed three characters in a row, and keeps the rest of the filter', () => {
    const saved = loadSavedFilters(storage([
      { name: 'short', filter: { text: 'ab', action: 'CleanUp' } },
      { name: 'nul', filter: { text: '\u0000ab' } },
      { name: 'long', filter: { text: 'pool.ntp', errorsOnly: true } },
      { name: 'none', filter: { device: '00:1A' } },
    ]));
    expect(saved).toEqual([
      { name: 'short', filter: { action: 'CleanUp' } },
      { name: 'nul', filter: {} },
      { name: 'long', filter: { text: 'pool.ntp', errorsOnly: true } },
      { name: 'none', filter: { device: '00:1A' } },
    ]);
  });

  it('reads nothing from storage that is not a list of named filters', () => {
    expect(loadSavedFilters(storage({ name: 'x' }))).toEqual([]);
    expect(loadSavedFilters({ getItem: () => '{not json' })).toEqual([]);
    expect(loadSavedFilters(storage([{ name: 1, filter: {} }, { name: 'ok', filter: null }]))).toEqual([]);
  });
});
