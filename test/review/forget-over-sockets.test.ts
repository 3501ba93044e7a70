/**
 * Review of revocation and forget (093005a) over real sockets against a real Service with Secure
 * Mode: phone A bootstrapped (no PIN) on 127.0.0.61, the attacker on 127.0.0.2, and "the CLI" as a
 * second Store connection on the same data folder (another process, as far as SQLite goes).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { prepareBootstraps } from '../../src/main/app/bootstrap';
import { Service } from '../../src/main/app/service';
import { passphraseProtector } from '../../src/main/pki';
import { Store } from '../../src/main/store';
import { startUpItems } from '../support/messages';
import { tempDirs } from '../support/tmp';
import { HandPhone, itemOf } from '../security/support';

const newDir = tempDirs();
const running: Service[] = [];
const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) s.close();
  for (const s of running.splice(0)) await s.stop();
});

const A = '00:1A:E8:12:00:0A';
const SECRET = 'sip-secret-for-the-secure-channel';
const known = (mac: string) => startUpItems(mac, { 'configuration-changed-flag': 'false' });

async function securePhone() {
  const dataDir = newDir();
  const keyProtector = passphraseProtector('review forget', dataDir, { scryptCost: 1024 });
  const s = new Service({ dataDir, host: '127.0.0.1', port: 0, autoContact: false, keyProtector, securePort: 0 });
  running.push(s);
  const { port, securePort } = await s.start();
  const a = new HandPhone(A, port, '127.0.0.61');
  await a.acceptAll(await a.say({ reason: 'start-up', items: startUpItems(A) }), () => startUpItems(A));
  await prepareBootstraps(s.store, s.pki!, keyProtector, [A], { pin: { kind: 'none' }, securePort: securePort! });
  const [boot] = await a.acceptAll(await a.say({ reason: 'solicited', items: known(A) }));
  const tls = { pfx: Buffer.from(itemOf(boot!, 'dls-client-certificate')!, 'base64'), passphrase: '', ca: [itemOf(boot!, 'dls-server-ca', 0)!], rejectUnauthorized: true, servername: 'localhost' };
  const aSecure = new HandPhone(A, securePort!, '127.0.0.61', tls);
  expect((await aSecure.say({ reason: 'start-up', items: known(A) })).dls?.action).toBe('CleanUp');
  expect(s.store.device(A)).toMatchObject({ mode: 'secure' });
  const cli = new Store(dataDir);
  stores.push(cli);
  return { s, port, aSecure, cli };
}

describe('review: forget from another process, over real sockets', () => {
  it('held: a forget committed by another process refuses the next message of an open secure session', async () => {
    const { s, aSecure, cli } = await securePhone();
    s.store.jobs.add({ mac: A, kind: 'WriteItems', items: [{ name: 'e164', value: '4711' }, { name: 'sntp-addr', value: 'x' }] }, Date.now());
    const write = await aSecure.say({ reason: 'solicited', items: known(A) });
    expect(write.dls?.action).toBe('WriteItems');
    const serial = s.store.device(A)!.certSerial!;
    expect(cli.forgetCertificate(A, Date.now())).toBe(serial);
    const next = await aSecure.say({ reason: 'reply-to', action: 'WriteItems', status: 'accepted', items: [] });
    expect(next.status).toBe(403);
    expect(next.body).toMatch(/revoked/);
  }, 60_000);

  // FINDING (high): see forget-pending-undo.test.ts; here as the attacker plays it. A job queued for
  // the secure phone (its SIP password) is handed out in the Default-Mode channel to the first host
  // that claims A's MAC after `bootstrap --forget`, while the factory-reset path cancels such jobs.
  it('does not hand a job queued for the secure phone to a stranger claiming its MAC after forget', async () => {
    const { s, port, cli } = await securePhone();
    s.store.jobs.add({ mac: A, kind: 'WriteItems', items: [{ name: 'sip-pwd', value: SECRET }] }, Date.now());
    cli.forgetCertificate(A, Date.now());
    const stranger = new HandPhone(A, port, '127.0.0.2');
    const seen = await stranger.acceptAll(await stranger.say({ reason: 'start-up', items: known(A) }));
    expect(seen.flatMap((m) => m.items).map((i) => i.value), `actions: ${seen.map((m) => m.action).join(', ')}`).not.toContain(SECRET);
  }, 60_000);
});
