import { describe, expect, it } from 'vitest';
import { Store, type ExchangeRecord } from '../../src/main/store';
import { tempDirs } from '../support/tmp';
import { withRawDb } from '../support/raw-db';
import { getDeviceTimeline } from '../../src/main/commands/inspector';

const newDir = tempDirs();
const MAC = '00:1A:E8:00:00:01';
const DAY = 86_400_000;

function record(started: number, over: Partial<ExchangeRecord> = {}): ExchangeRecord {
  return {
    kind: 'wpi', started, ended: started + 5, listener: 'default', localPort: 18443, peerAddress: '127.0.0.1', peerPort: 5000,
    tlsProtocol: 'TLSv1.3', tlsCipher: 'TLS_AES_256_GCM_SHA384', method: 'POST', path: '/DeploymentService/LoginService',
    httpStatus: 200, requestHeaders: [['Content-Type', 'text/xml']], requestBody: Buffer.alloc(6000, 'x'),
    responseHeaders: [['Content-Type', 'text/xml']], responseBody: Buffer.from('<res/>'), mac: MAC, reason: 'start-up',
    replyAction: null, replyStatus: null, nonce: 'N1', fragment: null, itemCount: 0, refusedItems: 0, action: 'CleanUp', error: null, warning: null,
    ...over,
  };
}

/** One interaction of two exchanges starting at `t`; `open` leaves it without an end. */
function interaction(store: Store, t: number, open = false): number {
  const first = store.commit(record(t), { device: { mac: MAC, lastAddress: '127.0.0.1' }, openInteraction: { reason: 'start-up' } }, null);
  store.commit(record(t + 10), open ? {} : { endInteraction: 'CleanUp' }, first.interactionId);
  return first.interactionId!;
}

describe('Store.purgeOlderThan', () => {
  it('deletes old exchanges and their ended interactions in batches, keeps newer ones and open interactions', async () => {
    const store = new Store(newDir());
    const now = Date.now();
    for (let i = 0; i < 30; i++) interaction(store, now - 40 * DAY + i * 1000);
    const openOld = interaction(store, now - 35 * DAY, true);
    const recent: number[] = [];
    for (let i = 0; i < 5; i++) recent.push(interaction(store, now - DAY + i * 1000));
    // A tls-failure row has no interaction: it goes by age alone.
    store.commit(record(now - 50 * DAY, { kind: 'tls-failure', mac: null }), {}, null);
    expect(store.exchangeCount()).toBe(30 * 2 + 2 + 5 * 2 + 1);

    const progress: number[] = [];
    const r = await store.purgeOlderThan(now - 30 * DAY, { batchSize: 7, pauseMs: 0, onProgress: (p) => progress.push(p.exchanges) });
    expect(r).toMatchObject({ exchanges: 30 * 2 + 2 + 1, interactions: 30 });
    // 63 exchanges at 7 a batch, then the interactions: several transactions, never one big one.
    expect(r.batches).toBeGreaterThanOrEqual(10);
    expect(progress.slice(0, 3)).toEqual([7, 14, 21]);
    expect(store.exchangeCount()).toBe(10);
    const left = withRawDb(store.dataDir, (db) => db.prepare('SELECT id FROM interactions ORDER BY id').pluck().all() as number[]);
    expect(left).toEqual([openOld, ...recent]);
    expect(store.exchanges({ limit: 100 }).every((x) => x.started >= now - 30 * DAY)).toBe(true);
    // The next purge finds nothing more.
    expect(await store.purgeOlderThan(now - 30 * DAY, { pauseMs: 0 })).toMatchObject({ exchanges: 0, interactions: 0 });
    store.close();
  });

  it('gives the freed pages back on a new database (incremental auto-vacuum) and checkpoints the WAL', async () => {
    const store = new Store(newDir());
    expect(store.diagnostics().autoVacuum).toBe(2);
    const now = Date.now();
    for (let i = 0; i < 200; i++) interaction(store, now - 60 * DAY + i);
    const pagesBefore = store.diagnostics().pageCount;
    const r = await store.purgeOlderThan(now, { pauseMs: 0 });
    expect(r.exchanges).toBe(400);
    expect(r.vacuumedPages).toBeGreaterThan(pagesBefore / 2);
    expect(r.freePages).toBe(0);
    expect(store.diagnostics().pageCount).toBeLessThan(pagesBefore / 2);
    store.close();
  });

  it('lets another connection write between its batches', async () => {
    const dir = newDir();
    const store = new Store(dir);
    const now = Date.now();
    for (let i = 0; i < 100; i++) interaction(store, now - 40 * DAY + i);
    const other = new Store(dir);
    let written = 0;
    const purge = store.purgeOlderThan(now - 30 * DAY, { batchSize: 10, pauseMs: 2, onProgress: () => {} });
    // While the purge pauses, the other connection (the running service) commits.
    const timer = setInterval(() => {
      other.commit(record(now), {}, null);
      written++;
    }, 1);
    const r = await purge;
    clearInterval(timer);
    expect(r.exchanges).toBe(200);
    expect(written).toBeGreaterThan(0);
    expect(other.exchangeCount()).toBe(written);
    other.close();
    store.close();
  });
});

describe('Store.purgeOlderThan and the item history', () => {
  it('deletes the item changes of the purged exchanges, also one that ended after the cutoff, and the timeline shows what is left', async () => {
    const dir = newDir();
    const store = new Store(dir);
    const now = Date.now();
    const cutoff = now - 30 * DAY;
    const read = (started: number, ended: number, value: string) =>
      store.commit(record(started, { ended }), { device: { mac: MAC, lastAddress: '127.0.0.1' }, openInteraction: { reason: 'start-up' }, replaceItems: [{ name: 'sntp-addr', value }], endInteraction: 'CleanUp' }, null);
    read(now - 40 * DAY, now - 40 * DAY + 5, 'old.example');
    // Started before the cutoff, ended after it: the exchange goes, so its history row must too.
    const straddling = read(cutoff - 60_000, cutoff + 60_000, 'straddling.example');
    const fresh = read(now - DAY, now - DAY + 5, 'fresh.example');
    const rows = () => withRawDb(dir, (db) => db.prepare('SELECT exchange_id AS exchangeId, new_value AS value FROM item_changes ORDER BY id').all());
    expect(rows()).toHaveLength(3);

    const r = await store.purgeOlderThan(cutoff, { pauseMs: 0 });
    // The straddling interaction ended after the cutoff: it stays (as before), without exchanges or changes.
    expect(r).toMatchObject({ exchanges: 2, interactions: 1, itemChanges: 2 });
    expect(rows()).toEqual([{ exchangeId: fresh.exchangeId, value: 'fresh.example' }]);
    expect(store.exchange(straddling.exchangeId)).toBeUndefined();
    // The device keeps its current items: only the history of purged traffic goes.
    expect(store.items(MAC).map((i) => i.value)).toEqual(['fresh.example']);

    // The timeline points only at exchanges and interactions that exist.
    const timeline = await getDeviceTimeline({ store, dataDir: dir, source: 'cli', secure: () => Promise.reject(new Error('not used')) }, MAC);
    const interactions = timeline.entries.filter((e) => e.kind === 'interaction');
    expect(interactions.map((e) => [e.interaction.id, e.exchanges, e.changes.length])).toEqual([[fresh.interactionId, 1, 1], [straddling.interactionId, 0, 0]]);
    expect(interactions[0]!.changes).toEqual([{ name: 'sntp-addr', index: null, oldValue: 'straddling.example', newValue: 'fresh.example', secret: false }]);
    expect(timeline.entries.filter((e) => e.kind === 'items')).toEqual([]);
    expect(await store.purgeOlderThan(cutoff, { pauseMs: 0 })).toMatchObject({ exchanges: 0, interactions: 0, itemChanges: 0 });
    store.close();
  });

  it('leaves a change recorded meanwhile by the running service, and one without an exchange that is newer than the cutoff', async () => {
    const dir = newDir();
    const store = new Store(dir);
    const now = Date.now();
    for (let i = 0; i < 20; i++) {
      store.commit(record(now - 40 * DAY + i), { device: { mac: MAC, lastAddress: '127.0.0.1' }, replaceItems: [{ name: 'sntp-addr', value: `v${i}` }] }, null);
    }
    const other = new Store(dir);
    let written = 0;
    const purge = store.purgeOlderThan(now - 30 * DAY, { batchSize: 3, pauseMs: 2 });
    const timer = setInterval(() => {
      other.commit(record(now, { ended: now }), { mergeItems: [{ name: 'sntp-addr', value: `live${written}` }] }, null);
      written++;
    }, 1);
    const r = await purge;
    clearInterval(timer);
    expect(r).toMatchObject({ exchanges: 20, itemChanges: 20 });
    withRawDb(dir, (db) => {
      db.prepare('INSERT INTO item_changes (mac, exchange_id, at, name, idx, old_value, new_value) VALUES (?, NULL, ?, ?, NULL, NULL, ?)').run(MAC, now, 'e164', '100');
      db.prepare('INSERT INTO item_changes (mac, exchange_id, at, name, idx, old_value, new_value) VALUES (?, NULL, ?, ?, NULL, NULL, ?)').run(MAC, now - 40 * DAY, 'e164', '99');
    });
    expect(written).toBeGreaterThan(0);
    expect(await store.purgeOlderThan(now - 30 * DAY, { pauseMs: 0 })).toMatchObject({ itemChanges: 1 });
    const left = withRawDb(dir, (db) => db.prepare('SELECT new_value FROM item_changes ORDER BY id').pluck().all());
    expect(left).toEqual([...Array.from({ length: written }, (_, i) => `live${i}`), '100']);
    other.close();
    store.close();
  });
});
