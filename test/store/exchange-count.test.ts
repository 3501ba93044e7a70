/**
 * The store's count of exchanges (migration 14) is kept by triggers, not counted: it must equal
 * count(*) after every way an exchange comes or goes, also one that is rolled back and one another
 * connection commits or purges. Beside it, the highest exchange id ever given (migration 15): ids
 * are never given twice, whatever a purge deletes; interaction ids likewise (migration 16).
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
    db.exec('DROP TRIGGER exchange_count_insert; DROP TRIGGER exchange_count_delete; DROP TABLE exchange_count; DROP TRIGGER interaction_count_insert; DROP TABLE interaction_count; DROP INDEX jobs_rollout;');
    db.pragma('user_version = 13');
  } finally {
    db.close();
  }
}

describe('exchange ids', () => {
  const ids = (s: Store) => s.exchanges({ limit: 100 }).map((x) => x.id).sort((a, b) => a - b);

  it('are never given twice: after a purge of every exchange, from another connection, the next ones follow the highest', async () => {
    const dir = newDir();
    const service = store(dir);
    for (let i = 0; i < 3; i++) service.commit(exchangeRecord({ started: 1000 + i, ended: 1001 + i }), {}, null);
    expect(ids(service)).toEqual([1, 2, 3]);
    const cli = store(dir);
    expect((await cli.purgeOlderThan(10_000, { batchSize: 2, pauseMs: 0 })).exchanges).toBe(3);
    expect(service.exchangeCount()).toBe(0);
    // The service's next exchanges, and the CLI's: 4, 5, 6, not 1, 2, 3 again.
    service.commit(exchangeRecord({ started: 20_000, ended: 20_001 }), {}, null);
    cli.commit(exchangeRecord({ started: 20_002, ended: 20_003 }), {}, null);
    const [group] = service.commitGroup([{ record: exchangeRecord({ started: 20_004, ended: 20_005 }), changes: {}, interactionId: null }]);
    expect(group).toMatchObject({ exchangeId: 6 });
    expect(ids(service)).toEqual([4, 5, 6]);
    // A live view that had shown up to 3 sees every new one.
    expect(service.listExchanges({}, { afterId: 3, limit: 10 }).exchanges.map((x) => x.id)).toEqual([4, 5, 6]);
    // Deleting only the newest ones does not give their ids again either.
    withRawDb(dir, (db) => db.prepare('DELETE FROM exchanges WHERE id >= 5').run());
    service.commit(exchangeRecord({ started: 30_000, ended: 30_001 }), {}, null);
    expect(ids(service)).toEqual([4, 7]);
    expect(service.exchangeCount()).toBe(2);
  });

  it('an exchange rolled back gives its id back (it was never seen), and the count stays right', () => {
    const dir = newDir();
    const s = store(dir);
    s.commit(exchangeRecord({ started: 1, ended: 2 }), {}, null);
    const results = s.commitGroup([
      { record: exchangeRecord({ kind: null as unknown as 'wpi', started: 3, ended: 4 }), changes: {}, interactionId: null },
      { record: exchangeRecord({ started: 5, ended: 6 }), changes: {}, interactionId: null },
    ]);
    expect(results[0]).toBeInstanceOf(Error);
    expect(results[1]).toMatchObject({ exchangeId: 2 });
    expect(ids(s)).toEqual([1, 2]);
  });

  it('continue after the highest id an older database holds (migration 15), purged or not', async () => {
    const dir = newDir();
    const before = store(dir);
    for (let t = 1; t <= 4; t++) before.commit(exchangeRecord({ started: t, ended: t }), {}, null);
    before.close();
    open.pop();
    withRawDb(dir, (db) => {
      // Schema 14: the count without the highest id, the insert trigger as it was.
      db.exec(`DROP TRIGGER exchange_count_insert; ALTER TABLE exchange_count DROP COLUMN last_id;
        CREATE TRIGGER exchange_count_insert AFTER INSERT ON exchanges BEGIN UPDATE exchange_count SET n = n + 1; END;
        DELETE FROM exchanges WHERE id = 1; DROP TRIGGER interaction_count_insert; DROP TABLE interaction_count; DROP INDEX jobs_rollout;`);
      db.pragma('user_version = 14');
    });
    const s = store(dir);
    expect(ids(s)).toEqual([2, 3, 4]);
    expect((await s.purgeOlderThan(100, { pauseMs: 0 })).exchanges).toBe(3);
    s.commit(exchangeRecord({ started: 200, ended: 201 }), {}, null);
    expect(ids(s)).toEqual([5]);
    expect(s.exchangeCount()).toBe(1);
  });
});


describe('interaction ids', () => {
  /** One exchange that opens an interaction and ends it at once; its interaction's id. */
  const interaction = (s: Store, at: number) =>
    s.commit(exchangeRecord({ started: at, ended: at + 1 }), { openInteraction: { reason: 'start-up' }, endInteraction: 'CleanUp' }, null).interactionId;

  it('are never given twice: after a purge of every interaction, the next ones follow the highest', async () => {
    const dir = newDir();
    const s = store(dir);
    expect([interaction(s, 1000), interaction(s, 1010), interaction(s, 1020)]).toEqual([1, 2, 3]);
    const purged = await s.purgeOlderThan(10_000, { pauseMs: 0 });
    expect(purged).toMatchObject({ exchanges: 3, interactions: 3 });
    withRawDb(dir, (db) => expect(db.prepare('SELECT count(*) AS n FROM interactions').get()).toEqual({ n: 0 }));
    expect(interaction(s, 20_000)).toBe(4);
    // A connection that opened the store before the purge (the CLI beside the service) too.
    expect(interaction(store(dir), 20_010)).toBe(5);
  });

  it('continue after the highest id an older database holds (migration 16)', async () => {
    const dir = newDir();
    const before = store(dir);
    for (const at of [1, 2, 3]) interaction(before, at);
    before.close();
    open.pop();
    withRawDb(dir, (db) => {
      db.exec('DROP TRIGGER interaction_count_insert; DROP TABLE interaction_count; DROP INDEX jobs_rollout;');
      db.pragma('user_version = 15');
    });
    const s = store(dir);
    expect((await s.purgeOlderThan(100, { pauseMs: 0 })).interactions).toBe(3);
    expect(interaction(s, 200)).toBe(4);
  });
});
