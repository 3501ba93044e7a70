import { describe, expect, it } from 'vitest';
import { Store, type ExchangeRecord } from '../../src/main/store';
import { tempDirs } from '../support/tmp';
import { withRawDb } from '../support/raw-db';

const newDir = tempDirs();
const MAC = '00:1A:E8:00:00:01';
const DAY = 86_400_000;

function record(started: number, over: Partial<ExchangeRecord> = {}): ExchangeRecord {
  return {
    kind: 'wpi', started, ended: started + 5, listener: 'default', localPort: 18443, peerAddress: '127.0.0.1', peerPort: 5000,
    tlsProtocol: 'TLSv1.3', tlsCipher: 'TLS_AES_256_GCM_SHA384', method: 'POST', path: '/DeploymentService/LoginService',
    httpStatus: 200, requestHeaders: [['Content-Type', 'text/xml']], requestBody: Buffer.alloc(6000, 'x'),
    responseHeaders: [['Content-Type', 'text/xml']], responseBody: Buffer.from('<res/>'), mac: MAC, reason: 'start-up',
    replyAction: null, replyStatus: null, nonce: 'N1', fragment: null, itemCount: 0, action: 'CleanUp', error: null, warning: null,
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
