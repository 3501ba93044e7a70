/**
 * A phone that comes back in Default Mode after its bootstrap was sent is not stranded (manual
 * p.62–68): a start-up on the Default-Mode port (the phone was reset before its PIN was typed), or
 * any first message there after a bootstrap without PIN, fails the job with the reason and revokes
 * the certificate made for it; the phone can then be bootstrapped again. A PIN phone that only
 * answers a contact-me meanwhile keeps its bootstrap. All over real sockets against a real Service,
 * with the phone simulator.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { prepareBootstraps } from '../../src/main/app/bootstrap';
import { passphraseProtector, unpackSecureModeData } from '../../src/main/pki';
import { Service } from '../../src/main/app/service';
import { parseDLSMessage, type DLSMessage } from '../../src/main/wpi';
import { SimulatedPhone } from '../../src/phone';
import { message, startUpItems } from '../support/messages';
import { post, securePost } from '../support/https-client';
import { runCli } from '../support/cli';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();
const running: Service[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop();
});

const PASSPHRASE = 'a passphrase only this test knows';
const MAC = '00:1A:E8:00:00:31';
const CAME_BACK = /^the phone came back in Default Mode \((start-up|solicited) on the Default-Mode port\): it did not take its Secure-Mode credentials/;

async function secureService() {
  const dataDir = newDir();
  const protector = passphraseProtector(PASSPHRASE, dataDir, { scryptCost: 1024 });
  const service = new Service({ dataDir, host: '127.0.0.1', port: 0, securePort: 0, keyProtector: protector, autoContact: false });
  running.push(service);
  const info = await service.start();
  return { service, protector, dataDir, port: info.port, securePort: info.securePort!, server: `https://127.0.0.1:${info.port}` };
}


const known = (mac: string) => startUpItems(mac, { 'configuration-changed-flag': 'false' });
const item = (m: DLSMessage, name: string, index?: number) => m.items.find((i) => i.name === name && i.index === index)?.value;
const withCookie = (cookie: string) => ({ headers: { Cookie: `${cookie}; path=/DeploymentService; secure` } });

/** The phone's side of the bootstrap WriteItems on the Default-Mode port (raw messages). */
async function takeBootstrap(port: number, mac: string): Promise<DLSMessage> {
  const first = await post(port, message({ reason: 'solicited', items: known(mac) }));
  const w = parseDLSMessage(first.body);
  expect(w.action).toBe('WriteItems');
  const cookie = String(first.headers['set-cookie']).split(';')[0]!;
  const done = await post(port, message({ reason: 'reply-to', action: 'WriteItems', status: 'accepted' }), withCookie(cookie));
  expect(parseDLSMessage(done.body).action).toBe('CleanUp');
  return w;
}

/** A simulated phone that keeps the body of every bootstrap WriteItems it is sent. */
function simulatedPhone(server: string, mac: string, pin?: string): { phone: SimulatedPhone; writes: string[] } {
  const writes: string[] = [];
  const phone = new SimulatedPhone({
    server, mac, contactMe: false, ...(pin !== undefined ? { pin } : {}),
    onExchange: (_sent, answer) => void (answer.body.includes('goto-secure-mode') && writes.push(answer.body)),
  });
  return { phone, writes };
}

function bootstrapJobs(service: Service, mac: string) {
  return service.store.jobs.list({ mac }).filter((j) => j.kind === 'Bootstrap');
}

async function pinsOf(sheet: string): Promise<Map<string, string>> {
  return new Map(readFileSync(sheet, 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')).map((r) => [r[0]!, r[2]!]));
}

/**
 * A phone in Secure Mode (bootstrapped without PIN over real sockets) that is sent a renewal: the
 * solicited contact answered with the renewal's WriteItems, not yet answered by the phone.
 */
async function renewalOnItsWay() {
  const { service, protector, port, securePort } = await secureService();
  await post(port, message({ reason: 'start-up', items: startUpItems(MAC) }));
  await prepareBootstraps(service.store, service.pki!, protector, [MAC], { pin: { kind: 'none' }, securePort });
  const w = await takeBootstrap(port, MAC);
  const oldClient = { pfx: Buffer.from(item(w, 'dls-client-certificate')!, 'base64'), passphrase: '', ca: [item(w, 'dls-server-ca', 0)!], servername: 'localhost' };
  expect((await securePost(securePort, message({ reason: 'start-up', items: known(MAC) }), oldClient)).status).toBe(200);
  const oldSerial = service.store.device(MAC)!.certSerial!;
  const [renewal] = await prepareBootstraps(service.store, service.pki!, protector, [MAC], { pin: { kind: 'none' }, securePort, renew: true });
  const s1 = await securePost(securePort, message({ reason: 'solicited', items: known(MAC) }), oldClient);
  const renewed = parseDLSMessage(s1.body);
  expect(item(renewed, 'goto-secure-mode')).toBe('nopin');
  const newClient = { ...oldClient, pfx: Buffer.from(item(renewed, 'dls-client-certificate')!, 'base64') };
  return { service, securePort, oldClient, newClient, oldSerial, renewal: renewal!, cookie: s1.cookie };
}

describe('a phone back in Default Mode after its bootstrap was sent', () => {
  it('PIN never typed, phone restarted: the job fails with the reason, the certificate is revoked, and bootstrap --all takes the phone again', async () => {
    const { service, dataDir, server, securePort } = await secureService();
    const first = simulatedPhone(server, MAC);
    expect((await first.phone.runInteraction('start-up')).ok).toBe(true);

    const sheet1 = join(newDir(), 'pins1.csv');
    const boot1 = await runCli(['bootstrap', '--data-dir', dataDir, '--all', '--pin', 'auto', '--sheet', sheet1], { LOCALDLS_KEY_PASSPHRASE: PASSPHRASE });
    expect(boot1.code, boot1.stderr).toBe(0);
    const pin1 = (await pinsOf(sheet1)).get(MAC)!;

    // The phone takes the bootstrap and shows its PIN dialog; nobody types the PIN.
    const took = await first.phone.runInteraction('solicited');
    expect(took.bootstrap).toMatchObject({ variant: 'pin', outcome: 'waiting-for-pin' });
    const [job1] = bootstrapJobs(service, MAC);
    expect(job1).toMatchObject({ state: 'sent', partsDone: 1, error: 'waiting for the PIN to be typed on the phone, then for the phone on the secure port' });

    // Slow, not gone: with the dialog still open the phone answers a contact-me on the Default-Mode port.
    expect((await first.phone.runInteraction('solicited')).ok).toBe(true);
    expect(first.phone.pinDialogOpen).toBe(true);
    expect(service.store.jobs.get(job1!.id)).toMatchObject({ state: 'sent' });
    expect(service.store.device(MAC)).toMatchObject({ mode: 'default', bootstrap: 'pending' });

    // Power cycle: the same phone starts again (the PIN dialog does not survive it) and sends start-up.
    const restarted = simulatedPhone(server, MAC);
    const back = await restarted.phone.runInteraction('start-up');
    expect(back).toMatchObject({ ok: true, mode: 'default' });
    const failed = service.store.jobs.get(job1!.id)!;
    expect(failed.state).toBe('failed');
    expect(failed.error).toMatch(CAME_BACK);
    expect(failed.error).toMatch(/PIN not entered, or the phone was reset\); its certificate is revoked: bootstrap it again$/);
    expect(service.store.device(MAC)).toMatchObject({ mode: 'default', bootstrap: 'failed', certSerial: null });
    const [revoked] = service.store.revokedCertificates();
    expect(revoked).toMatchObject({ mac: MAC, reason: `bootstrap job ${job1!.id} failed: the phone came back in Default Mode without taking this certificate` });

    // The credential it was sent opens nothing: typed late (on the old phone object, whose dialog
    // is still open), the phone goes to the secure port and is refused.
    expect(await first.phone.enterPin(pin1)).toBe('secure');
    const late = await first.phone.runInteraction();
    expect(late).toMatchObject({ ok: false, mode: 'secure' });
    expect(late.error).toMatch(/HTTP 403/);
    const inside = unpackSecureModeData(item(parseDLSMessage(first.writes[0]!), 'secure-mode-data')!, pin1.slice(0, -3));
    const refused = await securePost(securePort, message({ reason: 'start-up', items: known(MAC) }), { pfx: inside.pkcs12, passphrase: '', ca: inside.caPems, servername: 'localhost' });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatch(/revoked/);
    expect(service.store.device(MAC)).toMatchObject({ mode: 'default', bootstrap: 'failed' });

    // The CLI says why, and the phone is a candidate again.
    const status = JSON.parse((await runCli(['bootstrap', '--data-dir', dataDir, '--status', '--json'])).stdout) as { mac: string; bootstrap: string; state: string; why: string }[];
    expect(status.find((s) => s.mac === MAC)).toMatchObject({ bootstrap: 'failed', state: 'failed', why: expect.stringMatching(CAME_BACK) as unknown });
    const human = await runCli(['bootstrap', '--data-dir', dataDir, '--status']);
    expect(human.stdout).toMatch(/the phone came back in Default Mode/);

    const sheet2 = join(newDir(), 'pins2.csv');
    const boot2 = await runCli(['bootstrap', '--data-dir', dataDir, '--all', '--pin', 'auto', '--sheet', sheet2], { LOCALDLS_KEY_PASSPHRASE: PASSPHRASE });
    expect(boot2.code, boot2.stderr).toBe(0);
    expect(boot2.stdout).toMatch(new RegExp(`bootstrap of ${MAC}`));
    const pin2 = (await pinsOf(sheet2)).get(MAC)!;

    // This time the PIN is typed: the second bootstrap goes through end to end.
    const third = simulatedPhone(server, MAC, pin2);
    expect((await third.phone.runInteraction('solicited')).bootstrap).toMatchObject({ variant: 'pin', outcome: 'secure' });
    const secure = await third.phone.runInteraction();
    expect(secure).toMatchObject({ ok: true, mode: 'secure', reason: 'start-up', actions: ['ReadItems', 'CleanUp'] });
    const device = service.store.device(MAC)!;
    expect(device).toMatchObject({ mode: 'secure', bootstrap: 'done' });
    expect(device.certSerial).not.toBe(revoked!.serial);
    expect(bootstrapJobs(service, MAC).map((j) => j.state)).toEqual(['failed', 'done']);
  }, 60_000);

  it('without PIN, any first message on the Default-Mode port fails the bootstrap: the phone would have switched at once', async () => {
    const { service, protector, port, securePort } = await secureService();
    await post(port, message({ reason: 'start-up', items: startUpItems(MAC) }));
    const [prepared] = await prepareBootstraps(service.store, service.pki!, protector, [MAC], { pin: { kind: 'none' }, securePort });
    const w = await takeBootstrap(port, MAC);
    expect(service.store.jobs.get(prepared!.jobId)).toMatchObject({ state: 'sent', partsDone: 1 });

    const again = await post(port, message({ reason: 'solicited', items: known(MAC) }));
    expect(again.status).toBe(200);
    // Nothing is sent again: the service just ends the interaction.
    expect(parseDLSMessage(again.body).action).toBe('CleanUp');
    const job = service.store.jobs.get(prepared!.jobId)!;
    expect(job.state).toBe('failed');
    expect(job.error).toMatch(/^the phone came back in Default Mode \(solicited on the Default-Mode port\): it did not take its Secure-Mode credentials \(the phone was reset, or lost them\)/);
    expect(service.store.device(MAC)).toMatchObject({ mode: 'default', bootstrap: 'failed' });

    const client = { pfx: Buffer.from(item(w, 'dls-client-certificate')!, 'base64'), passphrase: '', ca: [item(w, 'dls-server-ca', 0)!], servername: 'localhost' };
    const refused = await securePost(securePort, message({ reason: 'start-up', items: known(MAC) }), client);
    expect(refused.status).toBe(403);
    expect(refused.body).toMatch(/revoked/);
    expect(service.store.device(MAC)?.mode).toBe('default');
  });

  it('with PIN, what a phone may send while its PIN dialog is open keeps the bootstrap; messages that prove no device change nothing', async () => {
    const { service, protector, port, securePort } = await secureService();
    await post(port, message({ reason: 'start-up', items: startUpItems(MAC) }));
    const [prepared] = await prepareBootstraps(service.store, service.pki!, protector, [MAC], { pin: { kind: 'given', pin: '24681357' }, securePort });
    const w = await takeBootstrap(port, MAC);

    for (const reason of ['solicited', 'local-changes', 'inventory-changes'] as const) {
      const r = await post(port, message({ reason, items: known(MAC) }));
      expect(r.status, reason).toBe(200);
      expect(parseDLSMessage(r.body).action, reason).toBe('CleanUp');
    }
    // A reply-to with no session continues nothing: refused. A status report for no deployment is just ended.
    expect((await post(port, message({ reason: 'reply-to', action: 'WriteItems', status: 'accepted', items: known(MAC) }))).status).toBe(403);
    const st = await post(port, message({ reason: 'status', items: known(MAC) }));
    expect(st.status).toBe(200);
    expect(parseDLSMessage(st.body).action).toBe('CleanUp');
    // "Password retries exceeded" from another address than the bootstrap went to: anyone naming the
    // MAC could otherwise fail it while the PIN dialog is open (and lock the phone out at the PIN).
    const retries = [...known(MAC), { name: 'cleanup-reason', value: 'password retries exceeded' }];
    const elsewhere = await post(port, message({ reason: 'clean-up', items: retries }), { localAddress: '127.0.0.2' });
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.body).toMatch(/took its bootstrap \(job \d+\) at 127\.0\.0\.1; a clean-up "password retries exceeded" from 127\.0\.0\.2 does not end it: refused/);
    expect(service.store.jobs.get(prepared!.jobId)).toMatchObject({ state: 'sent', partsDone: 1 });
    // A phone clean-up that is not about the PIN does not end the bootstrap either.
    const c = await post(port, message({ reason: 'clean-up', items: [...known(MAC), { name: 'cleanup-reason', value: 'invalid XML received' }] }));
    expect(c.status).toBe(200);
    expect(service.store.jobs.get(prepared!.jobId)).toMatchObject({ state: 'sent', partsDone: 1 });
    expect(service.store.device(MAC)).toMatchObject({ bootstrap: 'pending' });
    expect(service.store.revokedCertificates()).toEqual([]);

    // The PIN typed now still completes it.
    const inside = unpackSecureModeData(item(w, 'secure-mode-data')!, '24681');
    const client = { pfx: inside.pkcs12, passphrase: '', ca: inside.caPems, servername: 'localhost' };
    const s1 = await securePost(securePort, message({ reason: 'start-up', items: known(MAC) }), client);
    expect(parseDLSMessage(s1.body).action).toBe('ReadItems');
    const s2 = await securePost(securePort, message({ reason: 'reply-to', action: 'ReadItems', status: 'accepted', items: [{ name: 'bootstrapping-tan', value: '357' }] }), client, s1.cookie);
    expect(parseDLSMessage(s2.body).action).toBe('CleanUp');
    expect(service.store.jobs.get(prepared!.jobId)).toMatchObject({ state: 'done' });
    // Secure now: a start-up on the Default-Mode port is refused as before, and changes nothing.
    const spoof = await post(port, message({ reason: 'start-up', items: known(MAC) }));
    expect(spoof.status).toBe(403);
    expect(service.store.device(MAC)).toMatchObject({ mode: 'secure', bootstrap: 'done' });
  });

  it('where a bootstrap went is kept with it: a request from another host that spans its sending (its body trickled in) does not take that place', async () => {
    const { service, protector, port } = await secureService();
    const first = await post(port, message({ reason: 'start-up', items: startUpItems(MAC) }));
    await post(port, message({ reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', items: startUpItems(MAC) }), withCookie(String(first.headers['set-cookie']).split(';')[0]!));
    const [prepared] = await prepareBootstraps(service.store, service.pki!, protector, [MAC], { pin: { kind: 'given', pin: '1357924680' }, securePort: 18444 });
    // A host at 127.0.0.2 starts a request naming the MAC (headers and a little of its body) before the bootstrap goes out…
    const body = message({ reason: 'solicited', items: known(MAC) });
    const socket = tls.connect({ socket: net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' }), rejectUnauthorized: false });
    await new Promise((r) => socket.once('secureConnect', r));
    let answer = '';
    socket.on('data', (c: Buffer) => (answer += c.toString('latin1')));
    const closed = new Promise((r) => socket.once('close', r));
    socket.write(`POST /DeploymentService/LoginService HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body.slice(0, 20)}`);
    await new Promise((r) => setTimeout(r, 200));
    // …the phone takes its PIN bootstrap from 127.0.0.1 (its dialog opens)…
    await takeBootstrap(port, MAC);
    expect(service.store.jobs.get(prepared!.jobId)).toMatchObject({ state: 'sent', partsDone: 1 });
    // …and the host finishes its request afterwards: answered, recorded with the MAC, spanning the sending.
    await new Promise((r) => setTimeout(r, 200));
    socket.end(body.slice(20));
    await closed;
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    // Its start-up, or its "password retries exceeded", still does not end the bootstrap.
    for (const m of [message({ reason: 'start-up', items: known(MAC) }), message({ reason: 'clean-up', items: [...known(MAC), { name: 'cleanup-reason', value: 'password retries exceeded' }] })]) {
      const r = await post(port, m, { localAddress: '127.0.0.2' });
      expect(r.status).toBe(403);
      expect(r.body).toMatch(new RegExp(`took its bootstrap \\(job ${prepared!.jobId}\\) at 127\\.0\\.0\\.1`));
    }
    expect(service.store.jobs.get(prepared!.jobId)).toMatchObject({ state: 'sent', partsDone: 1 });
    expect(service.store.revokedCertificates()).toEqual([]);
  });

  it('a renewal the phone took ends its old certificate: presented again (a copy of the replaced key), under any reason, it is refused and changes nothing; the new one completes the renewal', async () => {
    const { service, securePort, oldClient, newClient, oldSerial, renewal, cookie } = await renewalOnItsWay();
    expect(parseDLSMessage((await securePost(securePort, message({ reason: 'reply-to', action: 'WriteItems', status: 'accepted' }), oldClient, cookie)).body).action).toBe('CleanUp');

    // A write waits for the phone: a copy of the old key must not get it.
    const write = service.store.jobs.add({ mac: MAC, kind: 'WriteItems', items: [{ name: 'sip-pwd', value: 'only-for-the-phone' }] }, Date.now()).id;
    // Whoever holds the old certificate and key: refused under every reason, a first fragment and a
    // phone clean-up ("password retries exceeded" fails a PIN bootstrap) included; nothing changes.
    const taken = new RegExp(`took its renewal \\(job ${renewal.jobId}\\) and now holds a new certificate: the one presented \\(serial ${oldSerial}\\) is the one it replaces, and opens nothing any more: refused`);
    const attempts = [
      ...(['start-up', 'solicited', 'local-changes', 'inventory-changes', 'status'] as const).map((reason) => message({ reason, items: known(MAC) })),
      message({ reason: 'clean-up', items: [...known(MAC), { name: 'cleanup-reason', value: 'password retries exceeded' }] }),
      message({ reason: 'start-up', fragment: 'next', items: known(MAC) }),
      message({ reason: 'reply-to', action: 'WriteItems', status: 'failed' }),
    ];
    const before = service.store.device(MAC)!;
    expect(before.tlsProtocol).toBe('TLSv1.3');
    for (const [i, body] of attempts.entries()) {
      // The last over TLS 1.2: a refusal does not change what the device is known to speak either.
      const old = await securePost(securePort, body, i === attempts.length - 1 ? { ...oldClient, maxVersion: 'TLSv1.2' } : oldClient, undefined);
      expect(old.status).toBe(403);
      expect(old.body).toMatch(taken);
    }
    // Shown with the device its certificate names, and no contact of it.
    const shown = service.store.listExchanges({ device: MAC, errorsOnly: true }, { limit: 100 }).exchanges.filter((x) => taken.test(x.error ?? ''));
    expect(shown).toHaveLength(attempts.length);
    expect(service.store.device(MAC)).toMatchObject({ lastContact: before.lastContact, lastAddress: before.lastAddress, tlsProtocol: 'TLSv1.3', state: before.state });
    expect(service.store.jobs.get(renewal.jobId)).toMatchObject({ state: 'sent', partsDone: 1, error: 'waiting for the phone on the secure port with its new certificate (the one it replaces is refused from now on)' });
    expect(service.store.jobs.get(write)).toMatchObject({ state: 'queued', attempts: 0 });
    expect(service.store.device(MAC)).toMatchObject({ mode: 'secure', bootstrap: 'pending', certSerial: oldSerial, state: 'idle' });
    expect(service.store.revokedCertificates()).toEqual([]);

    // The phone, on its new certificate: the renewal is done, the old certificate revoked, and the write is the phone's.
    const back = await securePost(securePort, message({ reason: 'start-up', items: known(MAC) }), newClient);
    expect(back.status).toBe(200);
    expect(item(parseDLSMessage(back.body), 'sip-pwd')).toBe('only-for-the-phone');
    expect(service.store.jobs.get(renewal.jobId)).toMatchObject({ state: 'done' });
    expect(service.store.isRevoked(oldSerial)).toBe(true);
    const late = await securePost(securePort, message({ reason: 'start-up', items: known(MAC) }), oldClient);
    expect(late.status).toBe(403);
    expect(late.body).toMatch(/revoked/);
  });

  it('a renewal on its way that the phone ends with a clean-up in its own interaction fails, and its new certificate is revoked', async () => {
    const { service, securePort, oldClient, newClient, renewal, cookie } = await renewalOnItsWay();
    const ended = await securePost(securePort, message({ reason: 'clean-up', items: [{ name: 'cleanup-reason', value: 'invalid XML received' }] }), oldClient, cookie);
    expect(ended.status).toBe(200);
    expect(service.store.jobs.get(renewal.jobId)).toMatchObject({ state: 'failed', error: 'the phone ended the interaction: invalid XML received' });
    expect(service.store.device(MAC)).toMatchObject({ mode: 'secure', bootstrap: 'failed' });
    expect(service.store.revokedCertificates()).toEqual([expect.objectContaining({ reason: `bootstrap job ${renewal.jobId} failed: the phone ended the interaction` })]);
    expect((await securePost(securePort, message({ reason: 'start-up', items: known(MAC) }), newClient)).status).toBe(403);
    expect((await securePost(securePort, message({ reason: 'start-up', items: known(MAC) }), oldClient)).status).toBe(200);
  });

  it('a renewal on its way: only its own interaction speaks for the old certificate until the phone answers; unanswered, it is queued again', async () => {
    const { service, securePort, oldClient, oldSerial, renewal, cookie } = await renewalOnItsWay();
    expect(service.store.jobs.get(renewal.jobId)).toMatchObject({ state: 'sent', partsDone: 0 });
    // Another interaction (it would abandon the phone's, whose "accepted" then lands nowhere), or a
    // reply without the cookie from another address (it would answer for the phone: busy, failed).
    const onItsWay = new RegExp(`a renewal \\(job ${renewal.jobId}\\) is on its way to ${MAC}: until the phone answers it, with the session cookie of the interaction it went out in, its current certificate opens nothing else: refused`);
    const noCookie = (reason: string) => new RegExp(`a ${reason} without the session cookie, for the interaction in which renewal job ${renewal.jobId} went to ${MAC}: refused`);
    const others: [string, object, RegExp][] = [
      [message({ reason: 'start-up', items: known(MAC) }), oldClient, onItsWay],
      [message({ reason: 'clean-up', items: [...known(MAC), { name: 'cleanup-reason', value: 'password retries exceeded' }] }), oldClient, noCookie('clean-up')],
      [message({ reason: 'reply-to', action: 'WriteItems', status: 'failed' }), { ...oldClient, localAddress: '127.0.0.9' }, noCookie('reply-to')],
      [message({ reason: 'reply-to', action: 'WriteItems', status: 'busy' }), { ...oldClient, localAddress: '127.0.0.9' }, noCookie('reply-to')],
      // Without the cookie from the very address it went to (a copy of the key behind the same NAT).
      [message({ reason: 'reply-to', action: 'WriteItems', status: 'failed' }), oldClient, noCookie('reply-to')],
      [message({ reason: 'status', items: known(MAC) }), oldClient, noCookie('status')],
    ];
    for (const [body, client, why] of others) {
      const r = await securePost(securePort, body, client);
      expect(r.status).toBe(403);
      expect(r.body).toMatch(why);
    }
    expect(service.store.jobs.get(renewal.jobId)).toMatchObject({ state: 'sent', partsDone: 0 });
    expect(service.store.revokedCertificates()).toEqual([]);

    // The phone goes silent: its interaction ends, the renewal is queued again, the old certificate is its own again.
    service.sweep(Date.now() + 60 * 60_000);
    expect(service.store.jobs.get(renewal.jobId)).toMatchObject({ state: 'queued', attempts: 1 });
    // Its "accepted" arriving late, on the cookie of the interaction that ended: refused, the renewal stays queued.
    const late = await securePost(securePort, message({ reason: 'reply-to', action: 'WriteItems', status: 'accepted' }), oldClient, cookie);
    expect(late.status).toBe(403);
    expect(service.store.jobs.get(renewal.jobId)).toMatchObject({ state: 'queued', partsDone: 0 });
    const again = await securePost(securePort, message({ reason: 'start-up', items: known(MAC) }), oldClient);
    expect(again.status).toBe(200);
    const resent = parseDLSMessage(again.body);
    expect(item(resent, 'goto-secure-mode')).toBe('nopin');
    // This time the phone refuses it (in its own interaction): it keeps its certificate, the new one is revoked.
    const refused = await securePost(securePort, message({ reason: 'reply-to', action: 'WriteItems', status: 'failed' }), oldClient, again.cookie);
    expect(refused.status).toBe(200);
    expect(service.store.jobs.get(renewal.jobId)).toMatchObject({ state: 'failed', error: 'the phone refused Bootstrap (status failed)' });
    expect(service.store.device(MAC)).toMatchObject({ mode: 'secure', certSerial: oldSerial, bootstrap: 'failed' });
    expect(service.store.revokedCertificates()).toEqual([expect.objectContaining({ mac: MAC, reason: `bootstrap job ${renewal.jobId} failed: the phone refused it` })]);
    const newClient = { ...oldClient, pfx: Buffer.from(item(resent, 'dls-client-certificate')!, 'base64') };
    expect((await securePost(securePort, message({ reason: 'start-up', items: known(MAC) }), newClient)).status).toBe(403);
    expect((await securePost(securePort, message({ reason: 'start-up', items: known(MAC) }), oldClient)).status).toBe(200);
  });
});
