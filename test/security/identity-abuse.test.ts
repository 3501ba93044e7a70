/**
 * Identity abuse (issue "Hardening", item 5), over real sockets against a real Service, each phone
 * on its own loopback address. Every refusal is an HTTP 403 with a one-line reason, recorded with
 * that reason in the exchange's `error` (what the traffic view and `localdls traffic` show);
 * warnings are answered and recorded in `warning`. The rules are argued in docs/security.md.
 *
 * (a) a message continuing another phone's interaction: another address with its cookie, or
 *     another mac-addr than the interaction's;
 * (b) a Default-Mode request claiming the MAC of a Secure-Mode phone;
 * (c) replayed messages and nonces: within an interaction, and across interactions of a device;
 * (d) a client certificate for one MAC used for another.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { prepareBootstraps } from '../../src/main/app/bootstrap';
import { passphraseProtector } from '../../src/main/pki';
import { RecentNonces } from '../../src/main/provisioning/session';
import { Service } from '../../src/main/app/service';
import { SimulatedPhone } from '../../src/phone';
import type { ExchangeSummary } from '../../src/shared/model';
import { ENGINE_REFUSALS, type EngineRefusalKey } from '../../src/shared/engine-refusals';
import { runCli } from '../support/cli';
import { startUpItems } from '../support/messages';
import { tempDirs } from '../support/tmp';
import { HandPhone, itemOf } from './support';

const newDir = tempDirs();
const running: Service[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop();
});

const A = '00:1A:E8:1D:00:0A';
const B = '00:1A:E8:1D:00:0B';
const known = (mac: string) => startUpItems(mac, { 'configuration-changed-flag': 'false' });
const readAllReply = (mac: string, extra: Record<string, string> = {}) => ({
  reason: 'reply-to' as const, action: 'ReadAllItems', status: 'accepted', fragment: 'final' as const,
  items: [...startUpItems(mac), ...Object.entries(extra).map(([name, value]) => ({ name, value }))],
});

async function service(secure = false) {
  const dataDir = newDir();
  const keyProtector = secure ? passphraseProtector('identity abuse tests', dataDir, { scryptCost: 1024 }) : undefined;
  const s = new Service({ dataDir, host: '127.0.0.1', port: 0, autoContact: false, ...(keyProtector ? { keyProtector, securePort: 0 } : {}) });
  running.push(s);
  const info = await s.start();
  return { service: s, dataDir, port: info.port, securePort: info.securePort ?? 0, keyProtector };
}

/** What the traffic view is given for the newest exchange, and what `localdls traffic` prints for it. */
async function newestRow(s: Service, dataDir: string): Promise<{ row: ExchangeSummary; line: string; json: ExchangeSummary }> {
  const [row] = s.store.exchanges({ limit: 1 });
  const human = await runCli(['traffic', '--data-dir', dataDir, '--limit', '1']);
  const json = await runCli(['traffic', '--data-dir', dataDir, '--limit', '1', '--json']);
  expect(human.code).toBe(0);
  return { row: row!, line: human.stdout.trim(), json: JSON.parse(json.stdout) as ExchangeSummary };
}

/** The newest row is a refusal with this reason, shown as one (`!`) by the CLI. */
/** `key`: the sentence of shared/engine-refusals.ts the row's error must read back as (the UI says it in German). */
async function expectRefusedRow(s: Service, dataDir: string, reason: RegExp, key?: EngineRefusalKey) {
  const { row, line, json } = await newestRow(s, dataDir);
  expect(row).toMatchObject({ httpStatus: 403, action: null, warning: null });
  expect(row.error).toMatch(reason);
  if (key) expect(ENGINE_REFUSALS.parse(row.error!)?.key).toBe(key);
  expect(json.error).toBe(row.error);
  expect(line).toContain(`  ! ${row.error}`);
  expect(line).toContain('HTTP 403');
  return row;
}

describe('(a) a message that continues another phone’s interaction', () => {
  it('is refused when it comes from another address with that phone’s cookie, or names another MAC; the interaction carries on', async () => {
    const { service: s, dataDir, port } = await service();
    const a = new HandPhone(A, port, '127.0.0.41');
    const b = new HandPhone(B, port, '127.0.0.42');
    expect((await a.say({ reason: 'start-up', items: startUpItems(A) })).dls?.action).toBe('ReadAllItems');
    const stolen = a.cookie!;
    expect(stolen).toMatch(/^JSESSIONID=/);

    // B, on its own address, presents A's cookie and claims to be B.
    const hijack = await b.say(readAllReply(B, { 'user-pwd': 'from-b' }), { cookie: stolen });
    expect(hijack.status).toBe(403);
    expect(hijack.body).toBe(`the session cookie belongs to the interaction of ${A} at 127.0.0.41, but this message came from 127.0.0.42: refused\n`);
    await expectRefusedRow(s, dataDir, /session cookie belongs to the interaction of 00:1A:E8:1D:00:0A/, 'cookieOtherAddress');

    // The same from A's own address (two phones behind one NAT address), naming B: refused for the MAC.
    const sameAddress = await b.say(readAllReply(B), { cookie: stolen, from: '127.0.0.41' });
    expect(sameAddress.status).toBe(403);
    expect(sameAddress.body).toBe(`the message claims mac-addr ${B}, but the interaction it continues (by its session cookie) belongs to ${A}: refused\n`);
    await expectRefusedRow(s, dataDir, /claims mac-addr 00:1A:E8:1D:00:0B, but the interaction it continues/);

    // Without any cookie, from A's address: matched by address, still not B's to continue.
    const byAddress = await b.say(readAllReply(B), { cookie: null, from: '127.0.0.41' });
    expect(byAddress.status).toBe(403);
    expect(byAddress.body).toMatch(/\(by its address\) belongs to 00:1A:E8:1D:00:0A: refused/);

    // Nothing of it reached A or B: A's interaction is intact and A finishes it.
    expect(s.store.device(B)).toBeUndefined();
    const done = await a.say(readAllReply(A, { 'user-pwd': 'from-a' }));
    expect(done.dls?.action).toBe('CleanUp');
    expect(s.store.items(A).find((i) => i.name === 'user-pwd')?.value).toBe('from-a');
    const rows = s.store.exchanges({ limit: 10 }).reverse();
    expect(rows.map((r) => [r.httpStatus, r.error === null])).toEqual([[200, true], [403, false], [403, false], [403, false], [200, true]]);
    expect(rows[4]!.interactionId).toBe(rows[0]!.interactionId);
  });

  it('a reply-to without a cookie from the interaction’s own address is answered, with a warning (⚠, not !)', async () => {
    const { service: s, dataDir, port } = await service();
    const a = new HandPhone(A, port, '127.0.0.43');
    await a.say({ reason: 'start-up', items: startUpItems(A) });
    const r = await a.say(readAllReply(A), { cookie: null });
    expect(r.dls?.action).toBe('CleanUp');
    const { row, line } = await newestRow(s, dataDir);
    expect(row).toMatchObject({ httpStatus: 200, error: null, warning: 'reply-to without session cookie: matched by address' });
    expect(line).toContain('  ⚠ reply-to without session cookie: matched by address');
    expect(line).not.toContain(' ! ');
  });
});

describe('(a) reports without a cookie', () => {
  it('a status or clean-up without a cookie continues the interaction of the device it names at that address, with a warning, also behind one NAT; from another address it is refused (helper-66, helper-68)', async () => {
    const { service: s, dataDir, port } = await service();
    const a = new HandPhone(A, port, '127.0.0.53');
    const b = new HandPhone(B, port, '127.0.0.53');
    expect((await b.say({ reason: 'start-up', items: startUpItems(B) })).dls?.action).toBe('ReadAllItems');
    b.cookie = null;
    expect((await a.say({ reason: 'start-up', items: startUpItems(A) })).dls?.action).toBe('ReadAllItems');
    const interaction = s.store.exchanges({ limit: 1 })[0]!.interactionId;
    // B's own report, though A's interaction at this address is the newer one (one NAT): it finds B's.
    const other = await b.say({ reason: 'clean-up', items: [...startUpItems(B), { name: 'cleanup-reason', value: 'password retries exceeded' }] }, { cookie: null });
    expect(other.status).toBe(200);
    expect(s.store.exchanges({ limit: 1 })[0]!.interactionId).not.toBe(interaction);
    // A report naming a device whose interaction is at another address continues nothing.
    const elsewhere = new HandPhone(A, port, '127.0.0.59');
    expect((await elsewhere.say({ reason: 'clean-up', items: [...startUpItems(A), { name: 'cleanup-reason', value: 'x' }] }, { cookie: null })).status).toBe(403);
    // A's own, without the cookie the manual promises on reply-to only (p.28): it ends A's interaction.
    const own = await a.say({ reason: 'clean-up', items: [...startUpItems(A), { name: 'cleanup-reason', value: 'password retries exceeded' }] }, { cookie: null });
    expect(own.status).toBe(200);
    const { row, line } = await newestRow(s, dataDir);
    expect(row).toMatchObject({ httpStatus: 200, error: null, interactionId: interaction, warning: 'clean-up without session cookie: matched by address and mac-addr' });
    expect(line).toContain('⚠ clean-up without session cookie');
  });
});

describe('(c) replayed messages and nonces', () => {
  it('refuses the same message twice in an interaction, and a nonce the phone had moved on from', async () => {
    const { service: s, dataDir, port } = await service();
    const a = new HandPhone(A, port, '127.0.0.44');
    const first = await a.say({ reason: 'start-up', items: startUpItems(A), nonce: 'N1-START' });
    expect(first.dls).toMatchObject({ action: 'ReadAllItems', nonce: 'N1-START' });
    const part1 = a.xml({ reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', fragment: 'next', nonce: 'N2-PART1', items: startUpItems(A).slice(0, 6) });
    expect((await a.say(part1)).dls?.action).toBe('GetNextFragment');

    // The very same fragment again (a retransmission or a replay): refused, and not added twice.
    const again = await a.say(part1);
    expect(again.status).toBe(403);
    expect(again.body).toBe('replayed message: this interaction already had this very message (nonce N2-PART1): refused\n');
    const row = await expectRefusedRow(s, dataDir, /^replayed message: this interaction already had this very message/, 'replayedMessage');
    expect(row.nonce).toBe('N2-PART1');

    // "The very same message" is the same bytes (session.ts messageDigest): the same fragment
    // re-encoded (a blank before an end tag) is a new message, as a forged one with the same nonce
    // always was (docs/security.md §3: the nonce checks stop replays, not forgery).
    const reencoded = part1.replace('</ReasonForContact>', '</ReasonForContact >');
    expect(reencoded).not.toBe(part1);
    expect((await a.say(reencoded)).dls?.action).toBe('GetNextFragment');

    // Another message under the start-up's nonce, after the phone had moved on to N2: refused.
    const back = await a.say({ reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', fragment: 'next', nonce: 'N1-START', items: startUpItems(A).slice(6, 8) });
    expect(back.status).toBe(403);
    await expectRefusedRow(s, dataDir, /^replayed nonce: nonce N1-START was used earlier in this interaction, before the phone's last message: refused$/, 'replayedNonceInInteraction');

    // The interaction itself goes on: the final fragment with a fresh nonce completes it, once.
    const last = await a.say({ reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', fragment: 'final', nonce: 'N3-FINAL', items: startUpItems(A).slice(6) });
    expect(last.dls?.action).toBe('CleanUp');
    expect(s.store.items(A).filter((i) => i.name === 'mac-addr')).toHaveLength(1);
    expect(s.store.items(A).length).toBe(startUpItems(A).length);

    // A replayed start-up of an earlier interaction: refused, the device is left as it was.
    const before = s.store.device(A)!;
    const replay = await a.say({ reason: 'start-up', items: startUpItems(A, { 'software-version': 'V1 R0.0.0' }), nonce: 'N1-START' });
    expect(replay.status).toBe(403);
    await expectRefusedRow(s, dataDir, new RegExp(`^replayed nonce: ${A} already used nonce N1-START in an earlier interaction: refused$`), 'replayedNonceEarlier');
    expect(s.store.device(A)).toMatchObject({ softwareVersion: before.softwareVersion, lastContact: before.lastContact });

    // Another phone may use the same nonce (nonces are the phone's own): answered.
    const b = new HandPhone(B, port, '127.0.0.45');
    expect((await b.say({ reason: 'start-up', items: startUpItems(B), nonce: 'N1-START' })).dls?.action).toBe('ReadAllItems');
  });

  it('accepts a phone that keeps one nonce for the whole flow (manual p.34) and one that sends a fresh nonce each time', async () => {
    const { service: s, port } = await service();
    const a = new HandPhone(A, port, '127.0.0.46');
    const flow = 'P34-ONE-NONCE-FOR-THE-FLOW';
    expect((await a.say({ reason: 'start-up', items: startUpItems(A), nonce: flow })).dls?.action).toBe('ReadAllItems');
    expect((await a.say({ reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', fragment: 'next', nonce: flow, items: startUpItems(A).slice(0, 5) })).dls?.action).toBe('GetNextFragment');
    expect((await a.say({ reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', fragment: 'final', nonce: flow, items: startUpItems(A).slice(5) })).dls).toMatchObject({ action: 'CleanUp', nonce: flow });
    const b = new HandPhone(B, port, '127.0.0.47');
    const r = await b.say({ reason: 'start-up', items: startUpItems(B) });
    await b.acceptAll(r, () => startUpItems(B));
    expect(s.store.exchanges({ limit: 100 }).filter((x) => x.error !== null)).toEqual([]);
  });

  it('a phone that keeps one nonce answers two WriteItems alike, and a WriteItems in parts part by part: both done, nothing refused (helper-66)', async () => {
    const { service: s, port } = await service();
    const options = { server: `https://127.0.0.1:${port}`, mac: A, keepNonce: true, ipAddress: '127.0.0.48', bindIpAddress: true };
    expect(await new SimulatedPhone(options).runInteraction()).toMatchObject({ ok: true, end: 'CleanUp' });
    // The same phone taking one item per message from now on (its maxItems, manual p.69).
    const phone = new SimulatedPhone({ ...options, maxItems: 1, configurationChanged: false });
    const jobs = s.store.jobs;
    // Two writes taken whole answer with the same bytes (same nonce, `accepted`, no items).
    const first = jobs.add({ mac: A, kind: 'WriteItems', items: [{ name: 'sntp-addr', value: 'ntp.one' }] }, Date.now());
    const second = jobs.add({ mac: A, kind: 'WriteItems', items: [{ name: 'daylight-save', value: 'true' }] }, Date.now());
    // maxItems 1: this one goes in two parts, whose answers are alike too.
    const parts = jobs.add({ mac: A, kind: 'WriteItems', items: [{ name: 'e164', value: '4711' }, { name: 'sntp-tz-offset', value: '60' }] }, Date.now());
    const result = await phone.runInteraction('solicited');
    expect(result).toMatchObject({ ok: true, end: 'CleanUp', actions: ['WriteItems', 'WriteItems', 'WriteItems', 'WriteItems', 'CleanUp'] });
    expect([first, second, parts].map((j) => jobs.get(j.id)!.state)).toEqual(['done', 'done', 'done']);
    const replies = s.store.listExchanges({ device: A, reason: 'reply-to' }, { limit: 10 }).exchanges.filter((x) => x.replyAction === 'WriteItems');
    expect(replies).toHaveLength(4);
    expect(new Set(replies.map((x) => x.nonce)).size).toBe(1);
    expect(s.store.exchanges({ limit: 100 }).filter((x) => x.error !== null)).toEqual([]);

    // The fragment just taken, sent again while its message is assembled, is a resend whatever the
    // nonce style (the next part holds other items): refused, and its items are not added twice.
    const b = new HandPhone(B, port, '127.0.0.49');
    const flow = 'P34-KEPT';
    expect((await b.say({ reason: 'start-up', items: startUpItems(B), nonce: flow })).dls?.action).toBe('ReadAllItems');
    const part = { reason: 'reply-to' as const, action: 'ReadAllItems', status: 'accepted', fragment: 'next' as const, nonce: flow, items: startUpItems(B).slice(0, 5) };
    expect((await b.say(part)).dls?.action).toBe('GetNextFragment');
    const resent = await b.say(part);
    expect(resent.status).toBe(403);
    expect(resent.body).toBe(`replayed message: this interaction already had this very message (nonce ${flow}): refused\n`);
    expect((await b.say({ ...part, fragment: 'final', items: startUpItems(B).slice(5) })).dls?.action).toBe('CleanUp');
    expect(s.store.items(B).length).toBe(startUpItems(B).length);
  });

  it('a kept nonce allows no second take of a fragment, older or final, nor of a report; a report cut into a reply in fragments is refused (helper-68)', async () => {
    const { service: s, port } = await service();
    const c = new HandPhone(A, port, '127.0.0.54');
    const flow = 'P34-KEPT-CHAIN';
    // The device is known and has a write waiting: after the reply the interaction goes on.
    await c.acceptAll(await c.say({ reason: 'start-up', items: startUpItems(A) }), () => startUpItems(A));
    s.store.jobs.add({ mac: A, kind: 'ReadAllItems', items: [] }, Date.now());
    const write = s.store.jobs.add({ mac: A, kind: 'WriteItems', items: [{ name: 'e164', value: '4711' }] }, Date.now());
    expect((await c.say({ reason: 'solicited', items: known(A), nonce: flow })).dls?.action).toBe('ReadAllItems');
    const all = startUpItems(A);
    const f1 = { reason: 'reply-to' as const, action: 'ReadAllItems', status: 'accepted', fragment: 'next' as const, nonce: flow, items: all.slice(0, 4) };
    const f2 = { ...f1, items: all.slice(4, 8) };
    const f3 = { ...f1, fragment: 'final' as const, items: all.slice(8) };
    expect((await c.say(f1)).dls?.action).toBe('GetNextFragment');
    expect((await c.say(f2)).dls?.action).toBe('GetNextFragment');
    // An older part again while the message is assembled: refused, not added twice.
    expect((await c.say(f1)).status).toBe(403);
    // A report cut in (with the cookie, and without): refused, the parts held stay as they were.
    const report = { reason: 'clean-up' as const, nonce: flow, items: [...known(A), { name: 'cleanup-reason', value: 'password retries exceeded' }] };
    expect((await c.say(report)).body).toMatch(/^a clean-up while the phone's reply-to ReadAllItems is still arriving in fragments: refused/);
    expect((await c.say(report, { cookie: null })).status).toBe(403);
    expect((await c.say(f3)).dls?.action).toBe('WriteItems');
    expect(s.store.items(A).length).toBe(all.length);
    // The final part again, after its message was put together: not a second ReadAllItems answer.
    const again = await c.say(f3);
    expect(again.status).toBe(403);
    expect(s.store.items(A).length).toBe(all.length);
    expect(s.store.jobs.get(write.id)!.state).toBe('sent');
    // The write's answer, once: done.
    expect((await c.say({ reason: 'reply-to', action: 'WriteItems', status: 'accepted', fragment: 'final', nonce: flow, items: [] })).dls?.action).toBe('CleanUp');
    expect(s.store.jobs.get(write.id)!.state).toBe('done');
  });

  it('a kept nonce: the same read asked twice and answered twice in fragments, the same bytes, is two answers (helper-69)', async () => {
    const { service: s, port } = await service();
    const c = new HandPhone(B, port, '127.0.0.55');
    await c.acceptAll(await c.say({ reason: 'start-up', items: startUpItems(B) }), () => startUpItems(B));
    const reads = [1, 2].map(() => s.store.jobs.add({ mac: B, kind: 'ReadAllItems', items: [] }, Date.now()));
    const flow = 'P34-KEPT-TWICE';
    expect((await c.say({ reason: 'solicited', items: known(B), nonce: flow })).dls?.action).toBe('ReadAllItems');
    const f1 = { reason: 'reply-to' as const, action: 'ReadAllItems', status: 'accepted', fragment: 'next' as const, nonce: flow, items: startUpItems(B).slice(0, 6) };
    const f2 = { ...f1, fragment: 'final' as const, items: startUpItems(B).slice(6) };
    expect((await c.say(f1)).dls?.action).toBe('GetNextFragment');
    expect((await c.say(f2)).dls?.action).toBe('ReadAllItems');
    expect((await c.say(f1)).dls?.action).toBe('GetNextFragment');
    expect((await c.say(f2)).dls?.action).toBe('CleanUp');
    expect(reads.map((j) => s.store.jobs.get(j.id)!.state)).toEqual(['done', 'done']);
    expect(s.store.exchanges({ limit: 100 }).filter((x) => x.error !== null)).toEqual([]);
  });

  it('a kept nonce: a status report sent again does not finish the next deployment, which the phone never got (helper-68 B2)', async () => {
    const { service: s, port } = await service();
    const c = new HandPhone(A, port, '127.0.0.56');
    await c.acceptAll(await c.say({ reason: 'start-up', items: startUpItems(A) }), () => startUpItems(A));
    const deploy = (file: string) => s.store.jobs.add({ mac: A, kind: 'FileDeployment', items: [{ name: 'file-https-base-url', value: `https://files.example/${file}` }, { name: 'file-type', value: 'LOGO' }] }, Date.now());
    const [x, y] = [deploy('x.png'), deploy('y.png')];
    const flow = 'P34-KEPT-STATUS';
    expect((await c.say({ reason: 'solicited', items: known(A), nonce: flow })).dls?.action).toBe('FileDeployment');
    const report = { reason: 'status' as const, nonce: flow, items: [...known(A), { name: 'file-deployment-status', index: 1, value: 'ok' }, { name: 'file-deployment-name', index: 1, value: 'x.png' }] };
    expect((await c.say(report)).dls?.action).toBe('FileDeployment');
    const again = await c.say(report);
    expect(again.status).toBe(403);
    expect(again.body).toMatch(/^replayed message: this interaction already had this very message/);
    expect([s.store.jobs.get(x.id)!.state, s.store.jobs.get(y.id)!.state]).toEqual(['done', 'sent']);
  });

  it('remembers a bounded number of nonces per device and of devices', () => {
    const recent = new RecentNonces(3, 2);
    for (const n of ['n1', 'n2', 'n3', 'n4']) recent.add(A, n, 'S1');
    expect(['n1', 'n2', 'n3', 'n4'].map((n) => recent.owner(A, n))).toEqual([undefined, 'S1', 'S1', 'S1']);
    recent.add(B, 'x', 'S2');
    recent.add('00:1A:E8:1D:00:0C', 'y', 'S3');
    expect(recent.devices).toBe(2);
    // The device seen least recently is forgotten first.
    expect(recent.owner(A, 'n4')).toBeUndefined();
    expect(recent.owner(B, 'x')).toBe('S2');
  });
});

describe('(b) and (d): Secure Mode identities', () => {
  it('refuses a Default-Mode request claiming a secure phone’s MAC, a certificate used for another MAC, and a certificate joining another phone’s interaction', async () => {
    const { service: s, dataDir, port, securePort, keyProtector } = await service(true);
    const a = new HandPhone(A, port, '127.0.0.51');
    const b = new HandPhone(B, port, '127.0.0.52');
    for (const p of [a, b]) await p.acceptAll(await p.say({ reason: 'start-up', items: startUpItems(p.mac) }), () => startUpItems(p.mac));
    await prepareBootstraps(s.store, s.pki!, keyProtector!, [A, B], { pin: { kind: 'none' }, securePort });
    const credential = async (p: HandPhone) => {
      const [boot] = await p.acceptAll(await p.say({ reason: 'solicited', items: known(p.mac) }));
      return { pfx: Buffer.from(itemOf(boot!, 'dls-client-certificate')!, 'base64'), passphrase: '', ca: [itemOf(boot!, 'dls-server-ca', 0)!], rejectUnauthorized: true, servername: 'localhost' };
    };
    const aSecure = new HandPhone(A, securePort, '127.0.0.51', await credential(a));
    const bSecure = new HandPhone(B, securePort, '127.0.0.52', await credential(b));
    expect((await aSecure.say({ reason: 'start-up', items: known(A) })).status).toBe(200);
    expect((await bSecure.say({ reason: 'start-up', items: known(B) })).status).toBe(200);
    expect(s.store.device(A)?.mode).toBe('secure');

    // (b) Anyone on the Default-Mode port claiming to be A.
    const spoof = new HandPhone(A, port, '127.0.0.59');
    const r1 = await spoof.say({ reason: 'start-up', items: startUpItems(A) });
    expect(r1.status).toBe(403);
    expect(r1.body).toMatch(/^00:1A:E8:1D:00:0A is in Secure Mode: its requests on the Default-Mode port are refused/);
    await expectRefusedRow(s, dataDir, /00:1A:E8:1D:00:0A is in Secure Mode: its requests on the Default-Mode port are refused/, 'secureOnDefaultForget');

    // (d) A's certificate with B's MAC.
    const r2 = await aSecure.say({ reason: 'start-up', items: known(B) });
    expect(r2.status).toBe(403);
    expect(r2.body).toBe(`the client certificate is for ${A}, but the message claims mac-addr ${B}: refused\n`);
    await expectRefusedRow(s, dataDir, /client certificate is for 00:1A:E8:1D:00:0A, but the message claims mac-addr 00:1A:E8:1D:00:0B/);

    // (d) A's certificate presenting B's session cookie: refused; B's interaction goes on.
    const bOpen = await bSecure.say({ reason: 'local-changes', items: startUpItems(B) });
    expect(bOpen.dls?.action).toBe('ReadAllItems');
    const r3 = await aSecure.say({ reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', fragment: 'final', items: [] }, { cookie: bSecure.cookie });
    expect(r3.status).toBe(403);
    await expectRefusedRow(s, dataDir, /client certificate is for 00:1A:E8:1D:00:0A, but this interaction belongs to 00:1A:E8:1D:00:0B: refused/);
    expect((await bSecure.say(readAllReply(B))).dls?.action).toBe('CleanUp');
    expect(s.store.device(B)).toMatchObject({ mode: 'secure' });
  });
});
