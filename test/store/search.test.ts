import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { ExchangeFilter } from '../../src/shared/api';
import { MIGRATIONS, Store, type ExchangeRecord } from '../../src/main/store';
import { DATABASE_FILE } from '../../src/main/store/data-dir';
import { unpackBody } from '../../src/main/store/body-codec';
import { TEXT_COUNT_CAP, TEXT_PAGE_MAX } from '../../src/main/store/exchange-filter';
import { searchableText } from '../../src/shared/free-text';
import { indexedBody, shownContains } from '../../src/main/store/search-text';
import { messageView } from '../../src/main/commands/traffic-views';
import type { Exchange } from '../../src/shared/model';
import { tempDirs } from '../support/tmp';
import { withRawDb } from '../support/raw-db';

const newDir = tempDirs();
const stores: Store[] = [];
afterEach(() => stores.splice(0).forEach((s) => s.close()));

function open(dir = newDir()): Store {
  const store = new Store(dir, { searchIndexing: 'manual', synchronous: 'OFF' });
  stores.push(store);
  return store;
}

const XML = [['Content-Type', 'text/xml']] as [string, string][];

function record(over: Partial<ExchangeRecord> = {}): ExchangeRecord {
  return {
    kind: 'wpi', started: 1000, ended: 1005, listener: 'default', localPort: 18443, peerAddress: '192.0.2.10', peerPort: 5000,
    tlsProtocol: 'TLSv1.3', tlsCipher: 'TLS_AES_256_GCM_SHA384', method: 'POST', path: '/DeploymentService/LoginService',
    httpStatus: 200, requestHeaders: XML, requestBody: Buffer.from('<WorkpointMessage/>'),
    responseHeaders: XML, responseBody: Buffer.from('<DLSMessage/>'), mac: '00:1A:E8:00:00:01', reason: 'start-up',
    replyAction: null, replyStatus: null, nonce: 'N1', fragment: null, itemCount: 2, refusedItems: 0, action: 'ReadAllItems', error: null, warning: null,
    ...over,
  };
}

const item = (name: string, value: string) => `<Item name="${name}">${value}</Item>`;
const message = (...items: string[]) => Buffer.from(`<WorkpointMessage><Message nonce="N">${items.join('\n')}</Message></WorkpointMessage>`);

/** Bytes that do not compress (a fixed xorshift sequence), so the body is stored as received. */
function noise(n: number): Buffer {
  let x = 2463534242;
  return Buffer.from(Array.from({ length: n }, () => ((x ^= x << 13), (x ^= x >>> 17), (x ^= x << 5), x & 0xff)));
}

/**
 * Bodies and fields that exercise every rule: secrets, masks, case, non-XML, invalid UTF-8, boundaries;
 * the first is long enough to be stored compressed (body-codec.ts), the fifth long but incompressible.
 */
const ROWS: Partial<ExchangeRecord>[] = [
  { requestBody: message(item('sntp-addr', 'pool.ntp.org'), item('user-pwd', 'hunter2secret'), item('e164', '4989722300'), item('note', 'lorem ipsum '.repeat(150))) },
  { requestBody: message(item('sip-pwd', 'Zebra77'), item('display-id', 'Zebra 7'), item('x', '"pwd">Z')) },
  { responseBody: Buffer.from('<DLSMessage><Action>WriteItems</Action>' + item('file-https-base-url', 'https://admin:s3cr3tpass@files.example/fw') + '</DLSMessage>') },
  { requestBody: Buffer.from('plain text body with abc at the end: tailabc'), requestHeaders: [['Content-Type', 'text/plain']], responseBody: Buffer.from('defhead of the response') },
  { requestBody: Buffer.concat([Buffer.from([0x3c, 0x61, 0xe2, 0x41, 0x42, 0x43, 0x44, 0xff, 0x3e]), noise(2048)]), error: 'unreadable body "ABCD"' },
  { requestBody: message(item('note', 'already masked ••••••, and 100% done_x')), warning: 'reply-to matched by address only' },
  { mac: null, peerAddress: '198.51.100.7', reason: null, action: null, httpStatus: 400, error: 'unknown ReasonForContact "hello"' },
  { kind: 'tls-failure', mac: null, reason: null, action: null, httpStatus: 0, method: null, path: null, error: 'TLS handshake failed: unsupported protocol', requestBody: Buffer.alloc(0), responseBody: Buffer.alloc(0) },
  { requestBody: message(item('user-pwd', 'Ünïcode-Pässwort'), item('display', 'Grüße aus München')) },
  { requestBody: message(item('admin-pwd', 'ab')), responseBody: message(item('sntp-addr', 'POOL.NTP.ORG')) },
];

/** Every text below that can be searched (3 characters in a row); the shorter ones are refused (see below). */
const ALL_QUERIES = [
  'pool.ntp.org', 'POOL.NTP.ORG', 'Pool', 'sntp-addr', 'hunter2secret', 'hunter2', 'pwd">hunter', 'user-pwd">', 'Zebra', 'Zebra77', '"pwd">Z', 'pwd">Z',
  's3cr3tpass', 'admin:', '@files.example', '••••••', 'masked ••', '•', 'tailabc', 'abcdef', 'tailabcdefhead', 'defhead', 'ABCD', 'abcd', 'unreadable',
  '100%', '%', 'done_', 'matched by address', '198.51.100.7', 'hello', 'HANDSHAKE', 'LoginService', 'text/xml', 'TEXT/XML', 'Content-Type',
  '00:1A:E8', '00:1a:e8:00:00:01', 'Grüße', 'GRÜSSE', 'München', 'Pässwort', 'Ünïcode', 'ab', 'e1', '4989722300', "x' OR 1=1 --", '"', 'a"b', 'NEAR(a b)',
  'AND', 'OR x', 'x*', '^abc', 'sntp-addr">pool', '\u0000ab', 'ntp.org</Item>\n<Item', 'ReadAllItems', '192.0.2.10\n/Deploy', 'Workpoint',
  '\u0000abc', 'a\u0000bcd', 'abc*', 'NEAR',
];
const QUERIES = ALL_QUERIES.filter(searchableText);

/** What free text should find, straight from the definition: the bodies as the view shows them and the list fields, both ignoring ASCII case. */
function expected(store: Store, text: string): number[] {
  const lower = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
  const ids: number[] = [];
  for (const { id } of store.exchanges({ limit: 10_000, newestFirst: false })) {
    const x = store.exchange(id) as Exchange;
    const shown = (['request', 'response'] as const).some((side) => (side === 'request' ? x.requestBody : x.responseBody).length > 0 && lower(messageView(x, side).text).includes(lower(text)));
    const fields = [x.mac, x.peerAddress, x.reason, x.replyAction, x.action, x.error, x.warning, x.path, JSON.stringify(x.requestHeaders), JSON.stringify(x.responseHeaders)];
    if (shown || fields.some((f) => f !== null && lower(f).includes(lower(text)))) ids.push(id);
  }
  return ids;
}

const ids = (store: Store, f: ExchangeFilter) => store.listExchanges(f, { limit: 100 }).exchanges.map((x) => x.id);

function fill(store: Store, rounds = 1): void {
  for (let r = 0; r < rounds; r++) for (const row of ROWS) store.commit(record(row), {}, null);
}

describe('free-text search through the trigram index', () => {
  it('finds what the view shows, whether the index holds none, some or all of the exchanges', () => {
    const store = open();
    fill(store, 2);
    const states: string[] = [];
    for (const step of ['none', 'some', 'all'] as const) {
      if (step === 'some') while (store.search.indexedThrough() < 7) store.search.indexSome(0);
      if (step === 'all') store.search.catchUp();
      states.push(`${step}: ${store.search.indexedThrough()}`);
      for (const q of QUERIES) expect(ids(store, { text: q }), `${step}: ${JSON.stringify(q)}`).toEqual(expected(store, q));
    }
    expect(states).toEqual(['none: 0', 'some: 7', 'all: 20']);
  });

  it('never finds a secret value the view masks, nor a guess that ends inside one', () => {
    const store = open();
    fill(store);
    store.search.catchUp();
    // Every trigram of the guesses occurs in the shown text of the same row (display-id "Zebra 7", item x '"pwd">Z').
    for (const q of ['hunter2secret', 'Zebra77', 'pwd">Z', 's3cr3tpass', 'Pässwort', 'user-pwd">hunter', 'admin-pwd">ab']) {
      expect(ids(store, { text: q }), q).toEqual(q === 'pwd">Z' ? [2] : []);
    }
    expect(ids(store, { text: '"pwd">Zebra7' })).toEqual([]);
    // Nor through an export by filter.
    expect(store.inspector.exchangeIds({ text: 'hunter2secret' }, 100)).toEqual([]);
    expect(store.inspector.exchangeIds({ text: 'pool.ntp.org' }, 100)).toEqual([1, 10]); // row 10 has it in upper case
    expect(store.countExchanges({ text: 'hunter2secret' })).toBe(0);
    expect(ids(store, { text: 'Zebra 7' })).toEqual([2]);
    // The mask itself is part of what is shown.
    expect(ids(store, { text: '<Item name="user-pwd">••••••</Item>\n<Item name="e164">' })).toEqual([1]);
  });

  it('does not match across the request/response boundary or between two list fields', () => {
    const store = open();
    fill(store);
    for (const indexed of [false, true]) {
      if (indexed) store.search.catchUp();
      expect(ids(store, { text: 'tailabc' })).toEqual([4]);
      expect(ids(store, { text: 'defhead' })).toEqual([4]);
      expect(ids(store, { text: 'tailabcdefhead' })).toEqual([]);
      expect(ids(store, { text: 'abcdef' })).toEqual([]);
      expect(ids(store, { text: '00:1A:E8:00:00:01192.0.2.10' })).toEqual([]);
    }
  });

  it('combines free text with the other filters and pages through the indexed and the newer rows alike', () => {
    const store = open();
    fill(store, 30); // 300 exchanges
    while (store.search.indexedThrough() < 150) store.search.indexSome(0);
    const all = expected(store, 'pool.ntp.org');
    expect(all).toHaveLength(60); // two rows of each round: in lower and in upper case
    const seen: number[] = [];
    let page = store.listExchanges({ text: 'pool.ntp.org' }, { limit: 7 });
    expect(page).toMatchObject({ matched: 60, hasOlder: true });
    seen.unshift(...page.exchanges.map((x) => x.id));
    while (page.hasOlder) {
      page = store.listExchanges({ text: 'pool.ntp.org' }, { limit: 7, beforeId: seen[0]!, counts: false });
      seen.unshift(...page.exchanges.map((x) => x.id));
    }
    expect(seen).toEqual(all);
    const forward: number[] = [];
    for (let after = 0, more = true; more; ) {
      const p = store.listExchanges({ text: 'pool.ntp.org' }, { limit: 9, afterId: after, counts: false });
      forward.push(...p.exchanges.map((x) => x.id));
      more = p.hasNewer;
      after = forward.at(-1) ?? after;
    }
    expect(forward).toEqual(all);
    expect(ids(store, { text: 'pool', errorsOnly: true })).toEqual(expected(store, 'pool').filter((id) => store.exchange(id)!.httpStatus >= 400));
    expect(store.listExchanges({ text: 'pool.ntp.org', sinceId: 200 }, { limit: 100 }).exchanges.map((x) => x.id)).toEqual(all.filter((id) => id > 200));
    expect(store.countExchanges({ text: 'pool.ntp.org', device: '00:1A:E8:00:00:01' })).toBe(60);
  });

  it('counts free-text matches up to a cap and says the count is a lower bound', () => {
    const store = open();
    for (let i = 0; i < TEXT_COUNT_CAP + 5; i++) store.commit(record({ requestBody: message(item('n', String(i))) }), {}, null);
    store.search.catchUp();
    const newest = store.listExchanges({ text: 'Workpoint' }, { limit: 50 });
    expect(newest).toMatchObject({ matched: TEXT_COUNT_CAP, matchedAtLeast: true, hasOlder: true });
    // A page going back holds at most TEXT_PAGE_MAX rows: the list loads older ones as it scrolls.
    const big = store.listExchanges({ text: 'Workpoint' }, { limit: 2000 });
    expect(big.exchanges).toHaveLength(TEXT_PAGE_MAX);
    expect(big).toMatchObject({ matched: TEXT_COUNT_CAP, matchedAtLeast: true, hasOlder: true });
    expect(big.exchanges.at(-1)!.id).toBe(TEXT_COUNT_CAP + 5);
    expect(store.listExchanges({ text: '<Item name="n">4' }, { limit: 500 })).toMatchObject({ matched: 111 });
    expect(store.listExchanges({ text: '<Item name="n">4' }, { limit: 500 }).matchedAtLeast).toBeUndefined();
  });

  it('refuses text without 3 characters in a row (the index reads 3 at a time), whole: no part searched, nothing counted or exported', () => {
    const store = open();
    fill(store);
    store.search.catchUp();
    const short = ALL_QUERIES.filter((q) => !searchableText(q));
    expect(short).toEqual(['•', '%', 'ab', 'e1', '"', 'x*', '\u0000ab']);
    for (const text of short) {
      expect(() => store.listExchanges({ text }, { limit: 10 }), text).toThrow(/at least 3 characters in a row/);
      expect(() => store.countExchanges({ text }), text).toThrow(/at least 3 characters in a row/);
      expect(() => store.inspector.exchangeIds({ text }, 10), text).toThrow(/at least 3 characters in a row/);
    }
    // Three in a row, wherever they are, is enough.
    expect(ids(store, { text: '100%' })).toEqual(expected(store, '100%'));
  });

  it('forgets purged exchanges, indexes the next ids after a purge of everything, and survives a restart', async () => {
    const dir = newDir();
    let store = open(dir);
    const now = Date.now();
    for (const [i, row] of ROWS.entries()) store.commit(record({ ...row, started: now - (i < 5 ? 40 : 1) * 86_400_000 }), {}, null);
    store.search.catchUp();
    await store.purgeOlderThan(now - 30 * 86_400_000);
    expect(ids(store, { text: 'pool.ntp.org' })).toEqual([10]); // the row with it in upper case is younger
    expect(withRawDb(dir, (db) => db.prepare('SELECT count(*) AS n FROM exchange_text_masked WHERE exchange_id NOT IN (SELECT id FROM exchanges)').get())).toEqual({ n: 0 });
    expect(withRawDb(dir, (db) => db.prepare(`SELECT rowid FROM exchange_text WHERE exchange_text MATCH '"ntp" AND "org"'`).all())).toEqual([{ rowid: 10 }]);
    for (const q of QUERIES) expect(ids(store, { text: q }), q).toEqual(expected(store, q));
    // Everything goes: the mark goes down with the rows; the next id follows the highest ever given
    // (migration 15), and is found before and after it is indexed.
    await store.purgeOlderThan(now + 1);
    expect(store.search.indexedThrough()).toBe(0);
    const next = ROWS.length + 1;
    store.commit(record({ started: now + 5, requestBody: message(item('sntp-addr', 'time.example')) }), {}, null);
    expect(ids(store, { text: 'time.example' })).toEqual([next]);
    store.close();
    store = open(dir);
    expect(ids(store, { text: 'time.example' })).toEqual([next]);
    store.search.catchUp();
    expect(store.search.indexedThrough()).toBe(next);
    expect(ids(store, { text: 'time.example' })).toEqual([next]);
  });

  it('builds the index for a database from before it, in the background, searching correctly meanwhile', async () => {
    const source = open();
    fill(source, 3);
    source.close();
    // A database of schema 8 with those exchanges in it, as the previous version left it.
    const dir = newDir();
    const db = new BetterSqlite3(join(dir, DATABASE_FILE));
    db.exec(MIGRATIONS.slice(0, 8).join(';\n'));
    db.pragma('user_version = 8');
    db.prepare('ATTACH ? AS source').run(join(source.dataDir, DATABASE_FILE));
    // Schema 8 kept the bodies as received (compact bodies came with migration 11).
    db.function('unpacked', (body: unknown, encoding: unknown, size: unknown) => unpackBody(body as Buffer, encoding as string | null, size as number | null, 'body'));
    const old = (db.prepare('PRAGMA main.table_info(exchanges)').all() as { name: string }[]).map((c) => c.name);
    const from = old.map((c) => (c.endsWith('_body') ? `unpacked(${c}, ${c.replace('body', 'encoding')}, ${c.replace('body', 'size')})` : c));
    db.exec(`INSERT INTO main.exchanges (${old.join(', ')}) SELECT ${from.join(', ')} FROM source.exchanges`);
    db.close();
    const store = new Store(dir, { searchIndexing: 'background' });
    stores.push(store);
    expect(store.search.indexedThrough()).toBe(0);
    expect(ids(store, { text: 'pool.ntp.org' })).toEqual(expected(store, 'pool.ntp.org'));
    await expect.poll(() => store.search.indexedThrough(), { timeout: 20_000 }).toBe(30);
    for (const q of QUERIES) expect(ids(store, { text: q }), q).toEqual(expected(store, q));
  });

  it('lets two processes index at once without indexing a row twice', () => {
    const dir = newDir();
    const a = open(dir);
    const b = open(dir);
    fill(a, 2);
    while (a.search.indexSome(0) + b.search.indexSome(0) > 0);
    expect(a.search.indexedThrough()).toBe(20);
    expect(withRawDb(dir, (db) => db.prepare(`SELECT count(*) AS n FROM exchange_text WHERE exchange_text MATCH '"ntp"'`).get())).toEqual({ n: 4 });
  });
});

describe('the exact check behind the index', () => {
  it('records where the masked body is the raw one, and agrees with masking the whole body', () => {
    const body = message(item('user-pwd', 'abc•def'), item('x', '••••••'), item('y', 'abc'), item('sip-pwd', 'abc'));
    const kept = indexedBody(body).kept;
    expect(kept).toMatch(/^\d+-\d+(,\d+-\d+)+$/);
    for (const needle of ['abc', 'def', 'abc•', '•', '••••••<', '"y">abc<', '"sip-pwd">abc', 'name="x"']) {
      const n = Buffer.from(needle);
      expect(shownContains(body, n, kept), needle).toBe(shownContains(body, n, null));
    }
    expect(indexedBody(Buffer.from([0x00, 0x41])).kept).toBeNull();
    expect(indexedBody(Buffer.from('<a/>')).kept).toBe('');
  });

  it('the kept ranges answer as masking the whole body does, for any needle and any number of masked values', () => {
    let seed = 11;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
    const words = ['abc', 'Abc', 'pwd', 'x', 'ab', '••', '<', '"', '">', '</Item>', 'user-pwd">', 'https://u:pw@h/', '?k=v', ' '];
    for (let round = 0; round < 300; round++) {
      const items = Array.from({ length: 1 + rnd(8) }, (_, k) => item(rnd(3) === 0 ? 'user-pwd' : `n${k}`, Array.from({ length: 1 + rnd(4) }, () => words[rnd(words.length)]).join('')));
      const body = rnd(4) === 0 ? Buffer.concat([message(...items), Buffer.from([0xff])]) : message(...items);
      const kept = indexedBody(body).kept;
      for (let q = 0; q < 6; q++) {
        const needle = Buffer.from(Array.from({ length: 1 + rnd(3) }, () => words[rnd(words.length)]).join(''));
        expect(shownContains(body, needle, kept), `${body.toString()} / ${needle.toString()}`).toBe(shownContains(body, needle, null));
      }
    }
  });

  it('a body that is not UTF-8 gets ranges over its text as shown (U+FFFD), so a search does not mask it again, and agrees with masking it', () => {
    expect(indexedBody(Buffer.from([0xff, 0x41])).kept).toBe('L');
    const body = Buffer.concat([Buffer.from([0xff, 0xe2, 0x82]), message(item('user-pwd', 'abcSecret'), item('y', 'abcé'), item('sip-pwd', 'ABC')), Buffer.from([0xc3])]);
    const kept = indexedBody(body).kept;
    expect(kept).toMatch(/^L\d+-\d+(,\d+-\d+)+$/);
    for (const needle of ['abc', 'ABC', 'abcSecret', 'Secret', '\ufffd', '\ufffd<Work', 'abc\u00e9', '"y">ABC', '"sip-pwd">abc', 'Message>\ufffd', '•']) {
      const n = Buffer.from(needle);
      expect(shownContains(body, n, kept), needle).toBe(shownContains(body, n, null));
    }
    expect(shownContains(body, Buffer.from('secret'), kept)).toBe(false);
    expect(shownContains(body, Buffer.from('"Y">aBc'), kept)).toBe(true);
  });
});
