import { afterEach, onTestFinished as afterThis, describe, expect, it } from 'vitest';
import { prepareBootstraps } from '../../src/main/app/bootstrap';
import { LocalDlsApiHost } from '../../src/main/bridge/api-host';
import { passphraseProtector, Pki, unpackSecureModeData } from '../../src/main/pki';
import { Service } from '../../src/main/app/service';
import { parseDLSMessage, type DLSMessage, type Item } from '../../src/main/wpi';
import { runCli } from '../support/cli';
import { message, startUpItems } from '../support/messages';
import { post, securePost } from '../support/https-client';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();
const running: Service[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop();
});

const MAC = '00:1A:E8:00:00:21';
const OTHER = '00:1A:E8:00:00:22';

async function secureService() {
  const dataDir = newDir();
  const protector = passphraseProtector('correct horse battery staple', dataDir, { scryptCost: 1024 });
  const service = new Service({ dataDir, host: '127.0.0.1', port: 0, securePort: 0, keyProtector: protector, autoContact: false });
  running.push(service);
  const info = await service.start();
  // Register the phones in Default Mode (known, configuration unchanged after the first read).
  for (const mac of [MAC, OTHER]) {
    await post(info.port, message({ reason: 'start-up', items: startUpItems(mac) }));
  }
  service.sweep(Date.now() + 10 * 60_000);
  return { service, protector, port: info.port, securePort: info.securePort!, dataDir };
}


const known = (mac: string) => startUpItems(mac, { 'configuration-changed-flag': 'false' });
const item = (m: DLSMessage, name: string, index?: number) => m.items.find((i) => i.name === name && i.index === index)?.value;

/** The phone's side of the bootstrap WriteItems on the Default-Mode port. */
async function takeBootstrap(port: number, mac: string): Promise<DLSMessage> {
  const first = await post(port, message({ reason: 'solicited', items: known(mac) }));
  const w = parseDLSMessage(first.body);
  expect(w.action).toBe('WriteItems');
  const cookie = String(first.headers['set-cookie']).split(';')[0];
  const done = await post(port, message({ reason: 'reply-to', action: 'WriteItems', status: 'accepted' }), { headers: { Cookie: `${cookie}; path=/DeploymentService; secure` } });
  expect(parseDLSMessage(done.body).action).toBe('CleanUp');
  return w;
}

describe('Secure Mode bootstrap over real sockets', () => {
  it('without PIN: the phone gets its own certificate and the CA, then talks mutual TLS only', async () => {
    const { service, protector, port, securePort } = await secureService();
    const pki = service.pki!;
    await prepareBootstraps(service.store, pki, protector, [MAC], { pin: { kind: 'none' }, securePort });
    expect(service.store.device(MAC)?.bootstrap).toBe('pending');

    const w = await takeBootstrap(port, MAC);
    expect(w.items.map((i) => [i.name, i.index])).toEqual([['goto-secure-mode', undefined], ['dls-client-certificate', undefined], ['dls-server-ca', 0], ['dls-secure-port', undefined]]);
    expect(item(w, 'goto-secure-mode')).toBe('nopin');
    expect(item(w, 'dls-server-ca', 0)?.trim()).toBe(pki.caCertificatePem().trim());
    expect(item(w, 'dls-secure-port')).toBe(String(securePort));
    const job = service.store.jobs.list({ mac: MAC })[0]!;
    expect(job).toMatchObject({ kind: 'Bootstrap', state: 'sent', error: 'waiting for the phone on the secure port' });

    const client = { pfx: Buffer.from(item(w, 'dls-client-certificate')!, 'base64'), passphrase: '', ca: [item(w, 'dls-server-ca', 0)!], rejectUnauthorized: true, servername: 'localhost' };
    const s1 = await securePost(securePort, message({ reason: 'start-up', items: known(MAC) }), client);
    expect(s1.status).toBe(200);
    expect(service.store.device(MAC)).toMatchObject({ mode: 'secure', bootstrap: 'done' });
    expect(service.store.jobs.get(job.id)).toMatchObject({ state: 'done' });
    const secureRow = service.store.exchanges({ mac: MAC })[0]!;
    expect(secureRow).toMatchObject({ listener: 'secure', localPort: securePort });

    // From now on the Default-Mode port refuses it, and says why.
    const refused = await post(port, message({ reason: 'start-up', items: known(MAC) }));
    expect(refused.status).toBe(403);
    expect(refused.body).toMatch(/is in Secure Mode: its requests on the Default-Mode port are refused/);

    // Its certificate does not let it speak for another phone.
    const spoof = await securePost(securePort, message({ reason: 'start-up', items: known(OTHER) }), client);
    expect(spoof.status).toBe(403);
    expect(spoof.body).toMatch(new RegExp(`certificate is for ${MAC}, but the message claims mac-addr ${OTHER}`));

    // The private key and the PKCS#12 never reach the stored exchanges.
    const raw = service.store.exchanges({ limit: 1000 }).map((x) => service.store.exchange(x.id)!).map((x) => Buffer.concat([Buffer.from(x.requestBody), Buffer.from(x.responseBody)]).toString('latin1')).join('\n');
    expect(raw).not.toContain(item(w, 'dls-client-certificate')!.slice(0, 64));
    expect(raw).not.toMatch(/PRIVATE KEY/);
  });

  it('renews a secure phone\'s certificate over the secure channel and revokes the old one', async () => {
    const { service, protector, port, securePort } = await secureService();
    await prepareBootstraps(service.store, service.pki!, protector, [MAC], { pin: { kind: 'none' }, securePort });
    const w = await takeBootstrap(port, MAC);
    const oldClient = { pfx: Buffer.from(item(w, 'dls-client-certificate')!, 'base64'), passphrase: '', ca: [item(w, 'dls-server-ca', 0)!], servername: 'localhost' };
    expect((await securePost(securePort, message({ reason: 'start-up', items: known(MAC) }), oldClient)).status).toBe(200);
    const oldSerial = service.store.device(MAC)!.certSerial!;

    await expect(prepareBootstraps(service.store, service.pki!, protector, [MAC], { pin: { kind: 'none' }, securePort })).rejects.toThrow(`already in Secure Mode (to give it a new certificate: localdls bootstrap --mac ${MAC} --renew)`);
    await prepareBootstraps(service.store, service.pki!, protector, [MAC], { pin: { kind: 'none' }, securePort, renew: true });
    const s1 = await securePost(securePort, message({ reason: 'solicited', items: known(MAC) }), oldClient);
    const renewal = parseDLSMessage(s1.body);
    expect(renewal.action).toBe('WriteItems');
    expect(item(renewal, 'goto-secure-mode')).toBe('nopin');
    expect(item(renewal, 'dls-client-certificate')).not.toBe(item(w, 'dls-client-certificate'));
    // On its way, not yet answered: the phone may hold the new certificate already, so a cancel
    // (the UI's, the CLI's) is refused as well.
    const api = new LocalDlsApiHost(service, { dataDir: service.store.dataDir, networkInterfaces: () => ({}), listeners: [] });
    afterThis(() => api.close());
    const inFlight = service.store.jobs.list({ mac: MAC }).find((j) => j.kind === 'Bootstrap' && j.state === 'sent')!;
    expect(inFlight).toMatchObject({ partsDone: 0, source: 'bootstrap:renew' });
    await expect(api.cancelJob(inFlight.id)).rejects.toMatchObject({ code: 'conflict', message: expect.stringMatching(/is a renewal on its way to 00:1A:E8:00:00:21: the phone may hold the new certificate already/) as unknown });
    const cli = await runCli(['job', 'cancel', String(inFlight.id), '--data-dir', service.store.dataDir]);
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toMatch(/is a renewal on its way to 00:1A:E8:00:00:21/);
    expect(service.store.jobs.get(inFlight.id)).toMatchObject({ state: 'sent' });
    // Its lists say a renewal, not a way into Secure Mode (helper-77: "to Secure Mode, no PIN").
    const status = await runCli(['bootstrap', '--status', '--json', '--data-dir', service.store.dataDir]);
    expect(JSON.parse(status.stdout)).toContainEqual(expect.objectContaining({ mac: MAC, job: inFlight.id, role: 'renewal', state: 'sent' }));
    expect((await runCli(['bootstrap', '--status', '--data-dir', service.store.dataDir])).stdout).toMatch(new RegExp(`${inFlight.id} renewal sent`));
    expect((await runCli(['job', 'list', '--data-dir', service.store.dataDir])).stdout).toMatch(new RegExp(`^${inFlight.id} .* renewal: a new client certificate, over the secure channel$`, 'm'));
    const s2 = await securePost(securePort, message({ reason: 'reply-to', action: 'WriteItems', status: 'accepted' }), oldClient, s1.cookie);
    expect(parseDLSMessage(s2.body).action).toBe('CleanUp');
    // The phone holds the new certificate now: a cancel (the UI's, the CLI's) would leave it none
    // that opens the secure port, so it is refused, and the renewal completes.
    const renewalJob = service.store.jobs.list({ mac: MAC }).find((j) => j.kind === 'Bootstrap' && j.state === 'sent')!;
    expect(renewalJob).toMatchObject({ partsDone: 1, source: 'bootstrap:renew' });
    await expect(api.cancelJob(renewalJob.id)).rejects.toMatchObject({ code: 'conflict', message: expect.stringMatching(/a renewal 00:1A:E8:00:00:21 has already taken: it holds the new certificate now/) as unknown });
    expect(service.store.jobs.get(renewalJob.id)).toMatchObject({ state: 'sent' });
    // Nor can it be undone meanwhile: the refusal points to what ends it, not to a cancel it would refuse.
    const undo = await runCli(['bootstrap', '--undo', '--mac', MAC, '--data-dir', service.store.dataDir], { LOCALDLS_KEY_PASSPHRASE: 'correct horse battery staple' });
    expect(undo.code).not.toBe(0);
    expect(undo.stderr).toMatch(/has a renewal under way .*: it completes when the phone next calls on the secure port; a phone that is gone for good: localdls bootstrap --mac 00:1A:E8:00:00:21 --forget/);
    const newClient = { ...oldClient, pfx: Buffer.from(item(renewal, 'dls-client-certificate')!, 'base64') };
    expect((await securePost(securePort, message({ reason: 'start-up', items: known(MAC) }), newClient)).status).toBe(200);
    const device = service.store.device(MAC)!;
    expect(device).toMatchObject({ mode: 'secure', bootstrap: 'done' });
    expect(device.certSerial).not.toBe(oldSerial);
    expect(service.store.isRevoked(oldSerial)).toBe(true);
    expect(service.store.revokedCertificates()).toEqual([expect.objectContaining({ serial: oldSerial, mac: MAC, reason: expect.stringMatching(/^renewed: replaced by certificate [0-9A-F]+$/) as unknown })]);
    const stale = await securePost(securePort, message({ reason: 'start-up', items: known(MAC) }), oldClient);
    expect(stale.status).toBe(403);
    expect(stale.body).toMatch(/revoked/);
  });

  it('with PIN: secure-mode-data opens with the PIN minus its TAN, and the TAN completes the bootstrap', async () => {
    const { service, protector, port, securePort } = await secureService();
    const [prepared] = await prepareBootstraps(service.store, service.pki!, protector, [MAC], { pin: { kind: 'auto' }, securePort, maxPinRetries: 3 });
    const pin = prepared!.pin!;
    expect(pin).toMatch(/^\d{8}$/);
    const w = await takeBootstrap(port, MAC);
    expect(w.items.map((i) => i.name)).toEqual(['goto-secure-mode', 'secure-mode-data', 'max-pin-retries']);
    expect(item(w, 'goto-secure-mode')).toBe('pin');
    expect(item(w, 'max-pin-retries')).toBe('3');
    expect(() => unpackSecureModeData(item(w, 'secure-mode-data')!, '00000')).toThrow();
    const inside = unpackSecureModeData(item(w, 'secure-mode-data')!, pin.slice(0, -3));
    expect(inside.securePort).toBe(securePort);
    const client = { pfx: inside.pkcs12, passphrase: '', ca: inside.caPems, rejectUnauthorized: true, servername: 'localhost' };

    const s1 = await securePost(securePort, message({ reason: 'start-up', items: known(MAC) }), client);
    const tanRead = parseDLSMessage(s1.body);
    expect(tanRead).toMatchObject({ action: 'ReadItems', items: [{ name: 'bootstrapping-tan', value: '' }] });
    expect(service.store.device(MAC)?.mode).toBe('default');
    const s2 = await securePost(securePort, message({ reason: 'reply-to', action: 'ReadItems', status: 'accepted', items: [{ name: 'bootstrapping-tan', value: pin.slice(-3) } as Item] }), client, s1.cookie);
    expect(parseDLSMessage(s2.body).action).toBe('CleanUp');
    expect(service.store.device(MAC)).toMatchObject({ mode: 'secure', bootstrap: 'done' });
    // Neither the PIN, nor the TAN, nor secure-mode-data is in any stored exchange.
    const raw = service.store.exchanges({ limit: 1000 }).map((x) => service.store.exchange(x.id)!).map((x) => Buffer.concat([Buffer.from(x.requestBody), Buffer.from(x.responseBody)]).toString('utf8')).join('\n');
    expect(raw).not.toContain(item(w, 'secure-mode-data')!.slice(0, 40));
    expect(raw).not.toContain(`>${pin.slice(-3)}<`);
    expect(raw).not.toContain(pin);
  });

  it('a wrong TAN ends with "wrong TAN from device", fails the bootstrap and revokes the certificate', async () => {
    const { service, protector, port, securePort } = await secureService();
    const [prepared] = await prepareBootstraps(service.store, service.pki!, protector, [MAC], { pin: { kind: 'given', pin: '12345678' }, securePort });
    const w = await takeBootstrap(port, MAC);
    const inside = unpackSecureModeData(item(w, 'secure-mode-data')!, '12345');
    const client = { pfx: inside.pkcs12, passphrase: '', ca: inside.caPems, servername: 'localhost' };
    const s1 = await securePost(securePort, message({ reason: 'start-up', items: known(MAC) }), client);
    const s2 = await securePost(securePort, message({ reason: 'reply-to', action: 'ReadItems', status: 'accepted', items: [{ name: 'bootstrapping-tan', value: '999' }] }), client, s1.cookie);
    expect(parseDLSMessage(s2.body)).toMatchObject({ action: 'CleanUp', items: [{ name: 'cleanup-reason', value: 'wrong TAN from device' }] });
    expect(service.store.jobs.get(prepared!.jobId)).toMatchObject({ state: 'failed', error: expect.stringMatching(/^wrong TAN from device/) });
    expect(service.store.device(MAC)).toMatchObject({ mode: 'default', bootstrap: 'failed' });
    // The certificate it holds is revoked: the secure port refuses it now.
    const again = await securePost(securePort, message({ reason: 'start-up', items: known(MAC) }), client);
    expect(again.status).toBe(403);
    expect(again.body).toMatch(/revoked/);
  });

  it('PIN retries exceeded on the phone marks the bootstrap failed', async () => {
    const { service, protector, port, securePort } = await secureService();
    const [prepared] = await prepareBootstraps(service.store, service.pki!, protector, [MAC], { pin: { kind: 'auto' }, securePort });
    await takeBootstrap(port, MAC);
    const r = await post(port, message({ reason: 'clean-up', items: [...known(MAC), { name: 'cleanup-reason', value: 'password retries exceeded' }] }));
    expect(parseDLSMessage(r.body).action).toBe('CleanUp');
    expect(service.store.jobs.get(prepared!.jobId)).toMatchObject({ state: 'failed', error: 'password retries exceeded: the PIN was typed wrong too often on the phone' });
    expect(service.store.device(MAC)).toMatchObject({ mode: 'default', bootstrap: 'failed' });
  });

  it('a bootstrap the phone refuses item by item fails, and its reply counts as an error with the refused items', async () => {
    const { service, protector, port, securePort } = await secureService();
    const [prepared] = await prepareBootstraps(service.store, service.pki!, protector, [MAC], { pin: { kind: 'none' }, securePort });
    const first = await post(port, message({ reason: 'solicited', items: known(MAC) }));
    expect(parseDLSMessage(first.body).action).toBe('WriteItems');
    const cookie = String(first.headers['set-cookie']).split(';')[0]!;
    // Accepted, but the certificate refused (manual p.82–83): the phone stays in Default Mode.
    const reply = message({ reason: 'reply-to', action: 'WriteItems', status: 'accepted', items: [{ name: 'dls-client-certificate', value: '', status: 'invalid data' }] });
    expect(parseDLSMessage((await post(port, reply, { headers: { Cookie: cookie } })).body).action).toBe('CleanUp');
    expect(service.store.jobs.get(prepared!.jobId)).toMatchObject({ state: 'failed', error: 'the phone refused 1 item: dls-client-certificate: invalid data' });
    const errors = service.store.listExchanges({ device: MAC, errorsOnly: true }, { limit: 10 }).exchanges;
    expect(errors.map((x) => [x.reason, x.replyAction, x.replyStatus, x.refusedItems])).toEqual([['reply-to', 'WriteItems', 'accepted', 1]]);
    expect(service.store.device(MAC)).toMatchObject({ mode: 'default' });
  });

  it('refuses clients without a certificate or with one from another CA, and records why', async () => {
    const { service, securePort } = await secureService();
    const noCert = await securePost(securePort, message({ reason: 'start-up', items: known(MAC) }), { rejectUnauthorized: false }).catch((e: Error) => e.message);
    expect(String(noCert)).toMatch(/certificate|alert|socket hang up|ECONNRESET/i);
    const otherDir = newDir();
    const other = await Pki.open(otherDir, passphraseProtector('x'.repeat(12), otherDir, { scryptCost: 1024 }));
    const foreign = await other.issueDeviceCertificate(MAC);
    const bad = await securePost(securePort, message({ reason: 'start-up', items: known(MAC) }), { key: foreign.keyPem, cert: foreign.certPem, rejectUnauthorized: false }).catch((e: Error) => e.message);
    expect(String(bad)).not.toMatch(/^\{/);
    await new Promise((r) => setTimeout(r, 100));
    const failures = service.store.exchanges({ limit: 100 }).filter((x) => x.kind === 'tls-failure' && x.listener === 'secure');
    expect(failures.length).toBeGreaterThanOrEqual(1);
    expect(failures.map((f) => f.error).join(' ')).toMatch(/certificate/);
    expect(service.store.device(MAC)?.mode).toBe('default');
  });
});
