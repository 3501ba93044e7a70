import { afterEach, describe, expect, it } from 'vitest';
import type { ExchangeFilter } from '../../src/shared/api';
import { Store, type ExchangeRecord } from '../../src/main/store';
import { ERROR_EXCHANGE } from '../../src/main/store/exchange-filter';
import { withRawDb } from '../support/raw-db';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();
const stores: Store[] = [];
afterEach(() => stores.splice(0).forEach((s) => s.close()));

function record(over: Partial<ExchangeRecord> = {}): ExchangeRecord {
  return {
    kind: 'wpi', started: 1000, ended: 1005, listener: 'default', localPort: 18443, peerAddress: '192.0.2.10', peerPort: 5000,
    tlsProtocol: 'TLSv1.3', tlsCipher: 'TLS_AES_256_GCM_SHA384', method: 'POST', path: '/DeploymentService/LoginService',
    httpStatus: 200, requestHeaders: [['Content-Type', 'text/xml']], requestBody: Buffer.from('<WorkpointMessage/>'),
    responseHeaders: [['Content-Type', 'text/xml']], responseBody: Buffer.from('<DLSMessage/>'), mac: '00:1A:E8:00:00:01', reason: 'start-up',
    replyAction: null, replyStatus: null, nonce: 'N1', fragment: null, itemCount: 2, refusedItems: 0, action: 'ReadAllItems', error: null, warning: null,
    ...over,
  };
}

/** Ten exchanges covering every filter dimension; ids 1..10 in this order. */
function fixture(dir = newDir()): Store {
  const store = new Store(dir);
  stores.push(store);
  const rows: Partial<ExchangeRecord>[] = [
    {}, // 1
    { reason: 'reply-to', replyAction: 'ReadAllItems', replyStatus: 'accepted', action: 'CleanUp' }, // 2
    { mac: '00:1A:E8:00:00:02', peerAddress: '192.0.2.11', requestBody: Buffer.from('<Item name="sntp-addr">pool.ntp.org</Item>') }, // 3
    { reason: 'reply-to', replyAction: 'WriteItems', replyStatus: 'failed', action: 'CleanUp' }, // 4
    { kind: 'tls-failure', mac: null, reason: null, action: null, httpStatus: 0, method: null, path: null, error: 'TLS handshake failed: unsupported protocol', requestBody: Buffer.alloc(0), responseBody: Buffer.alloc(0) }, // 5
    { mac: null, reason: null, action: null, httpStatus: 400, error: 'unknown ReasonForContact "hello"' }, // 6
    { listener: 'secure', localPort: 18444 }, // 7
    { reason: 'reply-to', replyStatus: 'busy', action: 'CleanUp' }, // 8
    { kind: 'contact-me', listener: 'contact-me', httpStatus: 204, reason: null, action: null, peerAddress: '192.0.2.12', mac: '00:1A:E8:00:00:03' }, // 9
    { responseBody: Buffer.from('100% done_x'), warning: 'reply-to matched by address only' }, // 10
  ];
  for (const r of rows) store.commit(record(r), {}, null);
  return store;
}

const ids = (store: Store, f: ExchangeFilter) => store.listExchanges(f, { limit: 100 }).exchanges.map((x) => x.id);

describe('exchange filter (parameterised SQL over the store)', () => {
  it('filters by device: MAC with any separators or partial, or peer address', () => {
    const s = fixture();
    expect(ids(s, { device: '00:1A:E8:00:00:02' })).toEqual([3]);
    expect(ids(s, { device: '001ae8000002' })).toEqual([3]);
    expect(ids(s, { device: '00-1a-e8-00-00-03' })).toEqual([9]);
    expect(ids(s, { device: 'E8:00:00:0' })).toHaveLength(8);
    expect(ids(s, { device: '192.0.2.11' })).toEqual([3]);
  });

  it('filters by reason, action, status (HTTP, class, reply status, tls), mode, kind, interaction', () => {
    const s = fixture();
    expect(ids(s, { reason: 'reply-to' })).toEqual([2, 4, 8]);
    expect(ids(s, { action: 'CleanUp' })).toEqual([2, 4, 8]);
    expect(ids(s, { status: '400' })).toEqual([6]);
    expect(ids(s, { status: '4xx' })).toEqual([6]);
    expect(ids(s, { status: '2xx' })).toHaveLength(8);
    expect(ids(s, { status: 'failed' })).toEqual([4]);
    expect(ids(s, { status: 'BUSY' })).toEqual([8]);
    expect(ids(s, { status: 'tls' })).toEqual([5]);
    expect(ids(s, { listener: 'secure' })).toEqual([7]);
    expect(ids(s, { kind: 'contact-me' })).toEqual([9]);
    expect(ids(s, { interactionId: 99 })).toEqual([]);
    expect(ids(s, { reason: 'reply-to', status: 'failed' })).toEqual([4]);
  });

  it('errors only: failed handshakes, refusals, HTTP ≥ 400, failed replies; not a busy one (the phone answered: it is in a call)', () => {
    const s = fixture();
    expect(ids(s, { errorsOnly: true })).toEqual([4, 5, 6]);
    expect(ids(s, { status: 'busy' })).toEqual([8]);
    // An accepted reply that refused items of the write is one.
    s.commit(record({ reason: 'reply-to', replyAction: 'WriteItems', replyStatus: 'accepted', action: 'CleanUp', refusedItems: 1 }), {}, null);
    expect(ids(s, { errorsOnly: true })).toEqual([4, 5, 6, 11]);
    expect(s.listExchanges({ errorsOnly: true }, { limit: 100 }).matched).toBe(4);
  });

  it('a store whose errors index held busy replies (schema 20) leaves them out once opened, through the index', () => {
    const dir = newDir();
    fixture(dir);
    stores.pop()!.close();
    withRawDb(dir, (db) => {
      db.exec(`DROP INDEX exchanges_errors; CREATE INDEX exchanges_errors ON exchanges (id) WHERE (kind = 'tls-failure' OR error IS NOT NULL OR http_status >= 400 OR reply_status IN ('failed', 'busy'))`);
      db.pragma('user_version = 20');
    });
    const again = new Store(dir);
    try {
      expect(ids(again, { errorsOnly: true })).toEqual([4, 5, 6]);
      const plan = withRawDb(dir, (db) => db.prepare(`EXPLAIN QUERY PLAN SELECT id FROM exchanges WHERE ${ERROR_EXCHANGE}`).all() as { detail: string }[]);
      expect(plan.map((p) => p.detail).join(' ')).toMatch(/INDEX exchanges_errors/);
    } finally {
      again.close();
    }
  });

  it('free text: ASCII letters in either case, in the bodies as in the summary fields; LIKE characters are literal', () => {
    const s = fixture();
    expect(ids(s, { text: 'pool.ntp.org' })).toEqual([3]);
    expect(ids(s, { text: 'POOL.NTP.ORG' })).toEqual([3]); // bodies too
    expect(ids(s, { text: 'PoOl.NtP.oRg' })).toEqual([3]);
    expect(ids(s, { text: 'UNSUPPORTED' })).toEqual([5]); // error text: case-insensitive
    expect(ids(s, { text: '100%' })).toEqual([10]);
    expect(ids(s, { text: '00%' })).toEqual([10]);
    expect(() => ids(s, { text: '%' })).toThrow(/at least 3 characters in a row/); // the index reads 3 at a time
    expect(ids(s, { text: 'done_' })).toEqual([10]);
    expect(ids(s, { text: "x' OR 1=1 --" })).toEqual([]);
    expect(ids(s, { text: 'matched by address' })).toEqual([10]);
  });

  it('pages newest-first from the end, older with beforeId, newer with afterId; counts agree', () => {
    const s = fixture();
    const last = s.listExchanges({}, { limit: 3 });
    expect(last.exchanges.map((x) => x.id)).toEqual([8, 9, 10]);
    expect(last).toMatchObject({ matched: 10, total: 10, newestId: 10, hasOlder: true, hasNewer: false });
    const older = s.listExchanges({}, { limit: 3, beforeId: 8, counts: false });
    expect(older.exchanges.map((x) => x.id)).toEqual([5, 6, 7]);
    expect(older).toMatchObject({ matched: null, total: null, newestId: null, hasOlder: true });
    const newer = s.listExchanges({}, { limit: 3, afterId: 2, counts: false });
    expect(newer.exchanges.map((x) => x.id)).toEqual([3, 4, 5]);
    expect(newer.hasNewer).toBe(true);
    const filtered = s.listExchanges({ reason: 'reply-to', sinceId: 3 }, { limit: 10 });
    expect(filtered).toMatchObject({ matched: 2, total: 7, hasOlder: false });
    expect(s.countExchanges({ errorsOnly: true })).toBe(3);
    expect(s.newestExchangeId()).toBe(10);
  });

  it('returns the same summaries as Store.exchanges()', () => {
    const s = fixture();
    expect(s.listExchanges({}, { limit: 100 }).exchanges).toEqual(s.exchanges({ limit: 100, newestFirst: false }));
  });
});
