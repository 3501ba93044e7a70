import { describe, expect, it } from 'vitest';
import type { ExchangeFilter } from '../../src/shared/api';
import { Store } from '../../src/main/store';
import { filterClauses, textPartSql } from '../../src/main/store/exchange-filter';
import { tempDirs } from '../support/tmp';
import { withRawDb } from '../support/raw-db';

const newDir = tempDirs();

/** SQLite's plan for the traffic list's page and count queries under `filter`. */
function plans(store: Store, filter: ExchangeFilter): string[] {
  const { clauses, params } = filterClauses(filter);
  const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
  const plan = (sql: string) => withRawDb(store.dataDir, (db) => db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params) as { detail: string }[]).map((r) => r.detail).join('; ');
  return [plan(`SELECT id FROM exchanges ${where} ORDER BY id DESC LIMIT 2001`), plan(`SELECT count(*) FROM exchanges ${where}`)];
}

describe('traffic filters at scale (docs/benchmarks.md)', () => {
  // The summary columns come after the bodies in a row: a filter that scans the table reads every
  // body. These filters must be answered from an index, whatever the table's size.
  it.each<[string, ExchangeFilter]>([
    ['a whole MAC', { device: '00:1A:E8:00:00:07' }],
    ['a MAC without separators', { device: '001ae8000007' }],
    ['an action', { action: 'ReadAllItems' }],
    ['a reason', { reason: 'start-up' }],
    ['an HTTP status', { status: '200' }],
    ['a status class', { status: '4xx' }],
    ['a reply status, any case', { status: 'Accepted' }],
    ['failed TLS handshakes', { status: 'tls' }],
    ['a mode', { listener: 'secure' }],
    ['errors only', { errorsOnly: true }],
  ])('%s uses an index', (_name, filter) => {
    const store = new Store(newDir());
    for (const plan of plans(store, filter)) {
      expect(plan).toMatch(/USING (COVERING )?INDEX/);
      expect(plan).not.toMatch(/SCAN exchanges(?! USING)/);
    }
    store.close();
  });
});

describe('free text at scale: query plans', () => {
  /** The plan of one part of a free-text search (exchange-filter.ts textPartSql) under the other filters of `filter`. */
  function textPlan(store: Store, filter: ExchangeFilter, part: 'tail' | 'indexed' | 'filtered', range: string[] = []): string {
    const { clauses, params } = filterClauses(filter);
    const sql = textPartSql({ clauses, nul: false }, part, 'exchanges.id', 'DESC', range);
    return withRawDb(store.dataDir, (db) => {
      db.function('localdls_shown_contains', { varargs: true }, () => 1);
      const all = { ...params, textBytes: Buffer.from('x'), textLike: '%x%', mark: 5, staleDone: 0, staleThrough: 0, indexedTop: 5, fts: '"abc"', partLimit: 10, beforeId: 3 };
      return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(all) as { detail: string }[]).map((r) => r.detail).join('; ');
    });
  }

  it.each<[string, ExchangeFilter]>([
    ['free text alone', {}],
    ['free text and errors only', { errorsOnly: true }],
    ['free text and a whole MAC', { device: '00:1A:E8:00:00:07' }],
  ])('%s: the index drives, newest first, each candidate looked up by id; newer rows by id range', (_name, filter) => {
    const store = new Store(newDir());
    const indexed = textPlan(store, filter, 'indexed');
    expect(indexed).toMatch(/SCAN t VIRTUAL TABLE INDEX/);
    // Paging back: the page's start bounds the index scan itself (FTS5 "<" on its rowid).
    expect(textPlan(store, filter, 'indexed', ['id < @beforeId'])).toMatch(/SCAN t VIRTUAL TABLE INDEX \d+:M\d+</);
    expect(indexed).toMatch(/SEARCH exchanges USING INTEGER PRIMARY KEY \(rowid=\?\)/);
    expect(indexed).not.toMatch(/TEMP B-TREE|SCAN exchanges/);
    const tail = textPlan(store, filter, 'tail');
    expect(tail).toMatch(/SEARCH exchanges USING (INTEGER PRIMARY KEY \(rowid>\?( AND rowid<\?)?\)|INDEX)/);
    expect(tail).not.toMatch(/SCAN exchanges(?! USING)/);
    store.close();
  });

  it.each<[string, ExchangeFilter, RegExp]>([
    ['errors only', { errorsOnly: true }, /SEARCH exchanges USING (COVERING )?INDEX exchanges_errors/],
    ['a whole MAC', { device: '00:1A:E8:00:00:07' }, /SEARCH exchanges USING (COVERING )?INDEX exchanges_mac \(mac=\?/],
    ['an action', { action: 'ReadAllItems' }, /SEARCH exchanges USING (COVERING )?INDEX exchanges_action \(action=\?/],
  ])('free text and a selective filter (%s): its index drives, the trigram index is a list of ids to test', (_name, filter, driver) => {
    const store = new Store(newDir());
    const plan = textPlan(store, filter, 'filtered');
    expect(plan).toMatch(driver);
    expect(plan).toMatch(/LIST SUBQUERY/);
    expect(plan).not.toMatch(/TEMP B-TREE|SCAN exchanges/);
    store.close();
  });
});
