/**
 * Phones that move to Secure Mode (manual p.62–68, p.83): bootstrapping with and without PIN
 * against a scripted Default-Mode service and a real mutual-TLS Secure-Mode listener on 127.0.0.1.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { dlsClientCertificate } from '../../src/main/pki';
import { SimulatedPhone, stateFilePath, wrongPins, type InteractionResult, type PhoneOptions, type SecureModeChange } from '../../src/phone';
import { contactMe, startService, type TestService } from './helpers';
import { bootstrapScript, nopinItems, pinItems, secureScript, startSecureService, testCa, valueOf, type TanLog, type TestCa } from './secure-helpers';

let ca: TestCa;
let otherCa: TestCa;
beforeAll(async () => {
  [ca, otherCa] = await Promise.all([testCa('ca'), testCa('other')]);
}, 60_000);
afterAll(() => {
  ca.remove();
  otherCa.remove();
});

const services: TestService[] = [];
const phones: SimulatedPhone[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(phones.splice(0).map((p) => p.stop()));
  await Promise.all(services.splice(0).map((s) => s.close()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function service(...args: Parameters<typeof startService>): Promise<TestService> {
  const s = await startService(...args);
  services.push(s);
  return s;
}

async function secureService(...args: Parameters<typeof startSecureService>): Promise<TestService> {
  const s = await startSecureService(...args);
  services.push(s);
  return s;
}

function phone(options: PhoneOptions): SimulatedPhone {
  const p = new SimulatedPhone(options);
  phones.push(p);
  return p;
}

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'localdls-phone-state-'));
  dirs.push(d);
  return d;
}

const reasons = (s: TestService) => s.requests.map((r) => r.message.reason);
const changes = (p: SimulatedPhone) => p.modeChanges.map((c) => c.change);
const PIN = '12345678';

describe('bootstrapping without PIN (manual p.64–65)', () => {
  it('accepts, takes the credential at CleanUp and sends start-up on the secure port with the issued client certificate', async () => {
    const mac = '00:1A:E8:00:50:01';
    const secure = await secureService(ca, secureScript());
    const def = await service(bootstrapScript((m) => nopinItems(ca, m, secure.port)));
    const p = phone({ server: def.url, mac, contactMe: false });
    const events: SecureModeChange[] = [];
    p.on('secure-mode', (e) => events.push(e));
    const followUp = p.next('interaction', (r) => r.trigger === 'bootstrap');

    const first = await p.start();
    const secureUrl = `https://127.0.0.1:${secure.port}/DeploymentService/LoginService`;
    expect(first).toMatchObject({ ok: true, mode: 'default', reason: 'start-up', actions: ['WriteItems', 'CleanUp'] });
    expect(first.bootstrap).toEqual({ variant: 'nopin', outcome: 'secure', server: secureUrl });
    // Step 3: reply-to accepted with an empty ItemList, on the default port.
    expect(def.requests[1].message).toMatchObject({ reason: 'reply-to', action: 'WriteItems', status: 'accepted', items: [] });
    expect(def.requests[1].body).toContain('<ItemList/>');

    // Step 5: start-up on the secure port, authenticated with the issued certificate.
    const [second] = await followUp;
    expect(second).toMatchObject({ ok: true, mode: 'secure', reason: 'start-up', server: secureUrl, actions: ['CleanUp'] });
    expect(reasons(secure)).toEqual(['start-up']);
    const issued = ca.issued.get(mac)!;
    expect(secure.requests[0].peer).toEqual(expect.objectContaining({ subjectCN: mac, serialNumber: issued.serial, authorized: true }));
    expect(valueOf(secure.requests[0].message.items, 'mac-addr')).toBe(mac);
    // Nothing more on the default port (step 7-8).
    expect(def.requests).toHaveLength(2);

    expect(p.mode).toBe('secure');
    expect(p.secureServer).toBe(secureUrl);
    expect(p.secureCredential).toMatchObject({ variant: 'nopin', securePort: secure.port });
    expect(p.secureCredential!.caPems.map((pem) => pem.trim())).toEqual(ca.caPems.map((pem) => pem.trim()));
    expect(events).toEqual([{ mac, change: 'switched', variant: 'nopin', server: secureUrl, mode: 'secure' }]);
    // The certificate items are not settings the phone reports (manual p.30).
    expect([...p.config.items.keys()].filter((k) => k.startsWith('dls-client-certificate') || k.startsWith('dls-server-ca'))).toEqual([]);
  });

  it('refuses a secure-port server signed by another CA (TLS verification) and reports it', async () => {
    const mac = '00:1A:E8:00:50:02';
    // The server certificate comes from otherCa; it would accept the phone's certificate from ca.
    const secure = await secureService(otherCa, secureScript(), undefined, ca);
    const def = await service(bootstrapScript((m) => nopinItems(ca, m, secure.port)));
    const p = phone({ server: def.url, mac });
    expect((await p.runInteraction()).bootstrap?.outcome).toBe('secure');
    const second = await p.runInteraction();
    expect(second).toMatchObject({ ok: false, mode: 'secure', exchanges: 0 });
    expect(second.error).toMatch(/server certificate of 127\.0\.0\.1:\d+ is not trusted: .*\((UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|SELF_SIGNED_CERT_IN_CHAIN)\)/);
    expect(secure.requests).toEqual([]);
    // It stays in Secure Mode and still owes the start-up.
    expect(p.mode).toBe('secure');
    expect((await p.runInteraction('solicited')).reason).toBe('start-up');
    expect(def.requests).toHaveLength(2);
  });

  it('checks the server certificate names: a certificate from the right CA for another host is refused', async () => {
    const mac = '00:1A:E8:00:50:03';
    const secure = await secureService(ca, secureScript(), { dns: ['dls.example.test'], ips: [] });
    const def = await service(bootstrapScript((m) => nopinItems(ca, m, secure.port)));
    const p = phone({ server: def.url, mac });
    await p.runInteraction();
    const second = await p.runInteraction();
    expect(second.ok).toBe(false);
    expect(second.error).toMatch(/is not trusted: .*ERR_TLS_CERT_ALTNAME_INVALID/);
    expect(secure.requests).toEqual([]);
  });

  it('answers invalid data for unusable items and stays in Default Mode', async () => {
    const mac = '00:1A:E8:00:50:04';
    const good = await nopinItems(ca, mac, 18444);
    const without = (name: string) => good.filter((i) => i.name !== name);
    const withPasswordP12 = dlsClientCertificate(ca.issued.get(mac)!, ca.caPems, 'secret');
    const cases: { items: typeof good; invalid: { name: string; index?: number }[] }[] = [
      { items: [...without('dls-client-certificate'), { name: 'dls-client-certificate', value: 'not base64!' }], invalid: [{ name: 'dls-client-certificate' }] },
      { items: [...without('dls-client-certificate'), { name: 'dls-client-certificate', value: 'AAAAAAAA' }], invalid: [{ name: 'dls-client-certificate' }] },
      { items: [...without('dls-client-certificate'), { name: 'dls-client-certificate', value: withPasswordP12 }], invalid: [{ name: 'dls-client-certificate' }] },
      { items: without('dls-client-certificate'), invalid: [{ name: 'dls-client-certificate' }] },
      { items: without('dls-server-ca'), invalid: [{ name: 'dls-server-ca' }] },
      { items: [...without('dls-server-ca'), { name: 'dls-server-ca', index: 0, value: ca.caPems[0] }, { name: 'dls-server-ca', index: 1, value: 'hello' }], invalid: [{ name: 'dls-server-ca', index: 1 }] },
      { items: [...without('dls-secure-port'), { name: 'dls-secure-port', value: '70000' }], invalid: [{ name: 'dls-secure-port' }] },
      { items: [{ name: 'goto-secure-mode', value: 'pin' }, { name: 'secure-mode-data', value: 'AAAAAAAA' }, { name: 'max-pin-retries', value: '3' }], invalid: [{ name: 'secure-mode-data' }] },
      { items: [{ name: 'goto-secure-mode', value: 'pin' }, { name: 'secure-mode-data', value: '!!' }, { name: 'max-pin-retries', value: 'three' }], invalid: [{ name: 'secure-mode-data' }, { name: 'max-pin-retries' }] },
      { items: [{ name: 'goto-secure-mode', value: 'maybe' }], invalid: [{ name: 'goto-secure-mode' }] },
    ];
    for (const [n, c] of cases.entries()) {
      const def = await service(bootstrapScript(() => c.items));
      const p = phone({ server: def.url, mac });
      const result = await p.runInteraction();
      const reply = def.requests[1].message;
      expect(reply, `case ${n}`).toMatchObject({ reason: 'reply-to', action: 'WriteItems', status: 'accepted' });
      expect(reply.items, `case ${n}`).toEqual(c.invalid.map((i) => ({ ...i, value: '', status: 'invalid data' })));
      expect(result.bootstrap?.outcome, `case ${n}`).toBe('invalid-data');
      expect(result.bootstrap?.problems?.length, `case ${n}`).toBe(c.invalid.length);
      expect(p.mode, `case ${n}`).toBe('default');
      expect(p.contactDue, `case ${n}`).toBe(false);
      expect(changes(p), `case ${n}`).toEqual(['invalid-data']);
    }
  });

  it('refuses goto-secure-mode during a call with status busy, like any WriteItems (p.62)', async () => {
    const mac = '00:1A:E8:00:50:05';
    const def = await service(bootstrapScript((m) => nopinItems(ca, m, 18444)));
    const p = phone({ server: def.url, mac, busyUntil: Date.now() + 3_600_000 });
    const result = await p.runInteraction();
    expect(def.requests[1].message).toMatchObject({ reason: 'reply-to', action: 'WriteItems', status: 'busy', items: [] });
    expect(def.requests[1].body).not.toContain('ItemList');
    expect(result.bootstrap).toEqual({ variant: 'nopin', outcome: 'busy' });
    expect(p.mode).toBe('default');
    expect(p.contactDue).toBe(false);
  });

  it('takes nothing when the interaction does not end with CleanUp', async () => {
    const mac = '00:1A:E8:00:50:06';
    const items = await nopinItems(ca, mac, 18444);
    const def = await service((m) => (m.reason === 'start-up' ? { action: 'WriteItems', items } : { status: 500, body: 'oops' }));
    const p = phone({ server: def.url, mac });
    const result = await p.runInteraction();
    expect(result.ok).toBe(false);
    expect(result.bootstrap?.outcome).toBe('not-completed');
    expect(p.mode).toBe('default');
  });
});

describe('bootstrapping with PIN (manual p.65–68, p.83)', () => {
  async function pinSetUp(mac: string, options: Partial<PhoneOptions>, maxPinRetries = 3, tan = { expectedTan: '678' }) {
    const log: TanLog = { tans: [] };
    const secure = await secureService(ca, secureScript({ ...tan, log }));
    const def = await service(bootstrapScript((m) => pinItems(ca, m, secure.port, PIN, maxPinRetries)));
    const p = phone({ server: def.url, mac, ...options });
    return { secure, def, p, log };
  }

  it('wrong PINs, then the right one: secure port, client certificate, bootstrapping-tan = last 3 digits', async () => {
    const mac = '00:1A:E8:00:51:01';
    const { secure, def, p, log } = await pinSetUp(mac, { pinAttempts: [...wrongPins(PIN, 2), PIN] });
    const first = await p.runInteraction();
    expect(def.requests[1].message).toMatchObject({ reason: 'reply-to', action: 'WriteItems', status: 'accepted', items: [] });
    expect(first.bootstrap).toMatchObject({ variant: 'pin', outcome: 'secure', pinsTyped: 3, wrongPins: 2, maxPinRetries: 3 });
    expect(p.mode).toBe('secure');
    expect(p.contactDue).toBe(true);

    // Whatever made it connect, the phone owes start-up on the secure port (p.65 diagram).
    const second = await p.runInteraction('solicited');
    expect(second).toMatchObject({ ok: true, reason: 'start-up', mode: 'secure', actions: ['ReadItems', 'CleanUp'] });
    expect(second.cleanupReason).toBeUndefined();
    expect(secure.requests[1].message).toMatchObject({ reason: 'reply-to', action: 'ReadItems', status: 'accepted', items: [{ name: 'bootstrapping-tan', value: '678' }] });
    expect(log.tans).toEqual(['678']);
    // Port and CA come from the container.
    expect(p.secureCredential).toMatchObject({ variant: 'pin', securePort: secure.port, caPems: ca.caPems, tan: '678' });
    expect(secure.requests[0].peer).toEqual(expect.objectContaining({ subjectCN: mac, serialNumber: ca.issued.get(mac)!.serial, authorized: true }));
    expect(def.requests).toHaveLength(2);
  });

  it('max-pin-retries wrong PINs are still allowed; one more sends clean-up "password retries exceeded" to the Default-Mode service', async () => {
    const ok = await pinSetUp('00:1A:E8:00:51:02', { pinAttempts: [...wrongPins(PIN, 2), PIN] }, 2);
    expect((await ok.p.runInteraction()).bootstrap).toMatchObject({ outcome: 'secure', wrongPins: 2 });

    const mac = '00:1A:E8:00:51:03';
    const { secure, def, p } = await pinSetUp(mac, { pinAttempts: [...wrongPins(PIN, 3), PIN] }, 2);
    const events: SecureModeChange[] = [];
    p.on('secure-mode', (e) => events.push(e));
    const first = await p.runInteraction();
    expect(first.bootstrap).toEqual({ variant: 'pin', outcome: 'pin-retries-exceeded', pinsTyped: 3, wrongPins: 3, maxPinRetries: 2 });
    expect(events).toEqual([{ mac, change: 'pin-retries-exceeded', variant: 'pin', pinsTyped: 3, wrongPins: 3, maxPinRetries: 2, mode: 'default' }]);
    expect(p.mode).toBe('default');
    expect(p.contactDue).toBe(true);

    const second: InteractionResult = await p.runInteraction();
    expect(second).toMatchObject({ ok: true, reason: 'clean-up', mode: 'default', actions: ['CleanUp'] });
    const cleanUp = def.requests[2];
    expect(cleanUp.message.reason).toBe('clean-up');
    expect(valueOf(cleanUp.message.items, 'cleanup-reason')).toBe('password retries exceeded');
    expect(valueOf(cleanUp.message.items, 'mac-addr')).toBe(mac);
    expect(valueOf(cleanUp.message.items, 'device-type')).toBeTruthy();
    // A new interaction: no cookie from the bootstrap's session.
    expect(cleanUp.headers.cookie).toBeUndefined();
    expect(secure.requests).toEqual([]);
    expect(p.mode).toBe('default');
    expect(p.contactDue).toBe(false);
    // Next time it is an ordinary Default-Mode phone again.
    expect((await p.runInteraction('solicited')).reason).toBe('solicited');
    expect(reasons(def)).toEqual(['start-up', 'reply-to', 'clean-up', 'solicited']);
  });

  it('wrong TAN: the service ends with "wrong TAN from device"; the phone drops the credential and is back in Default Mode', async () => {
    const mac = '00:1A:E8:00:51:04';
    const { secure, def, p, log } = await pinSetUp(mac, { pin: PIN, tanOverride: '999' });
    await p.runInteraction();
    const second = await p.runInteraction();
    expect(log.tans).toEqual(['999']);
    expect(second).toMatchObject({ ok: true, mode: 'secure', cleanupReason: 'wrong TAN from device', bootstrap: { variant: 'pin', outcome: 'wrong-tan' } });
    expect(p.mode).toBe('default');
    expect(p.secureCredential).toBeUndefined();
    expect(changes(p)).toEqual(['switched', 'wrong-tan']);
    expect(p.contactDue).toBe(false);
    const third = await p.runInteraction('solicited');
    expect(third).toMatchObject({ ok: true, mode: 'default', reason: 'solicited' });
    expect(reasons(def)).toEqual(['start-up', 'reply-to', 'solicited']);
    expect(secure.requests).toHaveLength(2);
  });

  it('without a PIN the dialog stays open; enterPin() later: wrong, then right, then a started phone goes to the secure port', async () => {
    const mac = '00:1A:E8:00:51:05';
    const { secure, p, log } = await pinSetUp(mac, { contactMe: false });
    const first = await p.start();
    expect(first.bootstrap).toEqual({ variant: 'pin', outcome: 'waiting-for-pin', pinsTyped: 0, wrongPins: 0, maxPinRetries: 3 });
    expect(p.pinDialogOpen).toBe(true);
    expect(changes(p)).toEqual(['pin-dialog']);
    expect(await p.enterPin('99999678')).toBe('wrong-pin');
    expect(p.pinDialogOpen).toBe(true);
    const secureStartUp = p.next('interaction', (r) => r.trigger === 'bootstrap');
    expect(await p.enterPin(PIN)).toBe('secure');
    const [r] = await secureStartUp;
    expect(r).toMatchObject({ ok: true, mode: 'secure', reason: 'start-up', actions: ['ReadItems', 'CleanUp'] });
    expect(log.tans).toEqual(['678']);
    expect(reasons(secure)).toEqual(['start-up', 'reply-to']);
    expect(await p.enterPin(PIN)).toBe('no-pin-dialog');
  });
});

describe('Secure Mode across restarts (manual p.50–51, p.65 step 7)', () => {
  async function running(mac: string, restartItems: { name: string; value: string }[]) {
    let restarted = false;
    const secure = await secureService(
      ca,
      secureScript({
        solicited: () => {
          if (restarted) return { action: 'CleanUp' };
          restarted = true;
          return { action: 'Restart', items: restartItems };
        },
      }),
    );
    const def = await service(bootstrapScript((m) => nopinItems(ca, m, secure.port)));
    const p = phone({ server: def.url, mac, contactMePort: 0, contactGapMs: 0, rebootMs: 20 });
    const onSecure = p.next('interaction', (r) => r.trigger === 'bootstrap');
    await p.start();
    await onSecure;
    const rebooted = p.next('interaction', (r) => r.trigger === 'reboot');
    const rebooting = p.next('rebooting');
    expect((await contactMe(p.contactMeUri)).status).toBe(204);
    return { secure, def, p, rebooting: (await rebooting)[0], rebooted: (await rebooted)[0] };
  }

  it('Restart: back on the secure port with its client certificate', async () => {
    const mac = '00:1A:E8:00:52:01';
    const { secure, def, p, rebooting, rebooted } = await running(mac, []);
    expect(rebooting.cause).toBe('Restart');
    expect(rebooted).toMatchObject({ ok: true, reason: 'start-up', mode: 'secure' });
    expect(reasons(secure)).toEqual(['start-up', 'solicited', 'start-up']);
    for (const r of secure.requests) expect(r.peer?.subjectCN).toBe(mac);
    expect(def.requests).toHaveLength(2);
    expect(p.mode).toBe('secure');
  });

  it('factory reset: the credential is gone, start-up on the Default-Mode service', async () => {
    const mac = '00:1A:E8:00:52:02';
    const { secure, def, p, rebooting, rebooted } = await running(mac, [
      { name: 'restart-password', value: '124816' },
      { name: 'restart-type', value: 'FactoryReset' },
    ]);
    expect(rebooting.cause).toBe('FactoryReset');
    expect(rebooted).toMatchObject({ ok: true, reason: 'start-up', mode: 'default' });
    expect(reasons(secure)).toEqual(['start-up', 'solicited']);
    expect(reasons(def)).toEqual(['start-up', 'reply-to', 'start-up']);
    expect(def.requests[2].peer).toBeUndefined();
    expect(p.mode).toBe('default');
    expect(p.secureCredential).toBeUndefined();
    expect(changes(p)).toEqual(['switched', 'factory-reset']);
  });
});

describe('stateDir: Secure Mode across simulator restarts', () => {
  it('keeps the credential in <dir>/<MAC>.json (0600); a new phone object with the same MAC starts in Secure Mode', async () => {
    const mac = '00:1A:E8:00:53:01';
    const dir = join(tempDir(), 'phones');
    const log: TanLog = { tans: [] };
    const secure = await secureService(ca, secureScript({ expectedTan: '678', log }));
    const def = await service(bootstrapScript((m) => pinItems(ca, m, secure.port, PIN)));
    const before = phone({ server: def.url, mac, pin: PIN, stateDir: dir });
    await before.runInteraction();
    const file = stateFilePath(dir, mac);
    expect(file).toBe(join(dir, '00-1A-E8-00-53-01.json'));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const stored = JSON.parse(readFileSync(file, 'utf8'));
    expect(stored).toMatchObject({ version: 1, mac, mode: 'secure', variant: 'pin', securePort: secure.port, caPems: ca.caPems, tan: '678' });

    const after = phone({ server: def.url, mac, stateDir: dir });
    expect(after.mode).toBe('secure');
    const result = await after.runInteraction('start-up');
    expect(result).toMatchObject({ ok: true, mode: 'secure', actions: ['ReadItems', 'CleanUp'] });
    expect(log.tans).toEqual(['678']);
    expect(secure.requests[0].peer?.serialNumber).toBe(ca.issued.get(mac)!.serial);
    expect(def.requests).toHaveLength(2);

    // A factory reset forgets it, on disk too.
    after.factoryReset();
    expect(existsSync(file)).toBe(false);
    expect(after.mode).toBe('default');
    expect(phone({ server: def.url, mac, stateDir: dir }).mode).toBe('default');
  });

  it('refuses a damaged state file with a message that says which and what to do', () => {
    const dir = tempDir();
    const mac = '00:1A:E8:00:53:02';
    writeFileSync(stateFilePath(dir, mac), '{"version":1,"mac":"00:1A:E8:00:53:02","mode":"secure"}');
    expect(() => new SimulatedPhone({ server: 'https://127.0.0.1:1', mac, stateDir: dir })).toThrow(/00-1A-E8-00-53-02\.json is damaged \(mode\): delete it to start the phone in Default Mode/);
  });
});
