/**
 * Relay mode's record of the headers on the upstream's side (migration 26): written with the
 * exchange, credentials masked in the file; rows relayed before the record read as "not recorded"
 * (null), and so does a column damaged outside LocalDLS, rather than failing the exchange's view.
 */
import { describe, expect, it } from 'vitest';
import type { UpstreamView } from '../../src/shared/api';
import { withRawDb } from '../support/raw-db';
import { exchangeRecord } from '../support/records';
import { manualStores } from '../support/manual-stores';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();
const { store, open } = manualStores();

const BASIC = Buffer.from('dlsadmin:Up-3R8-basic').toString('base64');
const UPSTREAM: UpstreamView = {
  url: 'https://127.0.0.2:28443', started: 1, connected: 2, firstByte: 3, ended: 4, httpStatus: 200, reused: false,
  tlsProtocol: 'TLSv1.3', tlsCipher: 'TLS_AES_256_GCM_SHA384', fingerprint: null, subject: null, trustedBy: 'fingerprint', failure: null, error: null,
  requestHeaders: [['Content-Type', 'text/xml'], ['Authorization', `Basic ${BASIC}`], ['Host', '127.0.0.2:28443'], ['Content-Length', '10'], ['Connection', 'keep-alive']],
  responseHeaders: [['Content-Type', 'text/xml'], ['Content-Length', '20'], ['Connection', 'keep-alive'], ['Keep-Alive', 'timeout=5']],
  headersRecorded: true,
};

describe("the upstream's headers", () => {
  it('are kept with the exchange, in order and case, the credential masked in the file', () => {
    const dir = newDir();
    const s = store(dir);
    const { exchangeId } = s.commitRelayed(exchangeRecord({}), {}, null, UPSTREAM);
    const view = s.relay.of(exchangeId)!;
    expect(view.requestHeaders).toEqual(UPSTREAM.requestHeaders!.map(([n, v]) => (n === 'Authorization' ? [n, 'Basic ••••••'] : [n, v])));
    expect(view.responseHeaders).toEqual(UPSTREAM.responseHeaders);
    expect(view.headersRecorded).toBe(true);
    // Nothing written (an upstream never reached): recorded as none, not as "not recorded".
    const { exchangeId: none } = s.commitRelayed(exchangeRecord({}), {}, null, { ...UPSTREAM, failure: 'unreachable', httpStatus: null, requestHeaders: null, responseHeaders: null });
    expect(s.relay.of(none)).toMatchObject({ requestHeaders: null, responseHeaders: null, headersRecorded: true });
    const raw = withRawDb(dir, (db) => JSON.stringify(db.prepare('SELECT * FROM upstream_exchanges').all()));
    expect(raw).not.toContain(BASIC);
  });

  it('relayed before migration 26: the columns are added, the old row reads "not recorded"; a damaged column reads the same', () => {
    const dir = newDir();
    const before = store(dir);
    const { exchangeId: old } = before.commitRelayed(exchangeRecord({}), {}, null, UPSTREAM);
    before.close();
    open.pop();
    // As schema 25 had it: no such columns.
    withRawDb(dir, (db) => {
      db.exec('ALTER TABLE upstream_exchanges DROP COLUMN request_headers; ALTER TABLE upstream_exchanges DROP COLUMN response_headers');
      db.pragma('user_version = 25');
    });
    const s = store(dir);
    expect(s.relay.of(old)).toMatchObject({ url: UPSTREAM.url, httpStatus: 200, requestHeaders: null, responseHeaders: null, headersRecorded: false });
    const { exchangeId: fresh } = s.commitRelayed(exchangeRecord({}), {}, null, UPSTREAM);
    expect(s.relay.of(fresh)!.responseHeaders).toEqual(UPSTREAM.responseHeaders);
    for (const damaged of ['not json', '{"a":1}', '[["only one"]]', '[[1,2]]']) {
      withRawDb(dir, (db) => db.prepare('UPDATE upstream_exchanges SET request_headers = ? WHERE exchange_id = ?').run(damaged, fresh));
      expect(s.relay.of(fresh)!.requestHeaders, damaged).toBeNull();
    }
  });
});
