/**
 * Credential headers (Authorization, Proxy-Authorization) never reach the file: masked as the
 * store writes an exchange, whoever recorded it (a listener, DCMP, the relay), and migration 18
 * masks rows stored before, making their search index entries again. Free text must find no part
 * of the credential afterwards, in the list fields or through the index.
 */
import { describe, expect, it } from 'vitest';
import { Store } from '../../src/main/store';
import { withRawDb } from '../support/raw-db';
import { exchangeRecord } from '../support/records';
import { manualStores } from '../support/manual-stores';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();
const { store, open } = manualStores();

const BASIC = Buffer.from('dlsadmin:Cred-4K7-basic').toString('base64');
const BEARER = 'Cred-9Q2-bearer-token';
const HEADERS: [string, string][] = [['Host', '127.0.0.1'], ['Authorization', `Basic ${BASIC}`], ['proxy-AUTHORIZATION', `Bearer ${BEARER}`], ['Content-Type', 'text/xml']];
const BODY = Buffer.from('<WorkpointMessage><Message nonce="1"><ReasonForContact>start-up</ReasonForContact><ItemList><Item name="e164">4711-findable</Item></ItemList></Message></WorkpointMessage>');
const found = (s: Store, text: string) => s.listExchanges({ text }, { limit: 50 }).exchanges.map((x) => x.id);

describe('credential headers', () => {
  it('are masked as the store writes an exchange, DCMP polls included, the scheme kept', () => {
    const dir = newDir();
    const s = store(dir);
    const { exchangeId } = s.commit(exchangeRecord({ kind: 'dcmp', listener: 'dcmp', requestHeaders: HEADERS }), {}, null);
    expect(s.exchange(exchangeId)!.requestHeaders).toEqual([['Host', '127.0.0.1'], ['Authorization', 'Basic ••••••'], ['proxy-AUTHORIZATION', 'Bearer ••••••'], ['Content-Type', 'text/xml']]);
    const raw = withRawDb(dir, (db) => (db.prepare('SELECT request_headers AS h FROM exchanges').get() as { h: string }).h);
    for (const secret of [BASIC, BEARER]) expect(raw).not.toContain(secret);
  });

  it('stored before (migration 18): masked in the file, and free text finds no part of them, through the index or the list fields', () => {
    const dir = newDir();
    const before = store(dir);
    // Bodies of tens of kB that do not compress: the index entries made again hold real text.
    const noise = (i: number) => Buffer.from(Array.from({ length: 4000 }, (_, k) => ((k * 2654435761 + i) >>> 0).toString(36)).join(''));
    const ids = [1, 2, 3].map((i) => before.commit(exchangeRecord({ started: i, ended: i, requestBody: Buffer.concat([BODY, noise(i)]), responseBody: noise(i + 7) }), {}, null).exchangeId);
    // As an older LocalDLS stored them: the headers as received, two rows indexed, one not yet.
    withRawDb(dir, (db) => db.prepare('UPDATE exchanges SET request_headers = ? WHERE id IN (?, ?, ?)').run(JSON.stringify(HEADERS), ...ids));
    before.search.indexSome(10_000);
    withRawDb(dir, (db) => db.prepare('UPDATE exchange_text_progress SET indexed_through = ?').run(ids[1]!));
    expect(found(before, BASIC.slice(0, 12))).toEqual(ids);
    before.close();
    open.pop();
    withRawDb(dir, (db) => db.pragma('user_version = 17'));

    const s = store(dir);
    const raw = withRawDb(dir, (db) => (db.prepare('SELECT group_concat(request_headers) AS h FROM exchanges').get() as { h: string }).h);
    for (const secret of [BASIC, BEARER]) expect(raw).not.toContain(secret);
    expect(raw.match(/Basic ••••••/g)).toHaveLength(3);
    for (const part of [BASIC.slice(0, 12), BASIC.slice(8, 20), BEARER, 'Cred-9Q2']) expect(found(s, part), part).toEqual([]);
    // The index still holds each row's bodies and list fields: the rows are found as before.
    s.search.catchUp();
    expect(found(s, '4711-findable')).toEqual(ids);
    expect(found(s, 'Basic ••••••')).toEqual(ids);
  });
});
