/**
 * Identity on every message (issue #12), over real sockets against a real Service, attacker on
 * 127.0.0.2, phones on their own loopback addresses. Each bypass the issue found is played as the
 * outsider would, and each must end with: HTTP 403 and a one-line reason, a refused row in the
 * traffic (error set, no MAC), no job handed out or moved, no stored item changed. Then the real
 * phone still gets its job, over mutual TLS with its own certificate.
 *
 * Also here: state after commit (a failed store write leaves the engine as it was, so the phone's
 * retry is answered), late deployment status reports, recovery at start, one service per folder.
 */
import { ENGINE_REFUSALS } from '../../src/shared/engine-refusals';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import BetterSqlite3 from 'better-sqlite3';
import { prepareBootstraps } from '../../src/main/app/bootstrap';
import { passphraseProtector } from '../../src/main/pki';
import { Service } from '../../src/main/app/service';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { acquireServiceLock } from '../../src/main/store/service-lock';
import { CLI_NODE_ARGS } from '../support/cli';
import { startUpItems } from '../support/messages';
import { tempDirs } from '../support/tmp';
import { HandPhone, itemOf, send, type Reply } from './support';
import { withRawDb } from '../support/raw-db';

const newDir = tempDirs();
const running: Service[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop();
});

const A = '00:1A:E8:12:00:0A';
const B = '00:1A:E8:12:00:0B';
const ATTACKER = '127.0.0.2';
const known = (mac: string) => startUpItems(mac, { 'configuration-changed-flag': 'false' });
const SECRET = 'sip-secret-of-A';

async function service(options: { secure?: boolean; dataDir?: string } = {}) {
  const dataDir = options.dataDir ?? newDir();
  const keyProtector = options.secure ? passphraseProtector('identity on every message', dataDir, { scryptCost: 1024 }) : undefined;
  const s = new Service({ dataDir, host: '127.0.0.1', port: 0, autoContact: false, ...(keyProtector ? { keyProtector, securePort: 0 } : {}) });
  running.push(s);
  const info = await s.start();
  return { service: s, dataDir, info, port: info.port, securePort: info.securePort ?? 0, keyProtector };
}

/** Stops a service the way a crash would leave its data: sessions (in memory) are simply gone. */
async function stop(s: Service) {
  running.splice(running.indexOf(s), 1);
  await s.stop();
}

function expectRefused(r: Reply, reason: RegExp) {
  expect(r.status, r.body).toBe(403);
  expect(r.dls).toBeNull();
  expect(r.body).toMatch(reason);
  expect(r.body.endsWith('\n')).toBe(true);
  expect(r.body.trim()).not.toContain('\n');
}

/** Two phones bootstrapped (no PIN) into Secure Mode, each with its own credential; A has a job with a password queued. */
async function securePhones() {
  const ctx = await service({ secure: true });
  const { service: s, port, securePort, keyProtector } = ctx;
  const a = new HandPhone(A, port, '127.0.0.61');
  const b = new HandPhone(B, port, '127.0.0.62');
  for (const p of [a, b]) await p.acceptAll(await p.say({ reason: 'start-up', items: startUpItems(p.mac) }), () => startUpItems(p.mac));
  await prepareBootstraps(s.store, s.pki!, keyProtector!, [A, B], { pin: { kind: 'none' }, securePort });
  const credential = async (p: HandPhone) => {
    const [boot] = await p.acceptAll(await p.say({ reason: 'solicited', items: known(p.mac) }));
    return { pfx: Buffer.from(itemOf(boot!, 'dls-client-certificate')!, 'base64'), passphrase: '', ca: [itemOf(boot!, 'dls-server-ca', 0)!], rejectUnauthorized: true, servername: 'localhost' };
  };
  const aSecure = new HandPhone(A, securePort, '127.0.0.61', await credential(a));
  const bSecure = new HandPhone(B, securePort, '127.0.0.62', await credential(b));
  for (const p of [aSecure, bSecure]) expect((await p.say({ reason: 'start-up', items: known(p.mac) })).dls?.action).toBe('CleanUp');
  expect(s.store.device(A)).toMatchObject({ mode: 'secure' });
  const job = s.store.jobs.add({ mac: A, kind: 'WriteItems', items: [{ name: 'sip-pwd', value: SECRET }, { name: 'e164', value: '4711' }] }, Date.now()).id;
  const itemsBefore = s.store.items(A);
  return { ...ctx, aSecure, bSecure, job, itemsBefore };
}

/** Nothing reached A: its job still queued and never sent, its items as they were, the attempt recorded as refused rows. */
function expectUntouched(ctx: Awaited<ReturnType<typeof securePhones>>, refusedRows: number) {
  const s = ctx.service;
  expect(s.store.jobs.get(ctx.job)).toMatchObject({ state: 'queued', attempts: 0, sent: null });
  expect(s.store.items(A)).toEqual(ctx.itemsBefore);
  const rows = s.store.exchanges({ limit: refusedRows });
  expect(rows.length).toBe(refusedRows);
  for (const row of rows) expect(row).toMatchObject({ httpStatus: 403, mac: null, action: null, warning: null });
  for (const row of rows) expect(row.error).toMatch(/refused/);
  // The bytes the service answered never carry the job's password.
  for (const row of rows) expect(Buffer.from(s.store.exchange(row.id)!.responseBody).toString('utf8')).not.toContain(SECRET);
}

/** The real A still gets its job, over mutual TLS with its own certificate. */
async function aGetsItsJob(ctx: Awaited<ReturnType<typeof securePhones>>) {
  const seen = await ctx.aSecure.acceptAll(await ctx.aSecure.say({ reason: 'solicited', items: known(A) }));
  expect(seen.map((m) => m.action)).toEqual(['WriteItems', 'CleanUp']);
  expect(itemOf(seen[0]!, 'sip-pwd')).toBe(SECRET);
  expect(ctx.service.store.jobs.get(ctx.job)).toMatchObject({ state: 'done' });
  const row = ctx.service.store.exchanges({ limit: 5 }).find((x) => x.action === 'WriteItems')!;
  expect(row).toMatchObject({ listener: 'secure', mac: A, peerAddress: '127.0.0.61' });
}

describe('a Secure-Mode phone’s job reaches that phone alone', () => {
  it('Default-Mode port: reply-to, status and clean-up naming a secure phone, without a cookie, are refused', async () => {
    const ctx = await securePhones();
    const outsider = new HandPhone(A, ctx.port, ATTACKER);
    const replyTo = await outsider.say({ reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', fragment: 'final', items: startUpItems(A, { 'sip-pwd': 'overwritten' }) });
    expectRefused(replyTo, /^reply-to continues no live interaction \(it has no session cookie and no interaction is open at its address\).*: refused$/m);
    const status = await outsider.say({ reason: 'status', items: [...startUpItems(A), { name: 'file-deployment-status', index: 1, value: 'ok' }] });
    expectRefused(status, new RegExp(`^${A} is in Secure Mode: its requests on the Default-Mode port are refused`));
    const cleanUp = await outsider.say({ reason: 'clean-up', items: [...startUpItems(A), { name: 'cleanup-reason', value: 'password retries exceeded' }] });
    expectRefused(cleanUp, /is in Secure Mode/);
    // With a cookie that names no open interaction: the same.
    const forged = await outsider.say({ reason: 'reply-to', action: 'WriteItems', status: 'accepted', items: [] }, { cookie: 'JSESSIONID=00112233445566778899AABBCCDDEEFF' });
    expectRefused(forged, /its session cookie names no open interaction/);
    // Every first message too, whatever its reason.
    for (const reason of ['start-up', 'solicited', 'local-changes', 'inventory-changes'] as const) {
      expectRefused(await outsider.say({ reason, items: startUpItems(A) }), /is in Secure Mode/);
    }
    expectUntouched(ctx, 8);
    await aGetsItsJob(ctx);
  }, 60_000);

  it('secure port: B’s valid certificate naming A is refused, with or without a session, and never continues A’s interaction', async () => {
    const ctx = await securePhones();
    const { bSecure } = ctx;
    // No session at all: a reply-to naming A.
    expectRefused(await bSecure.say({ reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', fragment: 'final', items: startUpItems(A) }, { cookie: null }), new RegExp(`^the client certificate is for ${B}, but the message claims mac-addr ${A}: refused$`, 'm'));
    // A status naming A.
    expectRefused(await bSecure.say({ reason: 'status', items: startUpItems(A) }, { cookie: null }), new RegExp(`client certificate is for ${B}, but the message claims mac-addr ${A}`));
    // A reply-to naming nobody continues no interaction of B's.
    expectRefused(await bSecure.say({ reason: 'reply-to', action: 'WriteItems', status: 'accepted', items: [] }, { cookie: null }), /continues no live interaction \(it has no session cookie and this certificate has no open interaction\)/);
    // Inside a session B opened: continuing it with A's items.
    expect((await bSecure.say({ reason: 'local-changes', items: startUpItems(B) })).dls?.action).toBe('ReadAllItems');
    expectRefused(await bSecure.say({ reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', fragment: 'final', items: startUpItems(A, { 'sip-pwd': 'from-b' }) }), new RegExp(`client certificate is for ${B}, but the message claims mac-addr ${A}`));
    // B's session cookie from the Default-Mode port, naming A: sessions belong to one listener.
    expectRefused(await send(ctx.port, bSecure.xml({ reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', fragment: 'final', items: startUpItems(A) }), { from: ATTACKER, cookie: bSecure.cookie }), /reply-to continues no live interaction \(its session cookie names no open interaction\)/);
    // A's interaction, once open, is not B's to continue by its cookie (without one, B finds only its own certificate's).
    const aOpen = await ctx.aSecure.say({ reason: 'local-changes', items: startUpItems(A) });
    expect(aOpen.dls?.action).toBe('ReadAllItems');
    expectRefused(await bSecure.say({ reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', fragment: 'final', items: [] }, { cookie: ctx.aSecure.cookie }), new RegExp(`client certificate is for ${B}, but this interaction belongs to ${A}`));
    expect(ctx.service.store.jobs.get(ctx.job)).toMatchObject({ state: 'queued', attempts: 0 });
    expect(ctx.service.store.items(A).find((i) => i.name === 'sip-pwd')).toBeUndefined();
    // A finishes its read; then the job goes to A alone.
    const reread = await ctx.aSecure.say({ reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', fragment: 'final', items: startUpItems(A) });
    expect(reread.dls?.action).toBe('WriteItems');
    expect(itemOf(reread.dls!, 'sip-pwd')).toBe(SECRET);
    expect((await ctx.aSecure.say({ reason: 'reply-to', action: 'WriteItems', status: 'accepted', items: [] })).dls?.action).toBe('CleanUp');
    expect(ctx.service.store.jobs.get(ctx.job)).toMatchObject({ state: 'done', attempts: 1 });
    // B's own interaction was left as it was and ends normally.
    expect((await bSecure.say({ reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', fragment: 'final', items: startUpItems(B) })).dls?.action).toBe('CleanUp');
  }, 60_000);

  it('secure port, two phones behind one address: a reply-to without cookie continues its own certificate’s interaction', async () => {
    const ctx = await securePhones();
    const { aSecure, bSecure } = ctx;
    const NAT = '127.0.0.61';
    // A opens, then B from the same address: B's is the latest interaction there.
    expect((await aSecure.say({ reason: 'local-changes', items: startUpItems(A) }, { from: NAT })).dls?.action).toBe('ReadAllItems');
    expect((await bSecure.say({ reason: 'local-changes', items: startUpItems(B) }, { from: NAT })).dls?.action).toBe('ReadAllItems');
    // A answers without its cookie: its certificate finds its interaction, and its job follows.
    const a = await aSecure.say({ reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', fragment: 'final', items: startUpItems(A) }, { from: NAT, cookie: null });
    expect(a.status, a.body).toBe(200);
    expect(a.dls?.action).toBe('WriteItems');
    expect(itemOf(a.dls!, 'sip-pwd')).toBe(SECRET);
    const row = ctx.service.store.exchanges({ limit: 1 })[0]!;
    expect(row).toMatchObject({ mac: A, listener: 'secure', warning: 'reply-to without session cookie: matched by client certificate' });
    // B, also without its cookie and now from another address: its own interaction, which ends.
    const b = await bSecure.say({ reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', fragment: 'final', items: startUpItems(B) }, { from: '127.0.0.63', cookie: null });
    expect(b.dls?.action).toBe('CleanUp');
    expect(ctx.service.store.exchanges({ limit: 1 })[0]).toMatchObject({ mac: B, interactionId: ctx.service.store.exchanges({ limit: 10 }).find((x) => x.mac === B && x.reason === 'local-changes')!.interactionId });
    expect((await aSecure.say({ reason: 'reply-to', action: 'WriteItems', status: 'accepted', items: [] }, { from: NAT, cookie: null })).dls?.action).toBe('CleanUp');
    expect(ctx.service.store.jobs.get(ctx.job)).toMatchObject({ state: 'done', attempts: 1 });
  }, 60_000);

  it('Default-Mode port: a start-up naming a phone that took its PIN bootstrap, from another address, does not fail it', async () => {
    const { service: s, port, securePort, keyProtector } = await service({ secure: true });
    const a = new HandPhone(A, port, '127.0.0.61');
    await a.acceptAll(await a.say({ reason: 'start-up', items: startUpItems(A) }), () => startUpItems(A));
    const [prepared] = await prepareBootstraps(s.store, s.pki!, keyProtector!, [A], { pin: { kind: 'given', pin: '12345678' }, securePort });
    // The phone takes it; its PIN dialog is open now, for as long as nobody types the PIN.
    const seen = await a.acceptAll(await a.say({ reason: 'solicited', items: known(A) }));
    expect(seen.map((m) => m.action)).toEqual(['WriteItems', 'CleanUp']);
    expect(s.store.jobs.get(prepared!.jobId)).toMatchObject({ state: 'sent', partsDone: 1 });
    const serial = s.store.device(A)!.certSerial ?? null;
    // Another host claims the MAC with a start-up: refused, and the bootstrap stays as the phone took it.
    const outsider = new HandPhone(A, port, ATTACKER);
    expectRefused(await outsider.say({ reason: 'start-up', items: known(A) }), new RegExp(`^${A} took its bootstrap \\(job ${prepared!.jobId}\\) at 127\\.0\\.0\\.61; a start-up from 127\\.0\\.0\\.2 does not end it: refused`, 'm'));
    expect(s.store.jobs.get(prepared!.jobId)).toMatchObject({ state: 'sent', partsDone: 1 });
    expect(s.store.revokedCertificates()).toEqual([]);
    expect(s.store.device(A)!.certSerial ?? null).toBe(serial);
    // The phone itself starting up again (the PIN dialog closed by a reboot) still ends it, as before.
    const back = await a.say({ reason: 'start-up', items: known(A) });
    expect(back.status).toBe(200);
    expect(s.store.jobs.get(prepared!.jobId)).toMatchObject({ state: 'failed' });
    expect(s.store.revokedCertificates()).toHaveLength(1);
  }, 60_000);

  it('secure port: only the certificate the device holds, or the one issued for its bootstrap in progress, is let in', async () => {
    const { service: s, port, securePort, keyProtector } = await service({ secure: true });
    const b = new HandPhone(B, port, '127.0.0.62');
    await b.acceptAll(await b.say({ reason: 'start-up', items: startUpItems(B) }), () => startUpItems(B));
    const bootstrapOf = async (reply: (boot: { items: { name: string; index?: number; value: string }[] }) => { status?: string; name: string; value: string }[]) => {
      const [prepared] = await prepareBootstraps(s.store, s.pki!, keyProtector!, [B], { pin: { kind: 'none' }, securePort });
      const boot = (await b.say({ reason: 'solicited', items: known(B) })).dls!;
      expect(boot.action).toBe('WriteItems');
      const end = await b.say({ reason: 'reply-to', action: 'WriteItems', status: 'accepted', items: reply(boot) });
      expect(end.dls?.action).toBe('CleanUp');
      const tls = { pfx: Buffer.from(itemOf(boot, 'dls-client-certificate')!, 'base64'), passphrase: '', ca: [itemOf(boot, 'dls-server-ca', 0)!], rejectUnauthorized: true, servername: 'localhost' };
      return { job: prepared!.jobId, phone: new HandPhone(B, securePort, ATTACKER, tls) };
    };
    const refusedCert = /the client certificate \(serial [0-9A-F]+\) is not the one LocalDLS holds for 00:1A:E8:12:00:0B, nor one issued for a bootstrap in progress/;
    // 1. Taken by an outsider claiming B on the Default-Mode port, who reports it unusable: the job fails, its certificate opens nothing.
    const failed = await bootstrapOf(() => [{ name: 'dls-client-certificate', value: '', status: 'invalid data' }]);
    expect(s.store.jobs.get(failed.job)?.state).toBe('failed');
    // Revoked with the failure, as a bootstrap refused or ended by the phone is.
    const revokedCert = /the client certificate of 00:1A:E8:12:00:0B \(serial [0-9A-F]+\) is revoked/;
    const revokedReply = await failed.phone.say({ reason: 'start-up', items: known(B) });
    expectRefused(revokedReply, revokedCert);
    // In the service's words, which the UI reads back to say in German (shared/engine-refusals.ts).
    expect(ENGINE_REFUSALS.parse(revokedReply.body.trim())?.key).toBe('revoked');
    expect(s.store.device(B)).toMatchObject({ mode: 'default' });
    // 2. Delivered, then cancelled by the admin: its certificate opens nothing either.
    const cancelled = await bootstrapOf(() => []);
    s.store.jobs.cancel(cancelled.job, Date.now());
    expectRefused(await cancelled.phone.say({ reason: 'start-up', items: known(B) }), refusedCert);
    // 3. A third bootstrap the phone completes: its certificate works; the earlier ones still do not.
    const done = await bootstrapOf(() => []);
    expect((await done.phone.say({ reason: 'start-up', items: known(B) })).dls?.action).toBe('CleanUp');
    expect(s.store.jobs.get(done.job)?.state).toBe('done');
    const job = s.store.jobs.add({ mac: B, kind: 'WriteItems', items: [{ name: 'sip-pwd', value: SECRET }] }, Date.now()).id;
    expectRefused(await failed.phone.say({ reason: 'solicited', items: known(B) }), revokedCert);
    expectRefused(await cancelled.phone.say({ reason: 'solicited', items: known(B) }), refusedCert);
    expect(s.store.jobs.get(job)).toMatchObject({ state: 'queued', attempts: 0 });
    const seen = await done.phone.acceptAll(await done.phone.say({ reason: 'solicited', items: known(B) }));
    expect(itemOf(seen[0]!, 'sip-pwd')).toBe(SECRET);
  }, 60_000);

  it('leaving Secure Mode: the factory reset sent over the secure channel makes A a Default-Mode device at once, its certificate refused from then on', async () => {
    const ctx = await securePhones();
    const s = ctx.service;
    const serial = s.store.device(A)!.certSerial!;
    const reset = s.store.jobs.add({ mac: A, kind: 'FactoryReset', items: [], source: 'bootstrap:undo' }, Date.now()).id;
    // The password job queued before it would go first: moved behind the reset (jobs go in id order).
    withRawDb(s.store.dataDir, (db) => db.prepare('UPDATE jobs SET id = id + 1000 WHERE id = ?').run(ctx.job));
    // Before it is sent, the Default-Mode port still refuses A.
    expectRefused(await new HandPhone(A, ctx.port, ATTACKER).say({ reason: 'start-up', items: startUpItems(A) }), /is in Secure Mode/);
    const sent = await ctx.aSecure.say({ reason: 'solicited', items: known(A) });
    expect(sent.dls?.action).toBe('Restart');
    expect(s.store.device(A)).toMatchObject({ mode: 'default', bootstrap: null, certSerial: null });
    expect(s.store.isRevoked(serial)).toBe(true);
    expect(s.store.revokedCertificates()).toEqual([expect.objectContaining({ serial, mac: A, reason: 'factory reset: the phone left Secure Mode' })]);
    // The password job queued while A was secure is not left for whoever claims A in clear text.
    expect(s.store.jobs.get(ctx.job + 1000)).toMatchObject({ state: 'cancelled', error: expect.stringContaining('the phone left Secure Mode') as unknown });
    // The old certificate opens nothing any more.
    const withOld = await ctx.aSecure.say({ reason: 'start-up', items: known(A) }).catch((e: Error) => ({ status: 0, body: e.message }) as Reply);
    expect(withOld.status).toBe(403);
    expect(withOld.body).toMatch(/is revoked/);
    // The phone, reset, starts up on the Default-Mode port: served, and the reset confirmed.
    const back = new HandPhone(A, ctx.port, '127.0.0.61');
    expect((await back.say({ reason: 'start-up', items: startUpItems(A) })).dls?.action).toBe('ReadAllItems');
    expect(s.store.jobs.get(reset)).toMatchObject({ state: 'done', error: null });
  }, 60_000);

  it('leaving Secure Mode: a start-up from another address confirms the factory reset, and the job says where it came from', async () => {
    const ctx = await securePhones();
    const s = ctx.service;
    const reset = s.store.jobs.add({ mac: A, kind: 'FactoryReset', items: [], source: 'bootstrap:undo' }, Date.now()).id;
    // The password job queued before it would go first: moved behind the reset (jobs go in id order).
    withRawDb(s.store.dataDir, (db) => db.prepare('UPDATE jobs SET id = id + 1000 WHERE id = ?').run(ctx.job));
    expect((await ctx.aSecure.say({ reason: 'solicited', items: known(A) })).dls?.action).toBe('Restart');
    // Default Mode names the phone by its MAC alone: a reset phone on a new address (DHCP) and a host claiming its MAC look the same.
    expect((await new HandPhone(A, ctx.port, ATTACKER).say({ reason: 'start-up', items: startUpItems(A) })).dls?.action).toBe('ReadAllItems');
    expect(s.store.jobs.get(reset)).toMatchObject({
      state: 'done',
      error: `confirmed by a start-up on the Default-Mode port from ${ATTACKER}, not from 127.0.0.61, where the FactoryReset went: the phone got a new address, or another host named its MAC (Default Mode cannot tell which)`,
    });
  }, 60_000);

  it('Default Mode: a session continued with another phone’s items, or a message naming two MACs, is refused', async () => {
    const { service: s, port } = await service();
    const a = new HandPhone(A, port, '127.0.0.63');
    const b = new HandPhone(B, port, '127.0.0.64');
    await a.acceptAll(await a.say({ reason: 'start-up', items: startUpItems(A) }), () => startUpItems(A, { 'sip-pwd': 'a' }));
    expect((await b.say({ reason: 'start-up', items: startUpItems(B) })).dls?.action).toBe('ReadAllItems');
    expectRefused(await b.say({ reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', fragment: 'final', items: startUpItems(A, { 'sip-pwd': 'b' }) }), new RegExp(`claims mac-addr ${A}, but the interaction it continues \\(by its session cookie\\) belongs to ${B}`));
    // Split over fragments: the part naming A is refused, whatever came before it.
    expect((await b.say({ reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', fragment: 'next', items: [{ name: 'e164', value: '1' }] })).dls?.action).toBe('GetNextFragment');
    expectRefused(await b.say({ reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', fragment: 'final', items: [{ name: 'mac-addr', value: A }] }), /belongs to 00:1A:E8:12:00:0B/);
    const twoMacs = await new HandPhone(A, port, ATTACKER).say({ reason: 'start-up', items: [...startUpItems(A), { name: 'mac-addr', value: B }] });
    expect(twoMacs.status).toBe(400);
    expect(twoMacs.body).toBe('the message names more than one MAC in its mac-addr items: refused\n');
    expect(s.store.items(A).find((i) => i.name === 'sip-pwd')?.value).toBe('a');
    expect(s.store.device(B)?.state).toBe('in-interaction');
  });

  it('a forged or other-port cookie is not matched by address: the phone behind the same NAT address keeps its interaction', async () => {
    const { service: s, port } = await service();
    const nat = '127.0.0.80';
    const p1 = new HandPhone(A, port, nat);
    await p1.acceptAll(await p1.say({ reason: 'start-up', items: startUpItems(A) }), () => startUpItems(A));
    const job = s.store.jobs.add({ mac: A, kind: 'WriteItems', items: [{ name: 'e164', value: '7' }] }, Date.now()).id;
    expect((await p1.say({ reason: 'solicited', items: known(A) })).dls?.action).toBe('WriteItems');
    // Another device behind the same address, with a made-up cookie and no mac-addr.
    const forged = await send(port, p1.xml({ reason: 'reply-to', action: 'WriteItems', status: 'accepted', items: [] }), { from: nat, cookie: 'JSESSIONID=00112233445566778899AABBCCDDEEFF' });
    expectRefused(forged, /its session cookie names no open interaction/);
    expect(s.store.jobs.get(job)?.state).toBe('sent');
    expect((await p1.say({ reason: 'reply-to', action: 'WriteItems', status: 'accepted', items: [] })).dls?.action).toBe('CleanUp');
    expect(s.store.jobs.get(job)?.state).toBe('done');
  });

  it('an interaction replaced or squeezed out is closed in the store and its job queued again, never stranded; a status or clean-up cannot replace one', async () => {
    const { service: s, port } = await service();
    const a = new HandPhone(A, port, '127.0.0.81');
    await a.acceptAll(await a.say({ reason: 'start-up', items: startUpItems(A) }), () => startUpItems(A));
    const job = s.store.jobs.add({ mac: A, kind: 'WriteItems', items: [{ name: 'e164', value: '8' }] }, Date.now()).id;
    expect((await a.say({ reason: 'solicited', items: known(A) })).dls?.action).toBe('WriteItems');
    const outsider = new HandPhone(A, port, ATTACKER);
    expectRefused(await outsider.say({ reason: 'clean-up', items: [...startUpItems(A), { name: 'cleanup-reason', value: 'x' }] }), /which has an interaction open: it must continue that interaction/);
    expectRefused(await outsider.say({ reason: 'status', items: startUpItems(A) }), /which has an interaction open/);
    expect(s.store.jobs.get(job)?.state).toBe('sent');
    // A start-up naming A starts a new flow (a rebooted phone does that): the old one is closed now.
    const interactionBefore = s.store.exchanges({ mac: A, limit: 1 })[0]!.interactionId!;
    expect((await outsider.say({ reason: 'start-up', items: known(A) })).status).toBe(200);
    expect(s.store.interaction(interactionBefore)).toMatchObject({ endReason: 'abandoned: the phone started a new interaction' });
    // The job went out again in the new interaction (counted), not stranded as `sent` of a dead one.
    expect(s.store.jobs.get(job)).toMatchObject({ state: 'sent', attempts: 2 });
    expectRefused(await a.say({ reason: 'reply-to', action: 'WriteItems', status: 'accepted', items: [] }), /its session cookie names no open interaction/);
    // Squeezed out: sessions evicted to make room are closed in the store too.
    const t = new Service({ dataDir: newDir(), host: '127.0.0.1', port: 0, autoContact: false });
    running.push(t);
    const tPort = (await t.start()).port;
    (t.handler.engine.sessions as unknown as { limits: { maxSessionsPerAddress: number } }).limits.maxSessionsPerAddress = 2;
    for (const [i, mac] of ['00:1A:E8:12:01:01', '00:1A:E8:12:01:02', '00:1A:E8:12:01:03'].entries()) {
      expect((await new HandPhone(mac, tPort, ATTACKER).say({ reason: 'start-up', items: startUpItems(mac), nonce: `SQUEEZE-${i}` })).dls?.action).toBe('ReadAllItems');
    }
    expect(t.handler.engine.sessions.size).toBe(2);
    const open = withRawDb(t.store.dataDir, (db) => db.prepare('SELECT count(*) AS n FROM interactions WHERE ended IS NULL').get() as { n: number });
    expect(open.n).toBe(2);
    expect(t.store.device('00:1A:E8:12:01:01')?.state).toBe('idle');
    expect(withRawDb(t.store.dataDir, (db) => db.prepare(`SELECT end_reason AS r FROM interactions WHERE ended IS NOT NULL`).all())).toEqual([{ r: 'abandoned: too many interactions open (this address holds its share)' }]);
  });

  it('a late reply-to, after the interaction ended, gets no job and is recorded as refused', async () => {
    const { service: s, port } = await service();
    const a = new HandPhone(A, port, '127.0.0.65');
    await a.acceptAll(await a.say({ reason: 'start-up', items: startUpItems(A) }), () => startUpItems(A));
    const opened = await a.say({ reason: 'solicited', items: known(A) });
    expect(opened.dls?.action).toBe('CleanUp');
    const job = s.store.jobs.add({ mac: A, kind: 'WriteItems', items: [{ name: 'e164', value: '99' }] }, Date.now()).id;
    // The cookie of an ended interaction, from A's own address.
    const first = await a.say({ reason: 'start-up', items: startUpItems(A) });
    const cookie = first.setCookie;
    await a.acceptAll(first, (m) => (m.action === 'ReadAllItems' ? startUpItems(A) : []));
    expect(s.store.jobs.get(job)?.state).toBe('done');
    const late = await a.say({ reason: 'reply-to', action: 'WriteItems', status: 'accepted', items: [] }, { cookie });
    expectRefused(late, /reply-to continues no live interaction/);
    expect(s.store.exchanges({ limit: 1 })[0]).toMatchObject({ httpStatus: 403, mac: null });
  });
});

describe('state changes only after the store committed', () => {
  it('a failed store write answers 500 and changes nothing: the phone’s retry of the same bytes is answered normally', async () => {
    const { service: s, dataDir, port } = await service();
    const a = new HandPhone(A, port, '127.0.0.66');
    // A real write failure, from the database itself: a trigger another connection installs.
    const db = new BetterSqlite3(`${dataDir}/localdls.sqlite`);
    const failWrites = () => db.exec(`CREATE TRIGGER fail_writes BEFORE INSERT ON exchanges WHEN new.http_status = 200 BEGIN SELECT RAISE(ABORT, 'disk full (test)'); END`);
    const allowWrites = () => db.exec('DROP TRIGGER fail_writes');
    try {
      failWrites();
      const startUp = a.xml({ reason: 'start-up', items: startUpItems(A), nonce: 'RETRY-START-UP' });
      const lost = await a.say(startUp);
      expect(lost.status).toBe(500);
      expect(lost.body).toMatch(/^internal error, exchange not recorded: disk full \(test\)/);
      expect(lost.setCookie).toBeNull();
      expect(s.handler.engine.sessions.size).toBe(0);
      expect(s.store.device(A)).toBeUndefined();
      allowWrites();
      const retried = await a.say(startUp);
      expect(retried.status, retried.body).toBe(200);
      expect(retried.dls).toMatchObject({ action: 'ReadAllItems', nonce: 'RETRY-START-UP' });

      // In the middle of an interaction: a fragment whose write fails is not held, the retry is.
      failWrites();
      const part = a.xml({ reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', fragment: 'next', nonce: 'RETRY-PART', items: startUpItems(A).slice(0, 5) });
      expect((await a.say(part)).status).toBe(500);
      allowWrites();
      expect((await a.say(part)).dls?.action).toBe('GetNextFragment');
      // And the last part: the job sent with it goes out once the write succeeds.
      const job = s.store.jobs.add({ mac: A, kind: 'WriteItems', items: [{ name: 'e164', value: '42' }] }, Date.now()).id;
      failWrites();
      const last = a.xml({ reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', fragment: 'final', nonce: 'RETRY-LAST', items: startUpItems(A).slice(5) });
      expect((await a.say(last)).status).toBe(500);
      expect(s.store.jobs.get(job)).toMatchObject({ state: 'queued', attempts: 0 });
      allowWrites();
      const write = await a.say(last);
      expect(write.dls?.action).toBe('WriteItems');
      expect(s.store.jobs.get(job)).toMatchObject({ state: 'sent', attempts: 1 });
      expect(s.store.items(A).filter((i) => i.name === 'mac-addr')).toHaveLength(1);
      expect((await a.say({ reason: 'reply-to', action: 'WriteItems', status: 'accepted', items: [] })).dls?.action).toBe('CleanUp');
      expect(s.store.jobs.get(job)?.state).toBe('done');
      expect(s.store.exchanges({ limit: 100 }).filter((x) => x.error !== null)).toEqual([]);
    } finally {
      db.close();
    }
  });
});

describe('late deployment status reports', () => {
  const fileJob = [{ name: 'file-https-base-url', value: 'https://files.example/logo.png' }, { name: 'file-type', value: 'LOGO' }];
  const report = (mac: string, status = 'ok') => [...startUpItems(mac), { name: 'file-deployment-status', index: 1, value: status }, { name: 'file-deployment-name', index: 1, value: 'logo.png' }];

  it('a status after the session expired finishes its job once, and the file is not deployed again', async () => {
    const { service: s, port } = await service();
    const a = new HandPhone(A, port, '127.0.0.67');
    await a.acceptAll(await a.say({ reason: 'start-up', items: startUpItems(A) }), () => startUpItems(A));
    const job = s.store.jobs.add({ mac: A, kind: 'FileDeployment', items: fileJob }, Date.now()).id;
    expect((await a.say({ reason: 'solicited', items: known(A) })).dls?.action).toBe('FileDeployment');
    // The download takes longer than the session lives: swept; the job waits for its report, and
    // the phone's next contact (before the report) does not get the file again.
    s.sweep(Date.now() + 10 * 60_000);
    expect(s.store.jobs.get(job)).toMatchObject({ state: 'sent', attempts: 1 });
    expect(s.store.device(A)?.state).toBe('idle');
    expect((await a.say({ reason: 'local-changes', items: known(A) }, { cookie: null })).dls?.action).toBe('CleanUp');
    // The phone's report arrives on a new connection, without a cookie.
    const late = await a.say({ reason: 'status', items: report(A) }, { cookie: null });
    expect(late.dls?.action).toBe('CleanUp');
    expect(s.store.jobs.get(job)).toMatchObject({ state: 'done', attempts: 1 });
    expect(s.store.exchanges({ limit: 1 })[0]).toMatchObject({ httpStatus: 200, mac: A, warning: 'late status report: matched to the deployment job it reports on' });
    // The next contact sends nothing again; a second copy of the report finishes nothing.
    expect((await a.say({ reason: 'solicited', items: known(A) })).dls?.action).toBe('CleanUp');
    expect((await a.say({ reason: 'status', items: report(A, 'failed') }, { cookie: null })).dls?.action).toBe('CleanUp');
    expect(s.store.jobs.get(job)).toMatchObject({ state: 'done', attempts: 1 });
    expect(s.store.exchanges({ limit: 1 })[0]!.warning).toBe('status report for no deployment waiting for one');
  });

  it('a report is matched by the file it names: one about another file finishes nothing; no report at all fails the job in time', async () => {
    const { service: s, port } = await service();
    const a = new HandPhone(A, port, '127.0.0.69');
    await a.acceptAll(await a.say({ reason: 'start-up', items: startUpItems(A) }), () => startUpItems(A));
    const job = s.store.jobs.add({ mac: A, kind: 'FileDeployment', items: fileJob }, Date.now()).id;
    expect((await a.say({ reason: 'solicited', items: known(A) })).dls?.action).toBe('FileDeployment');
    s.sweep(Date.now() + 10 * 60_000);
    const other = [...startUpItems(A), { name: 'file-deployment-status', index: 1, value: 'failed' }, { name: 'file-deployment-name', index: 1, value: 'ringer.wav' }];
    expect((await a.say({ reason: 'status', items: other }, { cookie: null })).dls?.action).toBe('CleanUp');
    expect(s.store.jobs.get(job)).toMatchObject({ state: 'sent' });
    expect(s.store.exchanges({ limit: 1 })[0]!.warning).toBe('status report for no deployment waiting for one');
    s.sweep(Date.now() + 31 * 60_000);
    expect(s.store.jobs.get(job)).toMatchObject({ state: 'failed', error: 'the phone sent no status report within 30 minutes after the FileDeployment was sent' });
  });

  it('after a restart: a status finishes the deployment, a start-up confirms the firmware, neither is sent again', async () => {
    const first = await service();
    const a = new HandPhone(A, first.port, '127.0.0.68');
    await a.acceptAll(await a.say({ reason: 'start-up', items: startUpItems(A) }), () => startUpItems(A));
    const file = first.service.store.jobs.add({ mac: A, kind: 'FileDeployment', items: fileJob }, Date.now()).id;
    const firmware = first.service.store.jobs.add({ mac: A, kind: 'SoftwareDeployment', items: [{ name: 'file-https-base-url', value: 'https://files.example/fw.img' }, { name: 'file-sw-version', value: '3.6.0.0' }], expect: { 'software-version': 'V3 R6.0.0' } }, Date.now()).id;
    expect((await a.say({ reason: 'solicited', items: known(A) })).dls?.action).toBe('FileDeployment');
    await stop(first.service);
    const second = await service({ dataDir: first.dataDir });
    // The deployment waits for its report (not queued again: the file would be deployed twice).
    expect(second.info.recovered).toMatchObject({ interactions: 1, devices: 1, jobs: 0, requeued: 0, failed: 0, awaitingReturn: 1 });
    const late = await a.say({ reason: 'status', items: report(A) }, { port: second.port, cookie: null });
    // Finished, and the interaction the report opened goes on with the next job.
    expect(late.dls?.action).toBe('SoftwareDeployment');
    expect(second.service.store.jobs.get(file)).toMatchObject({ state: 'done', attempts: 1 });
    await stop(second.service);
    const third = await service({ dataDir: first.dataDir });
    // The firmware job waits for the phone's return: not a stranded job, left as it is. Its
    // interaction was open (for a refusal: busy in a call, a failed download): closed at start.
    expect(third.info.recovered).toMatchObject({ interactions: 1, devices: 1, jobs: 0, requeued: 0, failed: 0, awaitingReturn: 1 });
    expect(third.service.store.jobs.get(firmware)).toMatchObject({ state: 'sent' });
    const back = await a.say({ reason: 'start-up', items: known(A).map((i) => (i.name === 'software-version' ? { ...i, value: 'V3 R6.0.0' } : i)) }, { port: third.port, cookie: null });
    expect(back.dls?.action).toBe('CleanUp');
    expect(third.service.store.jobs.get(firmware)).toMatchObject({ state: 'done', attempts: 1 });
    expect(third.service.store.jobs.get(file)).toMatchObject({ state: 'done', attempts: 1 });
  });
});

describe('recovery at start', () => {
  it('closes interactions a crash left open, queues their jobs again (or fails them), sets devices idle, and says so', async () => {
    const first = await service();
    const phones = [A, B].map((mac, i) => new HandPhone(mac, first.port, `127.0.0.7${i}`));
    for (const p of phones) await p.acceptAll(await p.say({ reason: 'start-up', items: startUpItems(p.mac) }), () => startUpItems(p.mac));
    const a = first.service.store.jobs.add({ mac: A, kind: 'WriteItems', items: [{ name: 'e164', value: '1' }] }, Date.now()).id;
    const b = first.service.store.jobs.add({ mac: B, kind: 'ReadItems', items: [{ name: 'e164', value: '' }] }, Date.now()).id;
    // B's job has been tried four times already, unanswered: this cut attempt is its fifth and last.
    withRawDb(first.dataDir, (db) => db.prepare('UPDATE jobs SET attempts = 4, unanswered = 4 WHERE id = ?').run(b));
    for (const p of phones) expect((await p.say({ reason: 'solicited', items: known(p.mac) })).status).toBe(200);
    expect(first.service.store.device(A)?.state).toBe('in-interaction');
    await stop(first.service);

    const second = await service({ dataDir: first.dataDir });
    expect(second.info.recovered).toEqual({
      interactions: 2, devices: 2, jobs: 2, requeued: 1, failed: 1, awaitingReturn: 0,
      message: 'the last run stopped during 2 interactions: closed them, 2 devices idle again; 2 jobs sent without a reply: 1 queued again, 1 failed (attempts used up); 0 sent jobs still wait for their phone to come back (reboot, secure port)',
    });
    const st = second.service.store;
    expect(st.jobs.get(a)).toMatchObject({ state: 'queued', attempts: 1, error: 'the phone did not answer; will send again' });
    expect(st.jobs.get(b)).toMatchObject({ state: 'failed', attempts: 5, error: 'no answer from the phone to 5 sendings' });
    expect(st.devices().map((d) => d.state)).toEqual(['idle', 'idle']);
    withRawDb(st.dataDir, (db) => {
      expect((db.prepare('SELECT count(*) AS n FROM interactions WHERE ended IS NULL').get() as { n: number }).n).toBe(0);
      expect((db.prepare(`SELECT DISTINCT end_reason AS r FROM interactions WHERE end_reason LIKE 'closed at start%'`).all() as { r: string }[]).map((r) => r.r)).toEqual(['closed at start: the service stopped during this interaction']);
    });
    // The phone's late reply to the cut interaction gets nothing; its next contact gets the job again.
    expectRefused(await phones[0]!.say({ reason: 'reply-to', action: 'WriteItems', status: 'accepted', items: [] }, { port: second.port }), /continues no live interaction/);
    expect(st.jobs.get(a)?.state).toBe('queued');
    const aAgain = new HandPhone(A, second.port, '127.0.0.70');
    await aAgain.acceptAll(await aAgain.say({ reason: 'solicited', items: known(A) }));
    expect(st.jobs.get(a)).toMatchObject({ state: 'done', attempts: 2 });
    // A clean start has nothing to recover.
    await stop(second.service);
    expect((await service({ dataDir: first.dataDir })).info.recovered).toBeUndefined();
  });

  it('a job waiting for its phone to reboot does not wait for ever: it fails once the phone is clearly not coming back', async () => {
    const { service: s, port } = await service();
    const a = new HandPhone(A, port, '127.0.0.72');
    await a.acceptAll(await a.say({ reason: 'start-up', items: startUpItems(A) }), () => startUpItems(A));
    const restart = s.store.jobs.add({ mac: A, kind: 'Restart', items: [] }, Date.now()).id;
    expect((await a.say({ reason: 'solicited', items: known(A) })).dls?.action).toBe('Restart');
    const firmware = s.store.jobs.add({ mac: A, kind: 'SoftwareDeployment', items: [{ name: 'file-https-base-url', value: 'https://files.example/fw.img' }] }, Date.now()).id;
    expect((await a.say({ reason: 'solicited', items: known(A) })).dls?.action).toBe('SoftwareDeployment');
    s.sweep(Date.now() + 14 * 60_000);
    expect(s.store.jobs.get(restart)?.state).toBe('sent');
    s.sweep(Date.now() + 16 * 60_000);
    expect(s.store.jobs.get(restart)).toMatchObject({ state: 'failed', error: 'the phone did not come back within 15 minutes after the Restart was sent' });
    expect(s.store.jobs.get(firmware)?.state).toBe('sent');
    s.sweep(Date.now() + 61 * 60_000);
    expect(s.store.jobs.get(firmware)).toMatchObject({ state: 'failed', error: 'the phone did not come back within 60 minutes after the SoftwareDeployment was sent' });
  });

  it('one service per data folder: a second `serve` on it is refused with the owner’s pid; a killed owner blocks nothing', async () => {
    const dir = newDir();
    const serve = (port = '0') => spawn(process.execPath, [...CLI_NODE_ARGS, 'serve', '--data-dir', dir, '--host', '127.0.0.1', '--port', port, '--no-auto-contact'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const first = serve();
    let out = '';
    first.stdout!.on('data', (d) => (out += d));
    await new Promise<void>((resolve, reject) => {
      const t = setInterval(() => out.includes('"listening"') && (clearInterval(t), resolve()), 50);
      first.once('exit', (c) => reject(new Error(`serve exited ${c}`)));
    });
    const second = serve();
    let err = '';
    second.stderr!.on('data', (d) => (err += d));
    const [code] = (await once(second, 'exit')) as [number];
    expect(code).not.toBe(0);
    expect(err).toContain(`another LocalDLS service (process ${first.pid}) is running on the data folder ${dir}: stop it first`);
    // Two at once in one process are refused as well (the lock is SQLite's, on the file).
    expect(() => acquireServiceLock(dir)).toThrow(/another LocalDLS service \(process \d+\) is running on the data folder/);
    first.kill('SIGKILL');
    await once(first, 'exit');
    // A pid file naming a live process (pid 1) blocks nothing: the OS lock is the truth.
    writeFileSync(join(dir, 'service.pid'), '1\n');
    // The killed service's lock is left behind; the next start takes it over.
    const third = serve();
    let out3 = '';
    third.stdout!.on('data', (d) => (out3 += d));
    await new Promise<void>((resolve, reject) => {
      const t = setInterval(() => out3.includes('"listening"') && (clearInterval(t), resolve()), 50);
      third.once('exit', (c) => reject(new Error(`serve exited ${c}`)));
    });
    third.kill('SIGINT');
    expect((await once(third, 'exit'))[0]).toBe(0);
  });
});
