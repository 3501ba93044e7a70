/**
 * The relay before a DLS that is not LocalDLS (helper-87): a servlet-like stand-in that reads its
 * session cookie as a servlet container does (the name exactly, the value exactly as it set it,
 * `;` between cookies), continues a message without a cookie it knows by the client address (every
 * phone's is the relay's), and continues a phone's report by the MAC it names before its cookie.
 * The relay's own checks must hold for such a DLS too: a cookie the relay reads as the sender's own
 * but the DLS does not, or a report naming another phone, gave a LAN host that phone's WriteItems.
 * Real sockets on loopback.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { post } from '../support/https-client';
import { relayBefore } from '../support/relay-before';
import { cookieOf, rawWpi } from '../support/raw-wpi';
import { dlsMessage, field, readPhone, type StandInRequest } from '../support/stand-in-dls';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const P = '00:1A:E8:00:87:01';
const A = '00:1A:E8:00:87:0A';
const SECRET = 'h87-strict-secret';
const { msg, startUp, readAllReply } = rawWpi('H87N');

/** The JSESSIONID a request presents, read exactly as a servlet container reads it, if it names a session in `sessions`. */
function sessionCookie(request: StandInRequest, sessions: ReadonlyMap<string, unknown>): string | null {
  for (const [name, value] of request.headers) {
    if (name.toLowerCase() !== 'cookie') continue;
    for (const part of value.split(';')) {
      const [k, v] = part.trim().split(/=(.*)/s) as [string, string | undefined];
      if (k === 'JSESSIONID' && v !== undefined && sessions.has(v)) return v;
    }
  }
  return null;
}

/** A servlet-like DLS: exact cookies, else the client address; a report by its MAC first. P has a WriteItems with a password queued. */
function servletDls() {
  const sessions = new Map<string, { mac: string | null }>();
  let latest: { mac: string | null } | null = null;
  const byCookie = (request: StandInRequest) => {
    const id = sessionCookie(request, sessions);
    return id === null ? null : sessions.get(id)!;
  };
  return (request: StandInRequest) => {
    const m = readPhone(request.body);
    const mac = field(request.body, /<Item name="mac-addr">([^<]*)</);
    const headers: [string, string][] = [['Content-Type', 'text/xml;charset=UTF-8']];
    const answer = (action: string, items: { name: string; value: string }[] = []) => ({ status: 200, headers, body: dlsMessage(m.nonce ?? '', action, items) });
    const next = (s: { mac: string | null } | null) => (s?.mac === P ? answer('WriteItems', [{ name: 'sip-pwd', value: SECRET }]) : answer('CleanUp'));
    if (m.reason === 'reply-to') return m.action === 'ReadAllItems' ? next(byCookie(request) ?? latest) : answer('CleanUp');
    if (m.reason === 'status' || m.reason === 'clean-up') {
      const own = [...sessions.values()].find((s) => s.mac === mac);
      return next(own ?? byCookie(request) ?? latest);
    }
    const id = randomBytes(16).toString('hex').toUpperCase();
    latest = { mac };
    sessions.set(id, latest);
    headers.push(['Set-Cookie', `JSESSIONID=${id}; Path=/DeploymentService; Secure`]);
    return answer('ReadAllItems');
  };
}


/** A host at 127.0.0.3 with an interaction (and a session cookie) of its own, then the phone's interaction at 127.0.0.1, the latest at the relay's address. */
async function ownThenPhone(port: number) {
  const own = await post(port, startUp(A), { localAddress: '127.0.0.3' });
  expect(own.body).toContain('ReadAllItems');
  const phone = await post(port, startUp(P), { localAddress: '127.0.0.1' });
  expect(phone.body).toContain('ReadAllItems');
  return { own: cookieOf(own), phone: cookieOf(phone) };
}

describe('relay before a DLS that is not LocalDLS (helper-87)', () => {
  it("the sender's own cookie in a spelling the DLS does not read is no cookie of its own: a reply-to with it is held", async () => {
    const { dls, port } = await relayBefore(servletDls(), cleanups);
    const cookies = await ownThenPhone(port);
    const [name, value] = cookies.own.split('=') as [string, string];
    for (const spelt of [name.toLowerCase() + '=' + value, `${name}=${value.toLowerCase()}`, `${name}="${value}`, `x=1, ${cookies.own}`]) {
      const seen = dls.requests.length;
      const hostile = await post(port, readAllReply(), { localAddress: '127.0.0.3', headers: { Cookie: spelt } });
      expect({ spelt, leaked: hostile.body.includes(SECRET) }).toEqual({ spelt, leaked: false });
      expect({ spelt, status: hostile.status }).toEqual({ spelt, status: 403 });
      expect(hostile.body).toContain('not as the DLS set it');
      expect(dls.requests.length).toBe(seen);
    }
    // Its own cookie as the DLS set it goes on (its own interaction); so does the phone's.
    expect((await post(port, readAllReply(), { localAddress: '127.0.0.3', headers: { Cookie: cookies.own } })).body).toContain('CleanUp');
    expect((await post(port, readAllReply(), { localAddress: '127.0.0.1', headers: { Cookie: cookies.phone } })).body).toContain(SECRET);
  });

  it("a report naming another phone's MAC, whose interaction is open elsewhere, is held even with the sender's own cookie", async () => {
    const { dls, port } = await relayBefore(servletDls(), cleanups);
    const cookies = await ownThenPhone(port);
    const seen = dls.requests.length;
    for (const reason of ['status', 'clean-up']) {
      const hostile = await post(port, msg(reason, [['mac-addr', P]]), { localAddress: '127.0.0.3', headers: { Cookie: cookies.own } });
      expect({ reason, leaked: hostile.body.includes(SECRET) }).toEqual({ reason, leaked: false });
      expect({ reason, status: hostile.status }).toEqual({ reason, status: 403 });
      expect(hostile.body).toContain(`naming ${P}, whose interaction is open at 127.0.0.1`);
    }
    expect(dls.requests.length).toBe(seen);
    // A cookie the relay never saw set (here: made up; also one set before the relay restarted) is said to be one.
    const unseen = await post(port, readAllReply(), { localAddress: '127.0.0.4', headers: { Cookie: 'JSESSIONID=0123456789ABCDEF' } });
    expect(unseen.status).toBe(403);
    expect(unseen.body).toContain('none the relay saw the DLS set');
    // The phone's own report, with its cookie, from its address, goes on.
    expect((await post(port, msg('status', [['mac-addr', P]]), { localAddress: '127.0.0.1', headers: { Cookie: cookies.phone } })).body).toContain(SECRET);
  });

  it('a report without cookie naming no MAC, or a phone with no interaction here, is held while another address has one open (helper-88)', async () => {
    const { dls, port } = await relayBefore(servletDls(), cleanups);
    expect((await post(port, startUp(P), { localAddress: '127.0.0.1' })).body).toContain('ReadAllItems');
    const seen = dls.requests.length;
    for (const m of [msg('status', []), msg('status', [['mac-addr', '00:1A:E8:00:88:99']]), msg('clean-up', [['cleanup-reason', 'invalid XML received']])]) {
      const hostile = await post(port, m, { localAddress: '127.0.0.3' });
      expect({ leaked: hostile.body.includes(SECRET), status: hostile.status }).toEqual({ leaked: false, status: 403 });
      expect(hostile.body).toContain('while the interaction of 00:1A:E8:00:87:01 at 127.0.0.1 is open');
    }
    expect(dls.requests.length).toBe(seen);
    // The phone's own report, naming it, without a cookie, from its address, goes on.
    expect((await post(port, msg('status', [['mac-addr', P]]), { localAddress: '127.0.0.1' })).body).toContain(SECRET);
  });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Like servletDls, but a session ends at the DLS's CleanUp (invalidated), and every answer leaves after a delay (a WAN between relay and DLS). */
function wanServletDls(delayMs: number) {
  const sessions = new Map<string, { mac: string | null }>();
  let latest: { mac: string | null } | null = null;
  const cookieOfReq = (request: StandInRequest) => sessionCookie(request, sessions);
  return async (request: StandInRequest) => {
    const m = readPhone(request.body);
    const mac = field(request.body, /<Item name="mac-addr">([^<]*)</);
    const headers: [string, string][] = [['Content-Type', 'text/xml;charset=UTF-8']];
    const answer = (action: string, items: { name: string; value: string }[] = []) => ({ status: 200, headers, body: dlsMessage(m.nonce ?? '', action, items) });
    const end = (id: string | null) => { if (id) { const s = sessions.get(id); sessions.delete(id); if (latest === s) latest = null; } };
    const next = (s: { mac: string | null } | null, id: string | null) => { if (s?.mac === P) return answer('WriteItems', [{ name: 'sip-pwd', value: SECRET }]); end(id); return answer('CleanUp'); };
    let result;
    if (m.reason === 'reply-to' || m.reason === 'status' || m.reason === 'clean-up') {
      const byMac = m.reason !== 'reply-to' ? [...sessions.entries()].find(([, s]) => s.mac === mac) : undefined;
      const id = byMac?.[0] ?? cookieOfReq(request);
      const s = id ? sessions.get(id)! : latest;
      const sid = id ?? [...sessions.entries()].find(([, x]) => x === latest)?.[0] ?? null;
      result = m.reason === 'reply-to' && m.action !== 'ReadAllItems' ? (end(sid), answer('CleanUp')) : next(s, sid);
    } else {
      const id = randomBytes(16).toString('hex').toUpperCase();
      latest = { mac };
      sessions.set(id, latest);
      headers.push(['Set-Cookie', `JSESSIONID=${id}; Path=/DeploymentService; Secure`]);
      result = answer('ReadAllItems');
    }
    await sleep(delayMs);
    return result;
  };
}

describe('relay: what the DLS took before the relay learnt it (helper-88)', () => {
  it("a report naming a phone whose first message is still at the DLS is held", async () => {
    const { dls, port } = await relayBefore(wanServletDls(300), cleanups);
    const phone = post(port, startUp(P), { localAddress: '127.0.0.1' });
    await sleep(100);
    const hostile = await post(port, msg('status', [['mac-addr', P]]), { localAddress: '127.0.0.3' });
    expect({ leaked: hostile.body.includes(SECRET), status: hostile.status }).toEqual({ leaked: false, status: 403 });
    expect(hostile.body).toContain('still at the DLS');
    expect(dls.requests).toHaveLength(1);
    // The phone goes on with its interaction.
    const cookie = cookieOf(await phone);
    expect((await post(port, readAllReply(), { localAddress: '127.0.0.1', headers: { Cookie: cookie } })).body).toContain(SECRET);
  });

  it("a message of an interaction waits for the one before it: sent while its CleanUp is at the DLS, it is decided once the relay learnt that", async () => {
    const { dls, port } = await relayBefore(wanServletDls(300), cleanups);
    const own = cookieOf(await post(port, startUp(A), { localAddress: '127.0.0.3' }));
    expect((await post(port, startUp(P), { localAddress: '127.0.0.1' })).body).toContain('ReadAllItems');
    const ending = post(port, readAllReply(), { localAddress: '127.0.0.3', headers: { Cookie: own } });
    await sleep(100);
    const hostile = await post(port, readAllReply(), { localAddress: '127.0.0.3', headers: { Cookie: own } });
    expect((await ending).body).toContain('CleanUp');
    expect({ leaked: hostile.body.includes(SECRET), status: hostile.status }).toEqual({ leaked: false, status: 403 });
    expect(dls.requests).toHaveLength(3);
  });
  it('a DLS that sets its session cookie only on its second answer: every phone still gets through, not only the first (helper-88)', async () => {
    // Start-up answered without a cookie, the ReadAllItems reply answered with one, then CleanUp.
    const late = (request: StandInRequest) => {
      const m = readPhone(request.body);
      const headers: [string, string][] = [['Content-Type', 'text/xml;charset=UTF-8']];
      if (m.reason === 'reply-to') headers.push(['Set-Cookie', `JSESSIONID=${randomBytes(8).toString('hex').toUpperCase()}; Path=/DeploymentService`]);
      return { status: 200, headers, body: dlsMessage(m.nonce ?? '', m.reason === 'reply-to' ? 'CleanUp' : 'ReadAllItems') };
    };
    const { port } = await relayBefore(late, cleanups);
    for (const [i, host] of ['127.0.0.1', '127.0.0.4', '127.0.0.5'].entries()) {
      const mac = `00:1A:E8:00:88:0${i}`;
      expect((await post(port, startUp(mac), { localAddress: host })).body).toContain('ReadAllItems');
      const reply = await post(port, readAllReply(), { localAddress: host });
      expect({ host, status: reply.status }).toEqual({ host, status: 200 });
      expect(reply.body).toContain('CleanUp');
    }
  });
});
