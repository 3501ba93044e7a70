/**
 * Relay mode hides every phone's address from the DLS: it sees all of them at the relay's address.
 * The DLS's checks by address (a cookie from another host, a reply-to without cookie matched by
 * address, a report matched by MAC and address) then cannot tell a LAN host from the phone, so the
 * relay holds them itself (helper-83: a host at another address answered a phone's cookieless
 * reply-to through the relay and was given that phone's WriteItems, its SIP password included).
 * Real sockets on loopback; the DLS is a second LocalDLS on 127.0.0.2, as docs/relay.md shows.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RelayOptions } from '../../src/main/app/relay-handler';
import { Service } from '../../src/main/app/service';
import { post } from '../support/https-client';
import { cookieOf, rawWpi } from '../support/raw-wpi';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function started(options: ConstructorParameters<typeof Service>[0]) {
  const service = new Service(options);
  const info = await service.start();
  cleanups.push(async () => {
    await service.stop();
    rmSync(options.dataDir, { recursive: true, force: true });
  });
  return { service, info };
}

const P = '00:1A:E8:00:83:01';
const { msg, readAllReply } = rawWpi('H83N');
const startUp = (changed: boolean) => msg('start-up', [['mac-addr', P], ['device-type', 'OpenStage 60'], ['software-version', 'V3 R5.0.0'], ['configuration-changed-flag', String(changed)]]);

async function dlsAndRelay(follow?: RelayOptions) {
  const dlsDir = mkdtempSync(join(tmpdir(), 'localdls-h83-dls-'));
  const dls = await started({ dataDir: dlsDir, host: '127.0.0.2', port: 0, store: { integrityCheck: false } });
  const fingerprint = new X509Certificate(readFileSync(join(dlsDir, 'tls', 'default-server.crt'))).fingerprint256;
  const upstream = { url: `https://127.0.0.2:${dls.info.port}`, fingerprints: [fingerprint], ...(follow ? { follow } : {}) };
  const relay = await started({ dataDir: mkdtempSync(join(tmpdir(), 'localdls-h83-relay-')), host: '127.0.0.1', port: 0, securePort: 0, upstream, store: { integrityCheck: false } });
  return { dls: dls.service, relay: relay.service, port: relay.info.port, upstream };
}

describe('relay: a host at another address cannot continue a phone\'s interaction through the relay', () => {
  it('a cookieless reply-to from another host is not relayed: it gets no job of the phone, and the phone gets its job', async () => {
    const { dls, relay, port } = await dlsAndRelay();
    // The phone introduces itself once, through the relay; then a write with a password is queued on the DLS.
    const first = await post(port, startUp(true), { localAddress: '127.0.0.1' });
    expect(first.body).toContain('ReadAllItems');
    expect((await post(port, readAllReply(), { localAddress: '127.0.0.1', headers: { Cookie: cookieOf(first) } })).body).toContain('CleanUp');
    dls.store.addJobs([{ mac: P, kind: 'WriteItems', items: [{ name: 'sip-pwd', value: 'h83-relay-secret' }] }], Date.now());

    const started = await post(port, startUp(true), { localAddress: '127.0.0.1' });
    expect(started.body).toContain('ReadAllItems');
    // Another host answers as if it were the phone, without the cookie (it never saw it).
    const hostile = await post(port, readAllReply(), { localAddress: '127.0.0.3' });
    expect(hostile.status).toBe(403);
    expect(hostile.body).not.toContain('h83-relay-secret');
    expect(hostile.body).toContain('not relayed');
    // Its cookie does not help it either, nor a report naming the phone.
    const withCookie = await post(port, readAllReply(), { localAddress: '127.0.0.3', headers: { Cookie: cookieOf(started) } });
    expect(withCookie.status).toBe(403);
    expect(withCookie.body).not.toContain('h83-relay-secret');
    const cleanUp = await post(port, msg('clean-up', [['mac-addr', P], ['cleanup-reason', 'invalid XML received']]), { localAddress: '127.0.0.3' });
    expect(cleanUp.status).toBe(403);
    // The DLS saw none of them; the phone's own reply gets its job.
    expect(dls.store.exchanges({}).filter((e) => e.error !== null)).toHaveLength(0);
    const own = await post(port, readAllReply(), { localAddress: '127.0.0.1', headers: { Cookie: cookieOf(started) } });
    expect(own.status).toBe(200);
    expect(own.body).toContain('h83-relay-secret');
    // The refusals are recorded by the relay, with the reason, and carry no MAC.
    const refused = relay.store.exchanges({}).filter((e) => e.httpStatus === 403);
    expect(refused).toHaveLength(3);
    for (const row of refused) expect(row).toMatchObject({ peerAddress: '127.0.0.3', mac: null });
    expect(refused.map((r) => r.error).join('\n')).toContain('from 127.0.0.3');
  });

  it('a cookie that is not the session cookie, or the session cookie spelt otherwise, does not make another host\'s reply-to pass (helper-84)', async () => {
    const { dls, port } = await dlsAndRelay();
    const first = await post(port, startUp(true), { localAddress: '127.0.0.1' });
    expect((await post(port, readAllReply(), { localAddress: '127.0.0.1', headers: { Cookie: cookieOf(first) } })).body).toContain('CleanUp');
    dls.store.addJobs([{ mac: P, kind: 'WriteItems', items: [{ name: 'sip-pwd', value: 'h84-relay-secret' }] }], Date.now());
    const begun = await post(port, startUp(true), { localAddress: '127.0.0.1' });
    expect(begun.body).toContain('ReadAllItems');
    const cookie = cookieOf(begun);
    // A made-up cookie is no session cookie to the DLS, which then went by the relay's address to the
    // phone's interaction; the phone's own cookie in another spelling the DLS reads alike.
    for (const forged of ['foo=bar', cookie.toLowerCase(), `x=1, ${cookie}`, `${cookie.replace('=', '="')}"`, `h84=1; ${cookie}`]) {
      const hostile = await post(port, readAllReply(), { localAddress: '127.0.0.3', headers: { Cookie: forged } });
      expect({ forged, status: hostile.status }).toEqual({ forged, status: 403 });
      expect(hostile.body).not.toContain('h84-relay-secret');
    }
    const report = await post(port, msg('clean-up', [['mac-addr', P], ['cleanup-reason', 'invalid XML received']]), { localAddress: '127.0.0.3', headers: { Cookie: 'foo=bar' } });
    expect(report.status).toBe(403);
    // The DLS saw none of them; the phone's own reply, with a cookie of its own beside the session's, gets its job.
    expect(dls.store.exchanges({}).filter((e) => e.error !== null)).toHaveLength(0);
    const own = await post(port, readAllReply(), { localAddress: '127.0.0.1', headers: { Cookie: `lang=de; ${cookie}` } });
    expect(own.status).toBe(200);
    expect(own.body).toContain('h84-relay-secret');
  });

  it("a session id the relay did not see set counts as none: another host's is held, whatever the DLS would make of it", async () => {
    const { dls, relay, port } = await dlsAndRelay();
    const first = await post(port, startUp(true), { localAddress: '127.0.0.1' });
    expect(first.body).toContain('ReadAllItems');
    const name = cookieOf(first).split('=')[0]!;
    // The DLS's own cookie name with a value the relay never saw set: a DLS that does not know the
    // id might start a session and go by address; the relay does not leave that to it.
    const unseen = await post(port, readAllReply(), { localAddress: '127.0.0.3', headers: { Cookie: `${name}=0123456789ABCDEF0123456789ABCDEF` } });
    expect(unseen.status).toBe(403);
    expect(unseen.body).toContain('not relayed');
    expect(dls.store.exchanges({}).some((e) => e.peerAddress !== '127.0.0.1' && e.httpStatus === 403)).toBe(false);
    const row = relay.store.exchanges({}).find((e) => e.peerAddress === '127.0.0.3');
    expect(row?.error).toContain('without session cookie from 127.0.0.3, where no interaction is open');
    // The phone at its own address with its own cookie goes on.
    expect((await post(port, readAllReply(), { localAddress: '127.0.0.1', headers: { Cookie: cookieOf(first) } })).status).toBe(200);
  });

  it("a Cookie the sender's own Connection header names is not passed on: the relay checks the cookies the DLS gets (helper-85)", async () => {
    const { dls, port } = await dlsAndRelay();
    const first = await post(port, startUp(true), { localAddress: '127.0.0.1' });
    expect((await post(port, readAllReply(), { localAddress: '127.0.0.1', headers: { Cookie: cookieOf(first) } })).body).toContain('CleanUp');
    dls.store.addJobs([{ mac: P, kind: 'WriteItems', items: [{ name: 'sip-pwd', value: 'h85-connection-secret' }] }], Date.now());
    // Another host with an interaction of its own, and so a session cookie of its own.
    const own = await post(port, msg('start-up', [['mac-addr', '00:1A:E8:00:85:0A'], ['configuration-changed-flag', 'false']]), { localAddress: '127.0.0.3' });
    expect(cookieOf(own)).toMatch(/^JSESSIONID=/);
    const begun = await post(port, startUp(true), { localAddress: '127.0.0.1' });
    expect(begun.body).toContain('ReadAllItems');
    // Its own cookie, which its Connection header makes hop-by-hop: the DLS got the reply-to without
    // any cookie and continued the latest interaction at the relay's address, the phone's.
    const hostile = await post(port, readAllReply(), { localAddress: '127.0.0.3', headers: { Cookie: cookieOf(own), Connection: 'close, Cookie' } });
    expect(hostile.body).not.toContain('h85-connection-secret');
    expect(hostile.status).toBe(403);
    expect(hostile.body).toContain('not relayed');
    const phone = await post(port, readAllReply(), { localAddress: '127.0.0.1', headers: { Cookie: cookieOf(begun) } });
    expect(phone.body).toContain('h85-connection-secret');
  });

  it('a first message the DLS refused, or the last part of one in fragments, gives its sender no interaction without cookie that passes a cookieless reply-to (helper-85)', async () => {
    const { dls, port } = await dlsAndRelay();
    const first = await post(port, startUp(true), { localAddress: '127.0.0.1' });
    expect((await post(port, readAllReply(), { localAddress: '127.0.0.1', headers: { Cookie: cookieOf(first) } })).body).toContain('CleanUp');
    dls.store.addJobs([{ mac: P, kind: 'WriteItems', items: [{ name: 'sip-pwd', value: 'h85-track-secret' }] }], Date.now());
    // One host sends a start-up the DLS refuses (400: no session, no cookie); another begins a
    // start-up of its own device in fragments (GetNextFragment, and a cookie).
    const refused = await post(port, msg('start-up', [['mac-addr', 'not-a-mac']]), { localAddress: '127.0.0.3' });
    expect(refused.status).toBe(400);
    const part = await post(port, msg('start-up', [['mac-addr', '00:1A:E8:00:85:0B'], ['device-type', 'OpenStage 60']], ' fragment="next"'), { localAddress: '127.0.0.4' });
    expect(part.body).toContain('GetNextFragment');
    const begun = await post(port, startUp(true), { localAddress: '127.0.0.1' });
    expect(begun.body).toContain('ReadAllItems');
    // Its last part, with its cookie (and its MAC again): the DLS continues that session and sets no new cookie.
    const last = await post(port, msg('start-up', [['mac-addr', '00:1A:E8:00:85:0B'], ['configuration-changed-flag', 'false']], ' fragment="final"'), { localAddress: '127.0.0.4', headers: { Cookie: cookieOf(part) } });
    expect(last.status).toBe(200);
    expect(last.headers['set-cookie']).toBeUndefined();
    for (const host of ['127.0.0.3', '127.0.0.4']) {
      const hostile = await post(port, readAllReply(), { localAddress: host });
      expect({ host, leaked: hostile.body.includes('h85-track-secret') }).toEqual({ host, leaked: false });
      expect({ host, status: hostile.status }).toEqual({ host, status: 403 });
    }
    const phone = await post(port, readAllReply(), { localAddress: '127.0.0.1', headers: { Cookie: cookieOf(begun) } });
    expect(phone.body).toContain('h85-track-secret');
    // The host whose start-up came in fragments goes on in its own interaction, with its cookie.
    expect((await post(port, readAllReply(), { localAddress: '127.0.0.4', headers: { Cookie: cookieOf(part) } })).status).toBe(200);
  });

  it("once the DLS sets cookies, an interaction it gave none passes no cookieless reply-to: a session the relay did not see open (before its restart) continued without a new cookie (helper-85)", async () => {
    const { dls, port, upstream } = await dlsAndRelay();
    const first = await post(port, startUp(true), { localAddress: '127.0.0.1' });
    expect((await post(port, readAllReply(), { localAddress: '127.0.0.1', headers: { Cookie: cookieOf(first) } })).body).toContain('CleanUp');
    dls.store.addJobs([{ mac: P, kind: 'WriteItems', items: [{ name: 'sip-pwd', value: 'h85-restart-secret' }] }], Date.now());
    // A host begins a start-up in fragments through the relay; the relay restarts (a second one
    // stands in for it, before the same DLS); the phone begins its interaction.
    const part = await post(port, msg('start-up', [['mac-addr', '00:1A:E8:00:85:0C']], ' fragment="next"'), { localAddress: '127.0.0.3' });
    expect(part.body).toContain('GetNextFragment');
    const again = await started({ dataDir: mkdtempSync(join(tmpdir(), 'localdls-h85-relay-')), host: '127.0.0.1', port: 0, securePort: 0, upstream, store: { integrityCheck: false } });
    const relayed = again.info.port;
    const begun = await post(relayed, startUp(true), { localAddress: '127.0.0.1' });
    expect(begun.body).toContain('ReadAllItems');
    // The last part with the cookie the new relay never saw set: the DLS continues that session.
    const last = await post(relayed, msg('start-up', [['configuration-changed-flag', 'false']], ' fragment="final"'), { localAddress: '127.0.0.3', headers: { Cookie: cookieOf(part) } });
    expect(last.status).toBe(200);
    const hostile = await post(relayed, readAllReply(), { localAddress: '127.0.0.3' });
    expect(hostile.body).not.toContain('h85-restart-secret');
    expect(hostile.status).toBe(403);
    expect((await post(relayed, readAllReply(), { localAddress: '127.0.0.1', headers: { Cookie: cookieOf(begun) } })).body).toContain('h85-restart-secret');
  });
  it('a body LocalDLS cannot read is relayed as it was, unless another address has an interaction open and it presents no session cookie of its own (helper-85)', async () => {
    const { dls, relay, port } = await dlsAndRelay();
    // A reply-to in UTF-16 with a BOM: LocalDLS reads no WPI in it; another DLS's parser might.
    const unread = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(readAllReply(), 'utf16le')]);
    // Nothing open at the relay: relayed, and the DLS answers for itself.
    const alone = await post(port, unread, { localAddress: '127.0.0.3' });
    expect(alone.status).toBe(400);
    expect(dls.store.exchanges({}).length).toBe(1);
    // The phone's interaction open at 127.0.0.1: the same body from 127.0.0.3 is held.
    const begun = await post(port, startUp(true), { localAddress: '127.0.0.1' });
    expect(begun.body).toContain('ReadAllItems');
    const seen = dls.store.exchanges({}).length;
    const held = await post(port, unread, { localAddress: '127.0.0.3' });
    expect(held.status).toBe(403);
    expect(held.body).toContain('not WPI as LocalDLS reads it');
    expect(dls.store.exchanges({}).length).toBe(seen);
    expect(relay.store.exchanges({}).find((e) => e.peerAddress === '127.0.0.3' && e.httpStatus === 403)?.error).toContain('while the interaction of 00:1A:E8:00:83:01 at 127.0.0.1 is open');
    // From the phone's own address with its cookie it goes on (the DLS judges it).
    const own = await post(port, unread, { localAddress: '127.0.0.1', headers: { Cookie: cookieOf(begun) } });
    expect(own.status).toBe(400);
    expect(dls.store.exchanges({}).length).toBe(seen + 1);
  });

  it("a report naming two MACs, or a MAC the relay cannot read, from another host is held while a phone's interaction is open (helper-86)", async () => {
    const { dls, relay, port } = await dlsAndRelay();
    const begun = await post(port, startUp(true), { localAddress: '127.0.0.1' });
    expect(begun.body).toContain('ReadAllItems');
    const seen = dls.store.exchanges({}).length;
    // A DLS that takes the first or the last mac-addr, or reads more spellings than LocalDLS, finds P by it.
    for (const items of [[['mac-addr', '00:1A:E8:00:86:0A'], ['mac-addr', P]], [['mac-addr', P], ['mac-addr', 'x']], [['mac-addr', '001A:E800:8301']]] as [string, string][][]) {
      const report = await post(port, msg('status', items), { localAddress: '127.0.0.3' });
      expect({ items, status: report.status }).toEqual({ items, status: 403 });
      expect(report.body).toContain('not relayed');
    }
    expect(dls.store.exchanges({}).length).toBe(seen);
    expect(relay.store.exchanges({}).find((e) => e.peerAddress === '127.0.0.3')?.error).toContain('while the interaction of 00:1A:E8:00:83:01 at 127.0.0.1 is open');
    expect((await post(port, readAllReply(), { localAddress: '127.0.0.1', headers: { Cookie: cookieOf(begun) } })).status).toBe(200);
  });

  it("a message naming a phone's MAC that the DLS refuses does not move that phone in the relay's inventory (helper-86)", async () => {
    const { relay, port } = await dlsAndRelay();
    const first = await post(port, startUp(true), { localAddress: '127.0.0.1' });
    expect((await post(port, readAllReply(), { localAddress: '127.0.0.1', headers: { Cookie: cookieOf(first) } })).body).toContain('CleanUp');
    const known = relay.store.device(P)!;
    expect(known.lastAddress).toBe('127.0.0.1');
    // Another host, with an interaction of its own, reports with its own cookie under P's MAC: the DLS refuses it.
    const own = await post(port, msg('start-up', [['mac-addr', '00:1A:E8:00:86:0B'], ['configuration-changed-flag', 'false']]), { localAddress: '127.0.0.3' });
    expect(cookieOf(own)).toMatch(/^JSESSIONID=/);
    await new Promise((r) => setTimeout(r, 5));
    const report = await post(port, msg('status', [['mac-addr', P]]), { localAddress: '127.0.0.3', headers: { Cookie: cookieOf(own) } });
    expect(report.status).toBe(403);
    const after = relay.store.device(P)!;
    expect({ lastAddress: after.lastAddress, lastContact: after.lastContact }).toEqual({ lastAddress: '127.0.0.1', lastContact: known.lastContact });
    expect(relay.store.exchanges({}).find((e) => e.peerAddress === '127.0.0.3' && e.httpStatus === 403)?.warning).toContain('unconfirmed');
  });
  it('a report naming a phone whose interaction the relay closed as idle is still held from elsewhere: the DLS may keep it open longer (helper-86)', async () => {
    const { dls, relay, port } = await dlsAndRelay();
    const begun = await post(port, startUp(true), { localAddress: '127.0.0.1' });
    expect(begun.body).toContain('ReadAllItems');
    // The relay closes it as idle (its 120 s); the DLS, sweeping on its own clock, has not yet.
    relay.sweep(Date.now() + 121_000);
    const seen = dls.store.exchanges({}).length;
    const forged = await post(port, msg('clean-up', [['mac-addr', P], ['cleanup-reason', 'invalid XML received']]), { localAddress: '127.0.0.3' });
    expect(forged.status).toBe(403);
    expect(forged.body).toContain('the relay closed as idle but the DLS may keep open');
    expect(dls.store.exchanges({}).length).toBe(seen);
    // The phone's own report, from its address, goes on; and a new interaction of the phone's clears the memory.
    const own = await post(port, msg('clean-up', [['mac-addr', P], ['cleanup-reason', 'invalid XML received']]), { localAddress: '127.0.0.1', headers: { Cookie: cookieOf(begun) } });
    expect(own.status).not.toBe(403);
    expect(dls.store.exchanges({}).length).toBe(seen + 1);
  });
  it("one host opening interactions by the dozen pushes out only its own, not a phone's, nor where a phone's idle one was (helper-87)", async () => {
    const { dls, relay, port } = await dlsAndRelay({ maxTracks: 20, maxTracksPerPeer: 4 });
    const fake = (i: number) => `00:1A:E8:00:87:${(0x10 + i).toString(16).toUpperCase()}`;
    const flood = async (from: number, to: number) => {
      for (let i = from; i < to; i++) expect((await post(port, msg('start-up', [['mac-addr', fake(i)]]), { localAddress: '127.0.0.3' })).status).toBe(200);
    };
    const first = await post(port, startUp(true), { localAddress: '127.0.0.1' });
    expect((await post(port, readAllReply(), { localAddress: '127.0.0.1', headers: { Cookie: cookieOf(first) } })).body).toContain('CleanUp');
    dls.store.addJobs([{ mac: P, kind: 'WriteItems', items: [{ name: 'sip-pwd', value: 'h87-flood-secret' }] }], Date.now());
    const begun = await post(port, startUp(true), { localAddress: '127.0.0.1' });
    expect(begun.body).toContain('ReadAllItems');
    // More interactions from one host than the relay follows in all: it gives way to itself.
    await flood(0, 25);
    const own = await post(port, readAllReply(), { localAddress: '127.0.0.1', headers: { Cookie: cookieOf(begun) } });
    expect(own.status).toBe(200);
    expect(own.body).toContain('h87-flood-secret');
    // The phone's next interaction goes idle; the host's flood then fills the relay's memory of idle ones with its own.
    const again = await post(port, startUp(false), { localAddress: '127.0.0.1' });
    expect(again.status).toBe(200);
    relay.sweep(Date.now() + 121_000);
    await flood(25, 60);
    relay.sweep(Date.now() + 121_000);
    await flood(60, 90);
    const forged = await post(port, msg('clean-up', [['mac-addr', P], ['cleanup-reason', 'invalid XML received']]), { localAddress: '127.0.0.3' });
    expect(forged.status).toBe(403);
    expect(forged.body).toContain('the relay closed as idle but the DLS may keep open');
  });
});

