/**
 * helper-89: a report the relay passed because no other address had an interaction (open or on
 * its way) can still be at the DLS when another phone's first message arrives; a DLS that takes its
 * messages concurrently may open the phone's session first and then continue the report by
 * address. Real sockets on loopback.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { post } from '../support/https-client';
import { relayBefore } from '../support/relay-before';
import { rawWpi } from '../support/raw-wpi';
import { dlsMessage, field, readPhone, type StandInRequest } from '../support/stand-in-dls';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const P = '00:1A:E8:00:89:01';
const A = '00:1A:E8:00:89:0A';
const SECRET = 'h89-race-secret';
const { msg, startUp } = rawWpi('H89N');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A servlet-like DLS that takes messages concurrently: a report is read item by item before its
 * session is looked up (by MAC, then cookie, then the client address: the latest session there),
 * a first message opens its session at once. P has a WriteItems with a password queued.
 */
function concurrentServletDls(reportMs: number) {
  const sessions = new Map<string, { mac: string | null }>();
  let latest: { mac: string | null } | null = null;
  return async (request: StandInRequest) => {
    const m = readPhone(request.body);
    const mac = field(request.body, /<Item name="mac-addr">([^<]*)</);
    const headers: [string, string][] = [['Content-Type', 'text/xml;charset=UTF-8']];
    const answer = (action: string, items: { name: string; value: string }[] = []) => ({ status: 200, headers, body: dlsMessage(m.nonce ?? '', action, items) });
    if (m.reason === 'status' || m.reason === 'clean-up') {
      await sleep(reportMs);
      const s = [...sessions.values()].find((x) => x.mac === mac) ?? latest;
      return s?.mac === P ? answer('WriteItems', [{ name: 'sip-pwd', value: SECRET }]) : answer('CleanUp');
    }
    if (m.reason === 'reply-to') return answer('CleanUp');
    const id = randomBytes(16).toString('hex').toUpperCase();
    latest = { mac };
    sessions.set(id, latest);
    headers.push(['Set-Cookie', `JSESSIONID=${id}; Path=/DeploymentService; Secure`]);
    return answer('ReadAllItems');
  };
}


describe('relay: a report still at the DLS when another phone starts (helper-89)', () => {
  for (const [label, report] of [
    ['naming no MAC', () => msg('status', [])],
    ['naming a made-up MAC', () => msg('clean-up', [['mac-addr', '00:1A:E8:00:89:99'], ['cleanup-reason', 'x']])],
    ['naming the phone before it starts', () => msg('status', [['mac-addr', P]])],
  ] as const) {
    it(`a report ${label}, passed while no other address had an interaction, is not given the phone's WriteItems`, async () => {
      const { dls, port } = await relayBefore(concurrentServletDls(400), cleanups);
      const hostile = post(port, report(), { localAddress: '127.0.0.3' });
      await sleep(100);
      const phone = await post(port, startUp(P), { localAddress: '127.0.0.1' });
      expect(phone.body).toContain('ReadAllItems');
      const got = await hostile;
      expect({ leaked: got.body.includes(SECRET) }).toEqual({ leaked: false });
      // The start-up waited for the report's answer; both were relayed, the report first.
      expect(got.status).toBe(200);
      expect(got.body).toContain('CleanUp');
      expect(dls.requests.map((r) => readPhone(r.body).reason)).toEqual([readPhone(Buffer.from(report())).reason, 'start-up']);
    });
  }

  it("a host's report in its own session (its cookie as set, naming its own MAC) keeps no phone's start-up waiting", async () => {
    const { port } = await relayBefore(concurrentServletDls(600), cleanups);
    const begun = await post(port, startUp(A), { localAddress: '127.0.0.3' });
    const cookie = String((begun.headers['set-cookie'] as string[])[0]).split(';')[0]!;
    const report = post(port, msg('status', [['mac-addr', A]]), { localAddress: '127.0.0.3', headers: { Cookie: cookie } });
    await sleep(100);
    const at = Date.now();
    expect((await post(port, startUp(P), { localAddress: '127.0.0.1' })).body).toContain('ReadAllItems');
    expect(Date.now() - at).toBeLessThan(400);
    expect((await report).body).toContain('CleanUp');
  });

  it('a start-up waits only for the reports already at the DLS, not for a queue of them behind one another', async () => {
    const { dls, port } = await relayBefore(concurrentServletDls(300), cleanups);
    const begun = await post(port, startUp(A), { localAddress: '127.0.0.3' });
    const cookie = String((begun.headers['set-cookie'] as string[])[0]).split(';')[0]!;
    // Five reports of the host's own session, each naming another MAC: they go to the DLS one after another.
    const reports = Array.from({ length: 5 }, (_, i) => post(port, msg('status', [['mac-addr', `00:1A:E8:00:89:9${i}`]]), { localAddress: '127.0.0.3', headers: { Cookie: cookie } }));
    await sleep(100);
    const at = Date.now();
    expect((await post(port, startUp(P), { localAddress: '127.0.0.1' })).body).toContain('ReadAllItems');
    // It waited for the one at the DLS (about 200 ms more), not for all five (1.5 s).
    expect(Date.now() - at).toBeLessThan(700);
    for (const r of await Promise.all(reports)) expect(r.body).not.toContain(SECRET);
    expect(dls.requests.length).toBeGreaterThanOrEqual(3);
  });
});
