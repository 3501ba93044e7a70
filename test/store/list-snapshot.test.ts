/**
 * The traffic list's page, counts and newest id come from one read of the database, even when
 * another process (the CLI beside a running service) commits between the queries they take.
 */
import type { Database, Statement } from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { ExchangeFilter } from '../../src/shared/api';
import { Store } from '../../src/main/store';
import { listExchanges } from '../../src/main/store/exchange-filter';
import { openRawDb } from '../support/raw-db';
import { exchangeRecord } from '../support/records';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();
const MAC = '00:1A:E8:00:00:01';
const open: { close(): void }[] = [];
afterEach(() => {
  for (const x of open.splice(0)) x.close();
});

/**
 * A reader connection whose first count (`count(*)`, or the kept count of all exchanges) lets `meanwhile` run right after it: the moment
 * another process's commit would land between the list's queries.
 */
function readerWithCommitBetween(dataDir: string, meanwhile: () => void): Database {
  const db = openRawDb(dataDir, { readonly: true });
  open.push(db);
  const prepare = db.prepare.bind(db);
  let fired = false;
  db.prepare = ((sql: string) => {
    const st = prepare(sql) as Statement;
    if (!sql.startsWith('SELECT count(*)') && !sql.startsWith('SELECT n FROM exchange_count')) return st;
    const get = st.get.bind(st);
    st.get = ((...args: unknown[]) => {
      const out = get(...args);
      if (!fired) {
        fired = true;
        meanwhile();
      }
      return out;
    }) as Statement['get'];
    return st;
  }) as Database['prepare'];
  return db;
}

describe('the traffic list reads one snapshot', () => {
  it.each<[string, ExchangeFilter]>([
    ['a device (matched and total are two counts)', { device: MAC }],
    ['no filter (one count)', {}],
    ['the view cleared up to an id (one count)', { sinceId: 1 }],
  ])('%s: a commit between its queries is in none of them', (_name, filter) => {
    const dir = newDir();
    const service = new Store(dir, { searchIndexing: 'manual', synchronous: 'OFF' });
    open.push(service);
    for (let i = 0; i < 5; i++) service.commit(exchangeRecord({ mac: i % 2 ? MAC : '00:1A:E8:00:00:02', started: 1000 + i, ended: 1001 + i }), {}, null);
    // Another process: its own connection, committing an exchange of the device.
    const cli = new Store(dir, { searchIndexing: 'manual', synchronous: 'OFF' });
    open.push(cli);
    let landed = 0;
    const reader = readerWithCommitBetween(dir, () => {
      landed = cli.commit(exchangeRecord({ mac: MAC, started: 2000, ended: 2001 }), {}, null).exchangeId;
    });

    const list = listExchanges(reader, filter, { limit: 100 });
    expect(landed).toBe(6);
    const ids = list.exchanges.map((x) => x.id);
    expect(ids).not.toContain(6);
    expect(list.newestId).toBe(5);
    const inView = (id: number) => filter.sinceId === undefined || id > filter.sinceId;
    expect(list.total).toBe([1, 2, 3, 4, 5].filter(inView).length);
    expect(list.matched).toBe(ids.length);

    // Read again, the commit is in all of them.
    const after = listExchanges(reader, filter, { limit: 100 });
    expect(after.newestId).toBe(6);
    expect(after.exchanges.map((x) => x.id)).toContain(6);
    expect(after.total).toBe([1, 2, 3, 4, 5, 6].filter(inView).length);
    expect(after.matched).toBe(after.exchanges.length);
  });
});
