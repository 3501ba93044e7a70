import BetterSqlite3 from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS, Store, type ExchangeRecord } from '../../src/main/store';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();
const MAC = '00:1A:E8:00:00:01';

function record(over: Partial<ExchangeRecord> = {}): ExchangeRecord {
  return {
    kind: 'wpi', started: 1000, ended: 1005, listener: 'default', localPort: 18443, peerAddress: '127.0.0.1', peerPort: 5000,
    tlsProtocol: 'TLSv1.3', tlsCipher: 'TLS_AES_256_GCM_SHA384', method: 'POST', path: '/DeploymentService/LoginService',
    httpStatus: 200, requestHeaders: [['Content-Type', 'text/xml']], requestBody: Buffer.from('<req/>'),
    responseHeaders: [['Content-Type', 'text/xml']], responseBody: Buffer.from('<res/>'), mac: MAC, reason: 'start-up',
    replyAction: null, replyStatus: null, nonce: 'N1', fragment: null, itemCount: 2, refusedItems: 0, action: 'ReadAllItems', error: null, warning: null,
    ...over,
  };
}

describe('Store', () => {
  it('migrates a new database to the latest user_version, with WAL and FULL sync', () => {
    const dir = newDir();
    const store = new Store(dir);
    expect(store.diagnostics()).toMatchObject({ schemaVersion: MIGRATIONS.length, journalMode: 'wal', synchronous: 2 });
    store.close();
    // Opening again applies nothing twice.
    const again = new Store(dir);
    expect(again.diagnostics().schemaVersion).toBe(MIGRATIONS.length);
    again.close();
  });

  it('refuses a database written by a newer LocalDLS, leaving it untouched', () => {
    const dir = newDir();
    new Store(dir).close();
    const raw = new BetterSqlite3(join(dir, 'localdls.sqlite'));
    raw.pragma(`user_version = ${MIGRATIONS.length + 5}`);
    raw.close();
    expect(() => new Store(dir)).toThrow(/newer than this LocalDLS understands/);
  });

  it('commits an exchange with its device, items and interaction in one transaction', () => {
    const store = new Store(newDir());
    const r = store.commit(record(), {
      device: { mac: MAC, e164: '100', deviceType: 'OpenStage 40', lastAddress: '127.0.0.1' },
      mergeItems: [{ name: 'e164', value: '100' }, { name: 'gigabit-ethernet', value: '', status: 'failed' }],
      openInteraction: { reason: 'start-up' },
      state: 'in-interaction',
    }, null);
    expect(r.interactionId).not.toBeNull();
    expect(store.device(MAC)).toMatchObject({ e164: '100', deviceType: 'OpenStage 40', state: 'in-interaction', firstContact: 1005 });
    expect(store.items(MAC).map((i) => [i.name, i.status])).toEqual([['e164', null], ['gigabit-ethernet', 'failed']]);
    const x = store.exchange(r.exchangeId)!;
    expect(Buffer.from(x.requestBody).toString()).toBe('<req/>');
    expect(x.requestHeaders).toEqual([['Content-Type', 'text/xml']]);
    expect(x.interactionId).toBe(r.interactionId);
    store.close();
  });

  it('keeps index 0 apart from no index, and replaces the whole set on ReadAllItems', () => {
    const store = new Store(newDir());
    store.commit(record(), { device: { mac: MAC, lastAddress: 'a' }, mergeItems: [{ name: 'k', value: 'none' }, { name: 'k', index: 0, value: 'zero' }, { name: 'k', index: 1, value: 'one' }] }, null);
    expect(store.items(MAC).map((i) => [i.index, i.value])).toEqual([[null, 'none'], [0, 'zero'], [1, 'one']]);
    store.commit(record(), { mergeItems: [{ name: 'k', index: 0, value: 'ZERO' }] }, null);
    expect(store.items(MAC).find((i) => i.index === 0)?.value).toBe('ZERO');
    expect(store.items(MAC)).toHaveLength(3);
    store.commit(record(), { replaceItems: [{ name: 'only', value: 'this' }] }, null);
    expect(store.items(MAC).map((i) => i.name)).toEqual(['only']);
    store.close();
  });

  it('writes items as a diff: unchanged items keep the time they last changed, a ReadAllItems drops what is gone, the last duplicate wins', () => {
    const store = new Store(newDir());
    const at = (ended: number) => record({ started: ended, ended });
    store.commit(at(1000), { device: { mac: MAC, lastAddress: 'a' }, replaceItems: [{ name: 'a', value: '1' }, { name: 'b', index: 0, value: 'x', status: 'ok' }, { name: 'c', value: 'gone soon' }] }, null);
    store.commit(at(2000), { replaceItems: [{ name: 'a', value: '1' }, { name: 'b', index: 0, value: 'x', status: 'failed' }, { name: 'd', value: 'new' }, { name: 'd', value: 'newer' }] }, null);
    const byName = Object.fromEntries(store.items(MAC).map((i) => [i.name, i]));
    expect(Object.keys(byName)).toEqual(['a', 'b', 'd']);
    expect(byName.a).toMatchObject({ value: '1', updated: 1000 });
    expect(byName.b).toMatchObject({ value: 'x', status: 'failed', updated: 2000 });
    expect(byName.d).toMatchObject({ value: 'newer', updated: 2000 });
    // A merge touches only what it names; an empty ReadAllItems empties the set.
    store.commit(at(3000), { mergeItems: [{ name: 'a', value: '2' }] }, null);
    expect(store.items(MAC).map((i) => [i.name, i.value, i.updated])).toEqual([['a', '2', 3000], ['b', 'x', 2000], ['d', 'newer', 2000]]);
    store.commit(at(4000), { replaceItems: [] }, null);
    expect(store.items(MAC)).toEqual([]);
    store.close();
  });

  it('rolls the whole exchange back when any part fails', () => {
    const store = new Store(newDir());
    const before = store.exchangeCount();
    // An item for a device that does not exist violates the foreign key: nothing may be kept.
    expect(() => store.commit(record({ mac: 'FF:FF:FF:FF:FF:FF' }), { mergeItems: [{ name: 'x', value: '1' }] }, null)).toThrow();
    expect(store.exchangeCount()).toBe(before);
    store.close();
  });

  it('is readable from a second connection while the writer holds it', () => {
    const dir = newDir();
    const writer = new Store(dir);
    writer.commit(record(), { device: { mac: MAC, lastAddress: 'a' } }, null);
    const reader = new Store(dir, { readonly: true });
    expect(reader.devices().map((d) => d.mac)).toEqual([MAC]);
    writer.commit(record({ started: 2000, ended: 2001 }), {}, null);
    expect(reader.exchanges({ afterId: 1 })).toHaveLength(1);
    reader.close();
    writer.close();
  });

  it('filters and pages exchanges', () => {
    const store = new Store(newDir());
    store.commit(record(), { device: { mac: MAC, lastAddress: 'a' } }, null);
    store.commit(record({ mac: null, httpStatus: 400, error: 'bad', requestBody: Buffer.from('xx') }), {}, null);
    for (let i = 0; i < 5; i++) store.commit(record(), {}, null);
    expect(store.exchanges({ mac: MAC })).toHaveLength(6);
    expect(store.exchanges({ limit: 2 }).map((x) => x.id)).toEqual([7, 6]);
    expect(store.exchanges({ limit: 2, newestFirst: false }).map((x) => x.id)).toEqual([1, 2]);
    const bad = store.exchanges({}).find((x) => x.httpStatus === 400)!;
    expect(bad).toMatchObject({ error: 'bad', requestBytes: 2, responseBytes: 6 });
    store.close();
  });

  it('ends expired interactions and sets their devices idle', () => {
    const store = new Store(newDir());
    const r = store.commit(record(), { device: { mac: MAC, lastAddress: 'a' }, openInteraction: { reason: 'start-up' }, state: 'in-interaction' }, null);
    store.expireInteractions([r.interactionId!], [MAC], 9999);
    expect(store.interaction(r.interactionId!)).toMatchObject({ ended: 9999, endReason: 'expired' });
    expect(store.device(MAC)?.state).toBe('idle');
    store.close();
  });
});
