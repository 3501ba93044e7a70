/**
 * Index entries made under older masking rules (migration 24): before SIP URI passwords and URLs in
 * attributes written with references were masked, the index held them and the exact check took the
 * body as shown unchanged, so free text found such a password a prefix at a time. Those rows are
 * checked by masking them at query time until the indexer has made their entries again.
 */
import { describe, expect, it } from 'vitest';
import { Store } from '../../src/main/store';
import { withRawDb } from '../support/raw-db';
import { exchangeRecord } from '../support/records';
import { manualStores } from '../support/manual-stores';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();
const { store, open } = manualStores();
const found = (s: Store, text: string) => s.listExchanges({ text }, { limit: 50 }).exchanges.map((x) => x.id);
const body = (item: string) =>
  Buffer.from(`<?xml version="1.0" encoding="UTF-8"?><WorkpointMessage><Message nonce="1"><ReasonForContact>start-up</ReasonForContact><ItemList>${item}<Item name="e164">4711-stale</Item></ItemList></Message></WorkpointMessage>`);
const stale = (dir: string) => withRawDb(dir, (db) => db.prepare('SELECT done, through FROM exchange_text_stale').get());

describe('index entries made under older masking rules (migration 24)', () => {
  it('are masked at query time until made again, then searched through the index as any other; rows after the upgrade are indexed as usual', () => {
    const dir = newDir();
    const before = store(dir);
    const ids = [
      body('<Item name="XML-app-server-addr" index="1">sip:alice:Stale7Secret@pbx.example</Item>'),
      body('<Item name="x-note" status="https://u&#58;Stale8Secret@h/">y</Item>'),
      body('<Item name="sntp-addr">pool.ntp.org</Item>'),
    ].map((requestBody, i) => before.commit(exchangeRecord({ started: i, ended: i, requestBody }), {}, null).exchangeId);
    before.search.catchUp();
    expect(found(before, 'Stale7Secret')).toEqual([]);
    // As an older LocalDLS indexed them: the bodies as received, nothing noted as masked.
    withRawDb(dir, (db) => {
      for (const id of ids) {
        const raw = (db.prepare('SELECT request_body AS b, request_encoding AS e FROM exchanges WHERE id = ?').get(id) as { b: Buffer; e: string | null });
        expect(raw.e).toBeNull();
        db.prepare('DELETE FROM exchange_text WHERE rowid = ?').run(id);
        db.prepare('INSERT INTO exchange_text (rowid, request, response, summary) VALUES (?, ?, ?, ?)').run(id, raw.b.toString('utf8'), '<res/>', '');
        db.prepare('DELETE FROM exchange_text_masked WHERE exchange_id = ?').run(id);
      }
    });
    // The leak this migration closes.
    expect(found(before, 'Stale7Secret')).toEqual([ids[0]]);
    expect(found(before, 'Stale8Sec')).toEqual([ids[1]]);
    before.close();
    open.pop();
    withRawDb(dir, (db) => db.pragma('user_version = 23'));

    const s = store(dir);
    expect(stale(dir)).toEqual({ done: 0, through: ids[2] });
    for (const part of ['Stale7Secret', 'Stale7', 'Stale8Sec', 'cret@pbx']) expect(found(s, part), part).toEqual([]);
    expect(found(s, 'alice')).toEqual([ids[0]]);
    expect(found(s, '4711-stale')).toEqual(ids);
    // A row stored now is indexed as any: past the stale range.
    const later = s.commit(exchangeRecord({ started: 9, ended: 9, requestBody: body('<Item name="XML-app-server-addr" index="1">sip:bob:Later9Secret@pbx.example</Item>') }), {}, null).exchangeId;
    expect(s.search.catchUp()).toBe(4);
    expect(stale(dir)).toEqual({ done: ids[2], through: ids[2] });
    // Made again: what is masked is noted, so the exact check reads the ranges shown unchanged.
    const kept = withRawDb(dir, (db) => db.prepare('SELECT exchange_id AS id FROM exchange_text_masked ORDER BY exchange_id').all().map((r) => (r as { id: number }).id));
    expect(kept).toEqual([ids[0], ids[1], later]);
    for (const part of ['Stale7Secret', 'Stale8Sec', 'Later9Secret']) expect(found(s, part), part).toEqual([]);
    expect(found(s, 'alice')).toEqual([ids[0]]);
    expect(found(s, 'bob:')).toEqual([later]);
    expect(found(s, '4711-stale')).toEqual([...ids, later]);
    expect(s.search.catchUp()).toBe(0);
  });

  it('a purge meanwhile, the service\'s background loop, and a store with nothing indexed', async () => {
    const dir = newDir();
    const before = store(dir);
    const ids = [1, 2, 3].map((i) => before.commit(exchangeRecord({ started: i, ended: i, requestBody: body('<Item name="sntp-addr">pool.ntp.org</Item>') }), {}, null).exchangeId);
    before.search.catchUp();
    before.close();
    open.pop();
    withRawDb(dir, (db) => db.pragma('user_version = 23'));
    const s = store(dir);
    expect(stale(dir)).toEqual({ done: 0, through: ids[2] });
    withRawDb(dir, (db) => db.prepare('DELETE FROM exchanges WHERE id >= ?').run(ids[1]));
    expect(s.search.catchUp()).toBe(1);
    expect(stale(dir)).toEqual({ done: ids[2], through: ids[2] });
    expect(found(s, 'pool.ntp')).toEqual([ids[0]]);
    s.close();
    open.pop();
    // The service's background loop makes them again by itself once it has caught up.
    withRawDb(dir, (db) => db.pragma('user_version = 23'));
    const serving = new Store(dir, { searchIndexing: 'background', synchronous: 'OFF' });
    open.push(serving);
    expect(stale(dir)).toEqual({ done: 0, through: ids[0] });
    await expect.poll(() => stale(dir), { timeout: 10_000, interval: 50 }).toEqual({ done: ids[0], through: ids[0] });
    expect(serving.search.lastError).toBeNull();
    // A new store: the migration finds nothing indexed.
    const fresh = newDir();
    store(fresh);
    expect(stale(fresh)).toEqual({ done: 0, through: 0 });
  });

  it('a later widening (migration 25: a URL password typed with a blank in free text) makes every entry again', () => {
    const dir = newDir();
    const before = store(dir);
    const note = body('<Item name="x-note">see ftp://u:Blank9 Secret@files.example/fw.img</Item>');
    const ids = [note, body('<Item name="sntp-addr">pool.ntp.org</Item>')].map((requestBody, i) => before.commit(exchangeRecord({ started: i, ended: i, requestBody }), {}, null).exchangeId);
    before.search.catchUp();
    expect(found(before, 'Blank9')).toEqual([]);
    // As version 24 indexed it: the password in the text, all entries made (done = through).
    withRawDb(dir, (db) => {
      db.prepare('DELETE FROM exchange_text WHERE rowid = ?').run(ids[0]);
      db.prepare('INSERT INTO exchange_text (rowid, request, response, summary) VALUES (?, ?, ?, ?)').run(ids[0], note.toString('utf8'), '<res/>', '');
      db.prepare('DELETE FROM exchange_text_masked WHERE exchange_id = ?').run(ids[0]);
      db.prepare('UPDATE exchange_text_stale SET done = ?, through = ?').run(ids[1], ids[1]);
    });
    expect(found(before, 'Blank9')).toEqual([ids[0]]);
    before.close();
    open.pop();
    withRawDb(dir, (db) => db.pragma('user_version = 24'));
    const s = store(dir);
    expect(stale(dir)).toEqual({ done: 0, through: ids[1] });
    expect(found(s, 'Blank9')).toEqual([]);
    expect(found(s, 'files.example')).toEqual([ids[0]]);
    expect(s.search.catchUp()).toBe(2);
    expect(found(s, 'Blank9')).toEqual([]);
    expect(found(s, 'Secret@files')).toEqual([]);
  });
});
