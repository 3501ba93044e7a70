import { describe, expect, it } from 'vitest';
import type { ExchangeFilter } from '../../src/shared/api';
import { Store } from '../../src/main/store';
import { filterClauses } from '../../src/main/store/exchange-filter';
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
