/**
 * A bootstrap is sent with the secure port of the service that sends it, whatever port it was
 * prepared with (a CLI run with the stored or default port, a service since restarted on another
 * port): otherwise the phone goes into Secure Mode towards a port nobody listens on and is lost
 * until a factory reset. Without PIN `dls-secure-port` is replaced; with PIN secure-mode-data is
 * re-packed with the same certificate, key and PIN (the printed sheet and the TAN stay valid). A
 * job that cannot be re-packed fails before anything is sent; with Secure Mode off bootstrap jobs
 * are held. Real Services on one data folder one after the other, the phone simulator, real sockets.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { prepareBootstraps } from '../../src/main/app/bootstrap';
import { Service } from '../../src/main/app/service';
import { buildSecureModeData, passphraseProtector, unpackSecureModeData, type KeyProtector } from '../../src/main/pki';
import { parseDLSMessage, type DLSMessage } from '../../src/main/wpi';
import { SimulatedPhone } from '../../src/phone';
import { runCli } from '../support/cli';
import { post } from '../support/https-client';
import { freePortOtherThan } from '../support/ports';
import { message, startUpItems } from '../support/messages';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();
const running: Service[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop();
});

const PASSPHRASE = 'the port18 passphrase';
const MAC = '00:1A:E8:00:18:01';
const known = (mac: string) => startUpItems(mac, { 'configuration-changed-flag': 'false' });
const item = (m: DLSMessage, name: string, index?: number) => m.items.find((i) => i.name === name && i.index === index)?.value;

async function start(dataDir: string, protector: KeyProtector | undefined, securePort: number) {
  const service = new Service({ dataDir, host: '127.0.0.1', port: 0, securePort, autoContact: false, ...(protector ? { keyProtector: protector } : {}) });
  running.push(service);
  const info = await service.start();
  return { service, info, server: `https://127.0.0.1:${info.port}` };
}

/**
 * Started on a free secure port other than `not`. The port is picked before it is bound, and a test
 * running beside this one may take it in between (a CI run met that): then the start is undone and
 * another port picked.
 */
async function startElsewhere(dataDir: string, protector: KeyProtector | undefined, not: number) {
  for (let tries = 1; ; tries++) {
    const port = await freePortOtherThan(not);
    try {
      return { ...(await start(dataDir, protector, port)), port };
    } catch (e) {
      await stop(running.at(-1)!);
      if ((e as { code?: unknown }).code !== 'EADDRINUSE' || tries === 5) throw e;
    }
  }
}

async function stop(service: Service): Promise<void> {
  running.splice(running.indexOf(service), 1);
  await service.stop();
}

/** A simulated phone that keeps every bootstrap WriteItems it is sent. */
function phoneOf(server: string, pin?: string): { phone: SimulatedPhone; writes: DLSMessage[] } {
  const writes: DLSMessage[] = [];
  const phone = new SimulatedPhone({
    server, mac: MAC, ipAddress: '127.0.0.1', contactMe: false, ...(pin !== undefined ? { pin } : {}),
    onExchange: (_sent, answer) => void (answer.body.includes('goto-secure-mode') && writes.push(parseDLSMessage(answer.body))),
  });
  return { phone, writes };
}

/**
 * Service A (port A) registers the phone and prepares its bootstrap; A stops. Returns what B needs.
 */
async function preparedOnA(pin: { kind: 'auto' } | { kind: 'none' }) {
  const dataDir = newDir();
  const protector = passphraseProtector(PASSPHRASE, dataDir, { scryptCost: 1024 });
  const a = await start(dataDir, protector, 0);
  expect((await phoneOf(a.server).phone.runInteraction('start-up')).ok).toBe(true);
  const [prepared] = await prepareBootstraps(a.service.store, a.service.pki!, protector, [MAC], { pin, securePort: a.info.securePort! });
  await stop(a.service);
  return { dataDir, protector, portA: a.info.securePort!, prepared: prepared! };
}

describe('a bootstrap names the secure port of the service that sends it', () => {
  it('with PIN: prepared while a service listened on port A, sent after a restart on port B; the phone types the PIN from the sheet and talks mutual TLS on B', async () => {
    const { dataDir, protector, portA, prepared } = await preparedOnA({ kind: 'auto' });
    const b = await startElsewhere(dataDir, protector, portA);
    const portB = b.port;
    expect(b.info.securePort).toBe(portB);
    expect(b.info.bootstrapNotes).toEqual([`1 queued bootstrap job names secure port ${portA}, this service listens on ${portB}: it will be sent with ${portB}`]);

    const { phone, writes } = phoneOf(b.server, prepared.pin);
    const took = await phone.runInteraction('solicited');
    expect(took.bootstrap).toMatchObject({ variant: 'pin', outcome: 'secure' });
    const inside = unpackSecureModeData(item(writes[0]!, 'secure-mode-data')!, prepared.pin!.slice(0, -3));
    expect(inside.securePort).toBe(portB);
    expect(phone.secureCredential?.securePort).toBe(portB);

    // Its first contact on B's secure port: the TAN (last 3 digits of the sheet's PIN) completes it.
    const secure = await phone.runInteraction();
    expect(secure).toMatchObject({ ok: true, mode: 'secure', reason: 'start-up', actions: ['ReadItems', 'CleanUp'] });
    const device = b.service.store.device(MAC)!;
    expect(device).toMatchObject({ mode: 'secure', bootstrap: 'done' });
    expect(b.service.store.jobs.get(prepared.jobId)).toMatchObject({ state: 'done', error: null });
    expect(b.service.store.exchanges({ mac: MAC })[0]).toMatchObject({ listener: 'secure', localPort: portB });
    // The certificate inside is the one issued for this job (the re-pack changed the port only).
    expect(device.certSerial).toBeTruthy();

    // The re-packed container is redacted like any other: not in the stored exchanges.
    const raw = b.service.store.exchanges({ limit: 1000 }).map((x) => b.service.store.exchange(x.id)!).map((x) => Buffer.concat([Buffer.from(x.requestBody), Buffer.from(x.responseBody)]).toString('utf8')).join('\n');
    expect(raw).not.toContain(item(writes[0]!, 'secure-mode-data')!.slice(0, 40));
    expect(raw).not.toContain(prepared.pin!);

    // Restarted on yet another port, the service says that this phone now looks for it on B.
    await stop(b.service);
    const c = await startElsewhere(dataDir, protector, portB);
    const portC = c.port;
    expect(c.info.bootstrapNotes).toEqual([`1 phone in Secure Mode was given secure port ${portB} (the last run's); this service listens on ${portC}, where they cannot find it: serve with --secure-port ${portB} to reach them`]);

    // Started without the key passphrase, it opens no secure port: it says that this phone cannot reach it (helper-77).
    await stop(c.service);
    const off = await start(dataDir, undefined, portB);
    expect(off.info.securePort).toBeUndefined();
    expect(off.info.bootstrapNotes).toEqual(['1 phone in Secure Mode can reach only the secure port, which this service does not open without the key passphrase: none of them reaches it until it runs with the passphrase']);
  }, 60_000);

  it('without PIN: dls-secure-port is the sending service\'s, and the phone goes secure there', async () => {
    const { dataDir, protector, portA, prepared } = await preparedOnA({ kind: 'none' });
    const b = await startElsewhere(dataDir, protector, portA);
    const portB = b.port;
    const { phone, writes } = phoneOf(b.server);
    expect((await phone.runInteraction('solicited')).bootstrap).toMatchObject({ variant: 'nopin', outcome: 'secure' });
    // One dls-secure-port, B's; the items in the manual's order as before.
    expect(writes[0]!.items.map((i) => [i.name, i.index])).toEqual([['goto-secure-mode', undefined], ['dls-client-certificate', undefined], ['dls-server-ca', 0], ['dls-secure-port', undefined]]);
    expect(item(writes[0]!, 'dls-secure-port')).toBe(String(portB));
    expect(await phone.runInteraction()).toMatchObject({ ok: true, mode: 'secure' });
    expect(b.service.store.device(MAC)).toMatchObject({ mode: 'secure', bootstrap: 'done' });
    expect(b.service.store.jobs.get(prepared.jobId)).toMatchObject({ state: 'done' });
    // The job itself still says what it was prepared with; only what is sent follows the service.
    expect(b.service.store.jobs.get(prepared.jobId)!.items).toContainEqual({ name: 'dls-secure-port', value: String(portA) });
  }, 60_000);

  it('the same job retried after a send the phone never answered: sent again with the new service\'s port and the same PIN', async () => {
    const dataDir = newDir();
    const protector = passphraseProtector(PASSPHRASE, dataDir, { scryptCost: 1024 });
    const a = await start(dataDir, protector, 0);
    const portA = a.info.securePort!;
    expect((await phoneOf(a.server).phone.runInteraction('start-up')).ok).toBe(true);
    const [prepared] = await prepareBootstraps(a.service.store, a.service.pki!, protector, [MAC], { pin: { kind: 'auto' }, securePort: portA });
    const pin = prepared!.pin!;
    // A sends it; the phone never replies (the connection dropped), and the interaction expires.
    const first = parseDLSMessage((await post(a.info.port, message({ reason: 'solicited', items: known(MAC) }))).body);
    expect(unpackSecureModeData(item(first, 'secure-mode-data')!, pin.slice(0, -3)).securePort).toBe(portA);
    a.service.sweep(Date.now() + 10 * 60_000);
    expect(a.service.store.jobs.get(prepared!.jobId)).toMatchObject({ state: 'queued', attempts: 1 });
    await stop(a.service);

    const b = await startElsewhere(dataDir, protector, portA);
    const portB = b.port;
    const { phone, writes } = phoneOf(b.server, pin);
    expect((await phone.runInteraction('solicited')).bootstrap).toMatchObject({ variant: 'pin', outcome: 'secure' });
    const again = unpackSecureModeData(item(writes[0]!, 'secure-mode-data')!, pin.slice(0, -3));
    expect(again.securePort).toBe(portB);
    // Same credential: the certificate and key did not change, only the port.
    expect(again.pkcs12.equals(unpackSecureModeData(item(first, 'secure-mode-data')!, pin.slice(0, -3)).pkcs12)).toBe(true);
    expect(await phone.runInteraction()).toMatchObject({ ok: true, mode: 'secure', actions: ['ReadItems', 'CleanUp'] });
    expect(b.service.store.jobs.get(prepared!.jobId)).toMatchObject({ state: 'done', attempts: 2 });
  }, 60_000);

  it('a PIN job that cannot be re-packed for the new port fails before anything is sent, and bootstrap --status says why', async () => {
    const dataDir = newDir();
    const protector = passphraseProtector(PASSPHRASE, dataDir, { scryptCost: 1024 });
    const a = await start(dataDir, protector, 0);
    const portA = a.info.securePort!;
    expect((await phoneOf(a.server).phone.runInteraction('start-up')).ok).toBe(true);
    // A job as an older LocalDLS sealed it, minus its PIN: the container cannot be opened again.
    const credential = await a.service.pki!.issueDeviceCertificate(MAC);
    const data = buildSecureModeData(credential, a.service.pki!.caChainPems(), portA, '24681357', { iterations: 100_000 });
    const sealed = protector.seal(Buffer.from(JSON.stringify({ items: [{ name: 'secure-mode-data', value: data }], tan: '357', serial: credential.serial }), 'utf8'));
    const job = a.service.store.queueBootstrap({ mac: MAC, kind: 'Bootstrap', items: [{ name: 'goto-secure-mode', value: 'pin' }, { name: 'max-pin-retries', value: '3' }], secret: sealed, source: 'bootstrap:pin' }, Date.now(), credential.serial);
    await stop(a.service);

    const b = await startElsewhere(dataDir, protector, portA);
    const { phone, writes } = phoneOf(b.server, '24681357');
    const r = await phone.runInteraction('solicited');
    expect(r).toMatchObject({ ok: true, mode: 'default' });
    expect(r.actions).not.toContain('WriteItems');
    expect(writes).toEqual([]);
    const failed = b.service.store.jobs.get(job.id)!;
    expect(failed).toMatchObject({ state: 'failed', attempts: 0 });
    expect(failed.error).toMatch(new RegExp(`^bootstrap job ${job.id} was prepared by an older LocalDLS and cannot be re-packed for this service's secure port ${b.info.securePort} \\(.*\\): nothing was sent; cancel it and bootstrap the phone again$`));
    expect(b.service.store.device(MAC)).toMatchObject({ mode: 'default', bootstrap: 'failed' });
    const status = JSON.parse((await runCli(['bootstrap', '--data-dir', dataDir, '--status', '--json'])).stdout) as { mac: string; state: string; why: string }[];
    expect(status.find((s) => s.mac === MAC)).toMatchObject({ state: 'failed', why: failed.error });
  }, 60_000);

  it('Secure Mode off in the sending service: the bootstrap is held (not sent, not failed, no contact-me for it); with the passphrase it goes out with that run\'s port', async () => {
    const { dataDir, protector, portA, prepared } = await preparedOnA({ kind: 'auto' });
    const off = await start(dataDir, undefined, 0);
    expect(off.info.securePort).toBeUndefined();
    expect(off.info.bootstrapNotes).toEqual(['1 queued bootstrap job: Secure Mode is off in this service (no key passphrase), so they are held, not sent, until the service runs with the key passphrase']);
    // The scheduler does not ask the phone to call for a job it would not send (a contact-me is
    // recorded a turn after contactDue(); the phone's interaction below takes several).
    expect(off.service.store.device(MAC)?.contactMeUri).toBeTruthy();
    off.service.contactDue();

    const { phone, writes } = phoneOf(off.server, prepared.pin);
    const r = await phone.runInteraction('solicited');
    expect(off.service.store.device(MAC)?.lastContactMe ?? null).toBeNull();
    expect(r).toMatchObject({ ok: true, mode: 'default' });
    expect(writes).toEqual([]);
    const held = off.service.store.jobs.get(prepared.jobId)!;
    expect(held).toMatchObject({ state: 'queued', attempts: 0, error: expect.stringMatching(/^held: Secure Mode is off in the running service/) as unknown });
    expect(off.service.store.device(MAC)).toMatchObject({ mode: 'default', bootstrap: 'pending' });
    const x = off.service.store.exchanges({ mac: MAC })[0]!;
    expect(x.warning).toMatch(new RegExp(`bootstrap job ${prepared.jobId} not sent \\(Secure Mode is off`));
    const status = JSON.parse((await runCli(['bootstrap', '--data-dir', dataDir, '--status', '--json'])).stdout) as { mac: string; state: string; why: string }[];
    expect(status.find((s) => s.mac === MAC)).toMatchObject({ state: 'queued', why: held.error });
    await stop(off.service);

    const b = await startElsewhere(dataDir, protector, portA);
    const portB = b.port;
    const later = phoneOf(b.server, prepared.pin).phone;
    expect((await later.runInteraction('solicited')).bootstrap).toMatchObject({ variant: 'pin', outcome: 'secure' });
    expect(later.secureCredential?.securePort).toBe(portB);
    expect(await later.runInteraction()).toMatchObject({ ok: true, mode: 'secure' });
    expect(b.service.store.jobs.get(prepared.jobId)).toMatchObject({ state: 'done', error: null });
  }, 60_000);
});
