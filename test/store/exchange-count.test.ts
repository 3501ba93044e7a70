/**
 * The store's count of exchanges (migration 14) is kept by triggers, not counted: it must equal
 * count(*) after every way an exchange comes or goes, also one that is rolled back and one another
 * connection commits or purges.
 */
import BetterSqlite3 from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../src/main/store';
import { DATABASE_FILE } from '../../src/main/store/data-dir';
import { withRawDb } from '../support/raw-db';
import { exchangeRecord } from '../support/records';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();
const open: { close(): void }[] = [];
afterEach(() => {
  for (const x of open.splice(0)) x.close();
});

function store(dir: string): Store {
  const s = new Store(dir, { searchIndexing: 'manual', synchronous: 'OFF' });
  open.push(s);
  return s;
}

/** What count(*) says, read by another connection. */
const counted = (dir: string) => withRawDb(dir, (db) => (db.prepare('SELECT count(*) AS n FROM exchanges').get() as { n: number }).n);

describe('the count of exchanges', () => {
  it('follows commits, a group with a failing exchange, another connection and a purge', async () => {
    const dir = newDir();
    const s = store(dir);
    expect(s.exchangeCount()).toBe(0);
    for (let i = 0; i < 3; i++) s.commit(exchangeRecord({ started: 1000 + i, ended: 1001 + i }), {}, null);
    expect(s.exchangeCount()).toBe(3);

    // The second exchange of the group fails (NOT NULL): its savepoint goes, its count with it.
    const results = s.commitGroup([
      { record: exchangeRecord({ started: 2000, ended: 2001 }), changes: {}, interactionId: null },
      { record: exchangeRecord({ kind: null as unknown as 'wpi', started: 2002, ended: 2003 }), changes: {}, interactionId: null },
      { record: exchangeRecord({ started: 2004, ended: 2005 }), changes: {}, interactionId: null },
    ]);
    expect(results.map((r) => r instanceof Error)).toEqual([false, true, false]);
    expect(s.exchangeCount()).toBe(5);
    expect(counted(dir)).toBe(5);

    // A transaction rolled back as a whole counts nothing.
    withRawDb(dir, (db) => {
      const columns = (db.pragma('table_info(exchanges)') as { name: string }[]).map((c) => c.name).filter((c) => c !== 'id').join(', ');
      expect(() =>
        db.transaction(() => {
          db.prepare(`INSERT INTO exchanges (${columns}) SELECT ${columns} FROM exchanges WHERE id = 1`).run();
          throw new Error('rolled back');
        })(),
      ).toThrow('rolled back');
    });
    expect(s.exchangeCount()).toBe(5);

    // Another process (the CLI) commits with its own connection: the service's count sees it.
    const cli = store(dir);
    cli.commit(exchangeRecord({ started: 4000, ended: 4001 }), {}, null);
    expect(s.exchangeCount()).toBe(6);

    // Retention deletes row by row, in batches.
    const purged = await cli.purgeOlderThan(2003, { batchSize: 2, pauseMs: 0 });
    expect(purged.exchanges).toBe(4);
    expect(s.exchangeCount()).toBe(2);
    expect(counted(dir)).toBe(2);
    expect(s.listExchanges({}, { limit: 10 })).toMatchObject({ matched: 2, total: 2 });
    expect(s.countExchanges({})).toBe(2);
    // Free text and other filters count their matches; the view's total is the kept count.
    expect(s.listExchanges({ text: '<res/>' }, { limit: 10 })).toMatchObject({ matched: 2, total: 2 });
    expect(s.listExchanges({ action: 'none' }, { limit: 10 })).toMatchObject({ matched: 0, total: 2 });
  });

  it('starts from the rows an older database holds (migration 14)', () => {
    const dir = newDir();
    s13(dir);
    const s = store(dir);
    expect(s.exchangeCount()).toBe(4);
    s.commit(exchangeRecord({ started: 9000, ended: 9001 }), {}, null);
    expect(s.exchangeCount()).toBe(5);
    expect(counted(dir)).toBe(5);
  });
});

/** A database as the LocalDLS before migration 14 left it (schema 13), holding four exchanges. */
function s13(dir: string): void {
  const before = store(dir);
  for (let t = 1; t <= 4; t++) before.commit(exchangeRecord({ started: t, ended: t }), {}, null);
  before.close();
  open.pop();
  const db = new BetterSqlite3(join(dir, DATABASE_FILE));
  try {
    db.exec('DROP TRIGGER exchange_count_insert; DROP TRIGGER exchange_count_delete; DROP TABLE exchange_count;');
    db.pragma('user_version = 13');
  } finally {
    db.close();
  }
}
