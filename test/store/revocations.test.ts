/**
 * Revocations live in the database (migration 5): normalised serials, seen by other connections at
 * once, committed with the device change that causes them, refused duplicate bootstraps leave no
 * trusted certificate behind, and a data folder from before keeps its pki/revoked.json entries.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BootstrapUnderWayError, Store, type ExchangeRecord } from '../../src/main/store';
import { withRawDb } from '../support/raw-db';
import { exchangeRecord } from '../support/records';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();
const MAC = '00:1A:E8:00:00:01';
const SERIAL = '4F0A11';

const record = (over: Partial<ExchangeRecord> = {}) => exchangeRecord({ listener: 'secure', localPort: 18444, mac: MAC, ...over });

function secureDevice(store: Store): void {
  store.commit(record(), { device: { mac: MAC, lastAddress: '127.0.0.1' }, mode: 'secure', bootstrap: 'done', certSerial: SERIAL }, null);
}

describe('revocations in the store', () => {
  it('normalises serials, says whether one was new, and is seen by another connection at once', () => {
    const dir = newDir();
    const store = new Store(dir);
    const other = new Store(dir);
    expect(store.isRevoked(SERIAL)).toBe(false);
    expect(store.revoke('4f:0a:11', MAC, 'test')).toBe(true);
    expect(store.revoke(SERIAL, MAC, 'test')).toBe(false);
    expect(other.isRevoked(`00${SERIAL}`)).toBe(true);
    expect(other.isRevoked('not hex')).toBe(false);
    expect(() => store.revoke('xyz', null, 'test')).toThrow(/not a certificate serial number/);
    expect(other.revokedCertificates()).toEqual([{ serial: SERIAL, mac: MAC, revokedAt: expect.any(Number) as unknown, reason: 'test' }]);
    store.close();
    other.close();
  });

  it('commits a revocation with its exchange, or not at all', () => {
    const dir = newDir();
    const store = new Store(dir);
    secureDevice(store);
    // A failing write inside the exchange's transaction (planted from another connection, as a disk error would).
    withRawDb(dir, (db) => db.exec(`CREATE TRIGGER fail BEFORE INSERT ON exchanges BEGIN SELECT RAISE(ABORT, 'disk says no'); END`));
    const reset = { mode: 'default' as const, bootstrap: null, certSerial: null, revoke: { serial: SERIAL, reason: 'factory reset' } };
    expect(() => store.commit(record(), reset, null)).toThrow(/disk says no/);
    expect(store.isRevoked(SERIAL)).toBe(false);
    expect(store.device(MAC)).toMatchObject({ mode: 'secure', certSerial: SERIAL });
    withRawDb(dir, (db) => db.exec('DROP TRIGGER fail'));
    store.commit(record(), reset, null);
    expect(store.isRevoked(SERIAL)).toBe(true);
    expect(store.device(MAC)).toMatchObject({ mode: 'default', certSerial: null });
    store.close();
  });

  it('forgets a phone in one transaction: its certificate revoked, the device back in Default Mode', () => {
    const store = new Store(newDir());
    secureDevice(store);
    expect(store.forgetCertificate(MAC, 2000)).toBe(SERIAL);
    expect(store.isRevoked(SERIAL)).toBe(true);
    expect(store.device(MAC)).toMatchObject({ mode: 'default', bootstrap: null, certSerial: null });
    expect(store.forgetCertificate(MAC, 3000)).toBeNull();
    store.close();
  });

  it('refuses a second bootstrap of a phone, from any connection, and revokes the certificate made for it', () => {
    const dir = newDir();
    const ui = new Store(dir);
    const cli = new Store(dir);
    ui.commit(record({ listener: 'default' }), { device: { mac: MAC, lastAddress: '127.0.0.1' } }, null);
    const first = ui.queueBootstrap({ mac: MAC, kind: 'Bootstrap', items: [] }, 1000, 'AA01');
    expect(cli.device(MAC)?.bootstrap).toBe('pending');
    expect(() => cli.queueBootstrap({ mac: MAC, kind: 'Bootstrap', items: [] }, 1001, 'AA02')).toThrow(BootstrapUnderWayError);
    expect(() => cli.queueBootstrap({ mac: MAC, kind: 'FactoryReset', items: [], source: 'bootstrap:undo' }, 1001)).toThrow(`job ${first.id}`);
    expect(ui.jobs.list({ mac: MAC }).map((j) => j.id)).toEqual([first.id]);
    expect(ui.isRevoked('AA02')).toBe(true);
    expect(ui.isRevoked('AA01')).toBe(false);
    // Once cancelled, a new one may start; the cancel leaves the phone "failed", not "pending".
    expect(cli.cancelJob(first.id, 1002)).toMatchObject({ cancelled: true, job: { state: 'cancelled' } });
    expect(ui.device(MAC)?.bootstrap).toBe('failed');
    expect(cli.cancelJob(first.id, 1003)).toMatchObject({ cancelled: false });
    expect(cli.cancelJob(9999, 1003)).toBeUndefined();
    expect(ui.queueBootstrap({ mac: MAC, kind: 'Bootstrap', items: [] }, 1004, 'AA03').id).toBeGreaterThan(first.id);
    ui.close();
    cli.close();
  });

  it('moves a pki/revoked.json of an older data folder into the database once, keeping the file', () => {
    const dir = newDir();
    mkdirSync(join(dir, 'pki'), { recursive: true });
    const legacy = { version: 1, revoked: [{ serial: '0ABC', revokedAt: '2026-01-02T03:04:05.000Z' }, { serial: 'DEF0', revokedAt: 'garbled' }] };
    writeFileSync(join(dir, 'pki', 'revoked.json'), JSON.stringify(legacy));
    const store = new Store(dir);
    expect(store.notices.join('\n')).toMatch(/moved 2 revoked certificate serial\(s\) from pki\/revoked.json/);
    expect(store.isRevoked('0ABC')).toBe(true);
    expect(store.isRevoked('DEF0')).toBe(true);
    expect(store.revokedCertificates()[0]).toMatchObject({ serial: '0ABC', revokedAt: Date.parse('2026-01-02T03:04:05.000Z') });
    expect(existsSync(join(dir, 'pki', 'revoked.json'))).toBe(false);
    expect(JSON.parse(readFileSync(join(dir, 'pki', 'revoked.json.imported'), 'utf8'))).toEqual(legacy);
    store.close();
    const again = new Store(dir);
    expect(again.notices).toEqual([]);
    again.close();
  });

  it('refuses a damaged pki/revoked.json with what to do, and changes nothing', () => {
    const dir = newDir();
    mkdirSync(join(dir, 'pki'), { recursive: true });
    writeFileSync(join(dir, 'pki', 'revoked.json'), '{"version": 1, "revoked": [');
    expect(() => new Store(dir)).toThrow(/cannot import the revocation list .*revoked\.json.*fix or remove the file/);
    expect(readFileSync(join(dir, 'pki', 'revoked.json'), 'utf8')).toBe('{"version": 1, "revoked": [');
  });
});
