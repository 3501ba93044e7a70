/**
 * Relay mode over real sockets (loopback only): simulator phones → LocalDLS (serve with an
 * upstream) → a stand-in DLS that shares no code with LocalDLS's engine (test/support/stand-in-dls.ts).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { Service, type RelayConfig } from '../../src/main/app/service';
import { SimulatedPhone, createFleet, runPhones, type ExchangeResult } from '../../src/phone';
import { selfSignedCertificate } from '../phone/helpers';
import { dlsMessage, field, startStandInDls, startUpScript, STAND_IN_WRITE, type StandInDls, type StandInScript } from '../support/stand-in-dls';
import { exchangeRecord } from '../support/records';
import { runCli } from '../support/cli';
import { withRawDb } from '../support/raw-db';
import { FIRST_READ } from '../../src/main/store';
import { caSignedServer } from './ca';
import { freePortOtherThan } from '../support/ports';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function relayTo(upstream: StandInDls | string, relay: Partial<RelayConfig> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'localdls-relay-'));
  const url = typeof upstream === 'string' ? upstream : upstream.url;
  const fingerprints = typeof upstream === 'string' ? [] : [upstream.fingerprint];
  const service = new Service({ dataDir: dir, host: '127.0.0.1', port: 0, securePort: 0, upstream: { url, fingerprints, ...relay }, store: { integrityCheck: false } });
  const info = await service.start();
  cleanups.push(async () => {
    await service.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return { service, info, url: `https://127.0.0.1:${info.port}` };
}

async function standIn(script?: StandInScript) {
  const dls = await startStandInDls(script ? { script } : {});
  cleanups.push(() => dls.close());
  return dls;
}

/** A phone as the simulator plays it, with what it sent and received kept byte for byte. */
function phone(server: string, mac: string, options: { maxItems?: number } = {}) {
  const seen: { sent: string; answer: ExchangeResult }[] = [];
  const p = new SimulatedPhone({ server, mac, maxItems: options.maxItems ?? 40, contactMe: false, onExchange: (sent, answer) => seen.push({ sent, answer }) });
  return { phone: p, seen };
}

/** One raw HTTPS request, as a phone (or something pretending to be one) sends it. */
function post(url: string, body: Buffer | string, headers: [string, string][] = [['Content-Type', 'text/xml']], path = '/DeploymentService/LoginService') {
  return new Promise<{ status: number; statusText: string; rawHeaders: string[]; body: Buffer }>((resolve, reject) => {
    const data = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    const req = https.request(`${url}${path}`, { method: 'POST', rejectUnauthorized: false, agent: false, headers: [...headers, ['Content-Length', String(data.length)]].flat() as unknown as Record<string, string> }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', rawHeaders: res.rawHeaders, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

const START_UP = (mac: string, extra = '') =>
  `<?xml version="1.0" encoding="utf-8"?>\n<WorkpointMessage xmlns="http://www.siemens.com/DLS"><Message nonce="N0NCE1" maxItems="-1"><ReasonForContact>start-up</ReasonForContact><ItemList><Item name="mac-addr">${mac}</Item><Item name="device-type">OpenStage 60</Item>${extra}</ItemList></Message></WorkpointMessage>`;

/** The header lines of a raw HTTP message, as pairs (the start line and the body left out). */
const wireHeaders = (raw: string): [string, string][] =>
  raw.slice(0, raw.indexOf('\r\n\r\n')).split('\r\n').slice(1).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()] as [string, string]);
const pairsOf = (raw: string[]) => Array.from({ length: raw.length / 2 }, (_, i) => [raw[2 * i], raw[2 * i + 1]] as [string, string]);
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'host']);
const endToEnd = (h: [string, string][]) => h.filter(([n]) => !HOP.has(n.toLowerCase()));

describe('relay: a simulator phone through LocalDLS to a stand-in DLS', () => {
  it('start-up, fragmented ReadAllItems and a WriteItems pass byte for byte both ways, and are recorded with WPI understanding', async () => {
    const dls = await standIn();
    const { service, url } = await relayTo(dls);
    const mac = '00:1A:E8:00:10:01';
    const { phone: p, seen } = phone(url, mac, { maxItems: 40 });
    const result = await p.runInteraction('start-up');
    expect(result.error).toBeUndefined();
    expect(result.ok).toBe(true);
    const fragments = result.actions.filter((a) => a === 'GetNextFragment').length;
    expect(fragments).toBeGreaterThan(1);
    expect(result.actions).toEqual(['ReadAllItems', ...Array(fragments).fill('GetNextFragment'), 'WriteItems', 'CleanUp']);
    // The phone accepted the stand-in's write: it reached the phone unchanged.
    expect([...p.config.items.values()].find((i) => i.name === 'display-id')?.value).toBe(STAND_IN_WRITE[0]!.value);

    expect(dls.requests).toHaveLength(seen.length);
    seen.forEach(({ sent, answer }, i) => {
      const upstream = dls.requests[i]!;
      // Phone → DLS: the body as the phone sent it, every end-to-end header in order and case.
      expect(upstream.body.equals(Buffer.from(sent, 'utf8'))).toBe(true);
      expect(upstream.url).toBe('/DeploymentService/LoginService');
      // DLS → phone: status, body and headers (both cookies) unchanged.
      expect(answer.status).toBe(upstream.answer!.status);
      expect(Buffer.from(answer.body, 'utf8').equals(upstream.answer!.body)).toBe(true);
      expect(answer.headers['x-stand-in']).toBe('yes');
      expect(answer.headers['content-type']).toBe('text/xml;charset=UTF-8');
    });
    // The cookies the stand-in set on the first answer came back with the phone's next message.
    const setCookies = dls.requests[0]!.answer!.headers.filter(([n]) => n === 'Set-Cookie').map(([, v]) => v);
    expect(seen[0]!.answer.headers['set-cookie']).toEqual(setCookies);
    const cookie = dls.requests[1]!.headers.find(([n]) => n.toLowerCase() === 'cookie')?.[1];
    expect(cookie).toContain(setCookies[0]!.split(';')[0]);

    // Recorded: every exchange, parsed, in one interaction; the upstream's side apart.
    const rows = service.store.exchanges({ newestFirst: false, limit: 100 });
    expect(rows).toHaveLength(seen.length);
    expect(rows.map((r) => r.action)).toEqual(result.actions);
    expect(rows[0]).toMatchObject({ kind: 'wpi', reason: 'start-up', mac, httpStatus: 200, listener: 'default', error: null, warning: null });
    expect(rows.filter((r) => r.fragment === 'next')).toHaveLength(fragments);
    expect(new Set(rows.map((r) => r.interactionId)).size).toBe(1);
    const interaction = service.store.interaction(rows[0]!.interactionId!)!;
    expect(interaction).toMatchObject({ mac, reason: 'start-up', endReason: 'CleanUp' });
    expect(interaction.ended).not.toBeNull();
    for (const [i, row] of rows.entries()) {
      const full = service.store.exchange(row.id)!;
      expect(Buffer.from(full.requestBody).equals(dls.requests[i]!.body)).toBe(true);
      expect(Buffer.from(full.responseBody).equals(dls.requests[i]!.answer!.body)).toBe(true);
      expect(endToEnd(full.responseHeaders)).toEqual(endToEnd(dls.requests[i]!.answer!.headers));
      // What reached the upstream is what the phone sent, minus the connection's own headers, and
      // with the relay's Via (RFC 9110 §7.6.3), a pseudonym that names no host.
      expect(endToEnd(dls.requests[i]!.headers)).toEqual([...endToEnd(full.requestHeaders), ['Via', `1.1 ${service.relay!.upstream.viaName}`]]);
      expect(service.relay!.upstream.viaName).toMatch(/^localdls-[0-9a-f]{12}$/);
      const up = service.store.relay.of(row.id)!;
      expect(up).toMatchObject({ url: dls.url, httpStatus: 200, trustedBy: 'fingerprint', fingerprint: dls.fingerprint, failure: null, error: null });
      expect(up.tlsProtocol).toMatch(/^TLSv1\.[23]$/);
      expect(up.ended).toBeGreaterThanOrEqual(up.started);
      // The Upstream tab's headers: the request's as the DLS received them (its Host, not the
      // phone's), the answer's as it sent them, with the connection's own headers.
      expect(up.requestHeaders).toEqual(dls.requests[i]!.headers);
      expect(up.requestHeaders).toContainEqual(['Host', new URL(dls.url).host]);
      const answered = dls.requests[i]!.answer!;
      expect(up.responseHeaders).toEqual([...answered.headers, ['Content-Length', String(answered.body.length)], ['Connection', 'keep-alive'], ['Keep-Alive', 'timeout=10']]);
    }
    // Keep-alive to the upstream: fewer TLS connections than requests.
    expect(dls.connections).toBeLessThan(dls.requests.length);

    // Inventory learnt read-only: the device, the items it reported and the one the DLS wrote.
    const device = service.store.device(mac)!;
    expect(device).toMatchObject({ mac, deviceType: p.config.identity.deviceType, state: 'idle' });
    const items = new Map(service.store.items(mac).map((i) => [i.name, i.value]));
    expect(items.get('display-id')).toBe(STAND_IN_WRITE[0]!.value);
    expect(items.get('dls-contact-interval')).toBe('120');
    expect(items.size).toBeGreaterThan(20);
    // Every item the phone reported, as the DLS keeps them: mac-addr, and those it cannot provide with their status.
    const reported = new Set([...p.config.items.values()].map((i) => i.name));
    expect([...reported].filter((name) => !items.has(name))).toEqual([]);
    expect(items.get('mac-addr')).toBe(mac);
    expect(service.store.jobs.list({})).toHaveLength(0);
  });

  it('relays a request that is not WPI, and an answer that is not XML, byte for byte; both recorded raw with a warning', async () => {
    const odd = Buffer.from([0x3c, 0x78, 0xff, 0xfe, 0x00, 0x0d, 0x0a, 0x41]);
    const dls = await standIn(() => ({ status: 299, statusText: 'Odd But Fine', headers: [['x-lower', 'a'], ['X-Twice', '1'], ['X-Twice', '2'], ['Set-Cookie', 'A=1'], ['Set-Cookie', 'B=2; Path=/']], body: odd }));
    const { service, url } = await relayTo(dls);
    const sentHeaders: [string, string][] = [['content-TYPE', 'text/xml'], ['Cookie', 'JSESSIONID=X; path=/DeploymentService; secure'], ['X-Phone', 'één']];
    const answer = await post(url, odd, sentHeaders, '/DeploymentService/LoginService?x=1');
    expect(answer.status).toBe(299);
    expect(answer.statusText).toBe('Odd But Fine');
    expect(answer.body.equals(odd)).toBe(true);
    expect(endToEnd(pairsOf(answer.rawHeaders))).toEqual([['x-lower', 'a'], ['X-Twice', '1'], ['X-Twice', '2'], ['Set-Cookie', 'A=1'], ['Set-Cookie', 'B=2; Path=/']]);
    const got = dls.requests[0]!;
    expect(got.body.equals(odd)).toBe(true);
    expect(got.url).toBe('/DeploymentService/LoginService?x=1');
    expect(endToEnd(got.headers)).toEqual([...sentHeaders, ['Via', `1.1 ${service.relay!.upstream.viaName}`]]);
    const [row] = service.store.exchanges({});
    expect(row).toMatchObject({ httpStatus: 299, reason: null, error: null });
    expect(row!.warning).toMatch(/phone's message is not WPI.*relayed as it was/);
    expect(Buffer.from(service.store.exchange(row!.id)!.responseBody).equals(odd)).toBe(true);
  });

  it("an upstream answer a phone cannot read: the phone's clean-up (manual p.13) reaches the DLS in the same session, and both are recorded", async () => {
    const nonce = (body: Buffer) => field(body, /nonce="([^"]*)"/) ?? '';
    const dls = await standIn((r, i) =>
      i === 0
        ? { status: 200, headers: [['Content-Type', 'text/xml'], ['Set-Cookie', 'DLSSESSION=S1; Path=/']], body: Buffer.from(`<DLSMessage><Message nonce="${nonce(r.body)}"><Action>ReadAllItems</Action>`) }
        : { status: 200, headers: [['Content-Type', 'text/xml']], body: dlsMessage(nonce(r.body), 'CleanUp') },
    );
    const { service, url } = await relayTo(dls);
    const mac = '00:1A:E8:00:10:07';
    const result = await phone(url, mac).phone.runInteraction('start-up');
    expect(result).toMatchObject({ ok: false, exchanges: 2, cleanUpSent: 'invalid XML received', actions: ['CleanUp'] });
    expect(dls.requests).toHaveLength(2);
    const cleanUp = dls.requests[1]!;
    expect(field(cleanUp.body, /<ReasonForContact>([^<]*)</)).toBe('clean-up');
    expect(cleanUp.body.toString()).toContain('<Item name="cleanup-reason">invalid XML received</Item>');
    expect(cleanUp.headers.find(([n]) => n.toLowerCase() === 'cookie')?.[1]).toContain('DLSSESSION=S1');
    const rows = service.store.exchanges({}).sort((a, b) => a.id - b.id);
    expect(rows.map((r) => [r.reason, r.mac])).toEqual([['start-up', mac], ['clean-up', mac]]);
    expect(rows[0]!.warning).toMatch(/the upstream's answer is not a DLSMessage as LocalDLS reads it \(not well-formed XML.*relayed as it was/);
  });

  it('gives a phone a chunked upstream answer with Content-Length (old firmware cannot read chunked), the body unchanged', async () => {
    const body = dlsMessage('N0NCE1', 'CleanUp');
    const dls = await standIn(() => ({ status: 200, headers: [['Content-Type', 'text/xml']], body, chunked: true }));
    const { url } = await relayTo(dls);
    const answer = await post(url, START_UP('00:1A:E8:00:10:0A'));
    const headers = pairsOf(answer.rawHeaders).map(([n, v]) => [n.toLowerCase(), v]);
    expect(headers).toContainEqual(['content-length', String(body.length)]);
    expect(headers.some(([n]) => n === 'transfer-encoding')).toBe(false);
    expect(answer.body.equals(body)).toBe(true);
  });

  it('passes an upstream error status on unchanged and marks the exchange as an error', async () => {
    const dls = await standIn(() => ({ status: 500, headers: [['Content-Type', 'text/html']], body: Buffer.from('<h1>DLS broke</h1>') }));
    const { service, url } = await relayTo(dls);
    const answer = await post(url, START_UP('00:1A:E8:00:10:09'));
    expect(answer.status).toBe(500);
    expect(answer.body.toString()).toBe('<h1>DLS broke</h1>');
    const [row] = service.store.exchanges({});
    expect(row).toMatchObject({ httpStatus: 500, reason: 'start-up', error: 'the upstream answered HTTP 500 Internal Server Error' });
  });

  it('stores the secrets LocalDLS never stores masked, while the upstream gets them as sent', async () => {
    const dls = await standIn();
    const { service, url } = await relayTo(dls);
    const secret = 'TAN-4711-SECRET';
    await post(url, START_UP('00:1A:E8:00:10:02', `<Item name="bootstrapping-tan">${secret}</Item>`));
    expect(dls.requests[0]!.body.toString()).toContain(secret);
    const [row] = service.store.exchanges({});
    expect(Buffer.from(service.store.exchange(row!.id)!.requestBody).toString()).not.toContain(secret);
    expect(service.store.items('00:1A:E8:00:10:02').find((i) => i.name === 'bootstrapping-tan')?.value).not.toBe(secret);
  });

  it('credentials in Authorization headers: the upstream gets them as sent; the store, the view and the exports never hold them', async () => {
    const dls = await standIn();
    const { service, url } = await relayTo(dls);
    const basic = Buffer.from('dlsadmin:Auth-7V3-basic').toString('base64');
    await post(url, START_UP('00:1A:E8:00:10:03'), [['Content-Type', 'text/xml'], ['Authorization', `Basic ${basic}`], ['Proxy-Authorization', 'Bearer Auth-5P1-bearer']]);
    const sent = dls.requests[0]!.headers;
    expect(sent).toContainEqual(['Authorization', `Basic ${basic}`]);
    const [row] = service.store.exchanges({});
    expect(service.store.exchange(row!.id)!.requestHeaders).toContainEqual(['Authorization', 'Basic ••••••']);
    const dir = service.store.dataDir;
    const raw = withRawDb(dir, (db) => (db.prepare('SELECT request_headers AS h FROM exchanges').all() as { h: string }[]).map((r) => r.h).join('\n'));
    expect(raw).toContain('Basic ••••••');
    for (const needle of [basic, 'Auth-5P1-bearer']) expect(raw).not.toContain(needle);
    for (const format of ['har', 'json']) {
      const file = join(dir, `export.${format}`);
      const out = await runCli(['traffic', 'export', '--data-dir', dir, '--format', format, '--output', file]);
      expect(out.code, out.stderr).toBe(0);
      const text = readFileSync(file, 'utf8');
      expect(text).toContain('Bearer ••••••');
      for (const needle of [basic, 'Auth-5P1-bearer']) expect(text, format).not.toContain(needle);
    }
  });

  it('does not let a message that claims another MAC in a running interaction change that device', async () => {
    const dls = await standIn();
    const { service, url } = await relayTo(dls);
    const first = await post(url, START_UP('00:1A:E8:00:10:03'));
    const cookie = pairsOf(first.rawHeaders).find(([n]) => n === 'Set-Cookie')![1];
    const forged = `<WorkpointMessage><Message nonce="N2" fragment="final"><ReasonForContact action="ReadAllItems" status="accepted">reply-to</ReasonForContact><ItemList><Item name="mac-addr">00:1A:E8:00:10:04</Item><Item name="display-id">forged</Item></ItemList></Message></WorkpointMessage>`;
    const answer = await post(url, forged, [['Content-Type', 'text/xml'], ['Cookie', cookie]]);
    expect(answer.status).toBe(200);
    const [row] = service.store.exchanges({});
    expect(row!.warning).toMatch(/names mac-addr 00:1A:E8:00:10:04, but its interaction belongs to 00:1A:E8:00:10:03/);
    expect(service.store.device('00:1A:E8:00:10:04')).toBeUndefined();
    // Listed under the interaction's phone, whose inventory the forged items did not reach.
    expect(row!.mac).toBe('00:1A:E8:00:10:03');
    expect(service.store.items('00:1A:E8:00:10:03').find((i) => i.name === 'display-id')).toBeUndefined();
  });
});

describe('relay: the inventory as the DLS keeps it (helper-82)', () => {
  const reply = (nonce: string, items: string, fragment = '') =>
    `<WorkpointMessage xmlns="http://www.siemens.com/DLS"><Message nonce="${nonce}"${fragment}><ReasonForContact action="ReadAllItems" status="accepted">reply-to</ReasonForContact><ItemList>${items}</ItemList></Message></WorkpointMessage>`;

  it('a ReadAllItems reply, in fragments too, replaces what the phone reported before: an item it dropped goes, and a first read is one history row', async () => {
    const dls = await standIn();
    const { service, url } = await relayTo(dls);
    const mac = '00:1A:E8:00:10:31';
    const first = await post(url, START_UP(mac, '<Item name="sntp-addr">dropped.example</Item><Item name="display-id">at start-up</Item>'));
    const cookie = pairsOf(first.rawHeaders).filter(([n]) => n === 'Set-Cookie').map(([, v]) => v.split(';')[0]).join('; ');
    const headers: [string, string][] = [['Content-Type', 'text/xml'], ['Cookie', cookie]];
    const part1 = await post(url, reply('N2', `<Item name="mac-addr">${mac}</Item><Item name="device-type">OpenStage 60</Item>`, ' fragment="next"'), headers);
    expect(part1.body.toString()).toContain('GetNextFragment');
    // Not taken before its last part (the service takes the whole).
    expect(service.store.items(mac).find((i) => i.name === 'sntp-addr')?.value).toBe('dropped.example');
    const part2 = await post(url, reply('N2', '<Item name="display-id">read</Item><Item name="e164">4989722301</Item>'), headers);
    expect(part2.body.toString()).toContain('WriteItems');
    const items = new Map(service.store.items(mac).map((i) => [i.name, i.value]));
    expect([...items.keys()].sort()).toEqual(['device-type', 'display-id', 'e164', 'mac-addr']);
    expect(items.get('display-id')).toBe('read');
    // The read is one FIRST_READ row and the changes to what start-up said (display-id; sntp-addr gone), not a row per item.
    const read = service.store.inspector.itemChangesOf(mac, 100).filter((c) => c.exchangeId === service.store.exchanges({})[0]!.id);
    expect(read.map((c) => [c.name, c.newValue]).sort()).toEqual([[FIRST_READ, '1'], ['display-id', 'read'], ['sntp-addr', null]]);
  });

  it('a message the DLS refused changes no device: a reply-to of no interaction naming another phone (helper-82: it was written into that phone\'s inventory)', async () => {
    // The start-up's interaction ends at once (CleanUp): the reply-to after it continues none, and the DLS refuses it.
    const dls = await standIn((r) => (/reply-to/.test(r.body.toString())
      ? { status: 403, headers: [['Content-Type', 'text/plain']], body: Buffer.from('reply-to continues no live interaction') }
      : { status: 200, headers: [['Content-Type', 'text/xml']], body: dlsMessage(field(r.body, /nonce="([^"]*)"/) ?? '', 'CleanUp') }));
    const { service, url } = await relayTo(dls);
    const mac = '00:1A:E8:00:10:32';
    await post(url, START_UP(mac, '<Item name="display-id">its own</Item>'));
    const answer = await post(url, reply('N9', `<Item name="mac-addr">${mac}</Item><Item name="display-id">forged</Item>`));
    expect(answer.status).toBe(403);
    expect(service.store.items(mac).find((i) => i.name === 'display-id')?.value).toBe('its own');
  });
});

describe('relay: an upstream that fails', () => {
  it('unreachable: the phone gets 502 with the reason, the exchange is recorded', async () => {
    const gone = await startStandInDls();
    // An address nothing here listens on: the port of a closed server on 127.0.0.1 could be taken
    // again meanwhile, by the relay itself or a test beside this one (seen once under load).
    const url = gone.url.replace('127.0.0.1', '127.0.0.254');
    await gone.close();
    const { service, url: relay } = await relayTo(url, { fingerprints: [gone.fingerprint] });
    // A device the relay learnt before: a failed attempt naming it is no contact of it.
    service.store.commit(exchangeRecord({ mac: '00:1A:E8:00:10:15', peerAddress: '127.0.0.9' }), { device: { mac: '00:1A:E8:00:10:15', lastAddress: '127.0.0.9' } }, null);
    const known = service.store.device('00:1A:E8:00:10:15')!;
    const answer = await post(relay, START_UP('00:1A:E8:00:10:05'));
    expect(answer.status).toBe(502);
    expect(answer.body.toString()).toMatch(/upstream https:\/\/127\.0\.0\.254:\d+ is unreachable: ECONNREFUSED/);
    const [row] = service.store.exchanges({});
    // In the phone's own traffic (it named its MAC), said to be unconfirmed; no device is learnt from a failure.
    expect(row).toMatchObject({ httpStatus: 502, reason: 'start-up', mac: '00:1A:E8:00:10:05', warning: expect.stringContaining('the MAC is the one the message names, unconfirmed') });
    expect(service.store.exchanges({ mac: '00:1A:E8:00:10:05' }).map((x) => x.id)).toEqual([row!.id]);
    expect(service.store.device('00:1A:E8:00:10:05')).toBeUndefined();
    expect((await post(relay, START_UP('00:1A:E8:00:10:15'))).status).toBe(502);
    expect(service.store.device('00:1A:E8:00:10:15')).toEqual(known);
    expect(row!.error).toMatch(/unreachable/);
    expect(service.store.relay.of(row!.id)).toMatchObject({ failure: 'unreachable', httpStatus: null, requestHeaders: null, responseHeaders: null });
  });

  it('slow: the phone gets 504 once the configured timeout passes, with the reason', async () => {
    const dls = await standIn(() => 'hang');
    const { service, url } = await relayTo(dls, { timeoutMs: 300 });
    const answer = await post(url, START_UP('00:1A:E8:00:10:06'));
    expect(answer.status).toBe(504);
    expect(answer.body.toString()).toMatch(/did not answer within 300 ms/);
    const [row] = service.store.exchanges({});
    expect(row!.error).toMatch(/did not answer within 300 ms/);
    // The request went out (the stand-in has it); no answer came.
    expect(service.store.relay.of(row!.id)).toMatchObject({ failure: 'timeout', httpStatus: null, requestHeaders: dls.requests[0]!.headers, responseHeaders: null });
  });

  it('while one phone waits for a hanging upstream, other phones are served', async () => {
    const SLOW = '00:1A:E8:00:10:16';
    const dls = await standIn((r, i) => (r.body.toString().includes(SLOW) ? 'hang' : startUpScript(r, i)));
    const { service, url } = await relayTo(dls, { timeoutMs: 120_000 });
    let slowAnswered = false;
    const slow = post(url, START_UP(SLOW)).finally(() => (slowAnswered = true));
    await waitFor(() => dls.requests.some((r) => r.body.toString().includes(SLOW)));
    const fast = await phone(url, '00:1A:E8:00:10:07').phone.runInteraction('start-up');
    expect(fast.ok).toBe(true);
    expect(slowAnswered).toBe(false);
    expect(service.store.exchanges({ mac: '00:1A:E8:00:10:07' })).toHaveLength(fast.exchanges);
    await service.stop();
    await expect(slow).rejects.toThrow();
  });

  it('a connection the upstream drops mid-answer: 502, and the next phone is served', async () => {
    const dls = await standIn((r, i) => (i === 0 ? 'drop' : startUpScript(r, i)));
    const { url } = await relayTo(dls);
    const first = await post(url, START_UP('00:1A:E8:00:10:08'));
    expect(first.status).toBe(502);
    const second = await post(url, START_UP('00:1A:E8:00:10:08'));
    expect(second.status).toBe(200);
  });
});

/** An upstream that answers every request with the bytes given, raw (what Node's own server would not write); what it received is kept. */
async function rawUpstream(answer: string) {
  const identity = selfSignedCertificate('raw-upstream');
  const received: string[] = [];
  const server = tls.createServer(identity, (socket) => {
    let got = '';
    socket.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      const end = got.indexOf('\r\n\r\n');
      const length = Number(/content-length:\s*(\d+)/i.exec(got)?.[1] ?? 0);
      if (end >= 0 && got.length >= end + 4 + length) {
        received.push(got);
        socket.end(answer, 'latin1');
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as { port: number };
  const fingerprint = new (await import('node:crypto')).X509Certificate(identity.cert).fingerprint256;
  return { url: `https://127.0.0.1:${port}`, fingerprint, received };
}

describe('relay: upstream answers that cannot be passed on as they came', () => {
  const body = '<DLSMessage/>';
  for (const [what, statusLine] of [['status 000', 'HTTP/1.1 000 OK'], ['a control character in the status line', 'HTTP/1.1 200 OK\x01bad']] as const) {
    it(`${what}: the phone gets 502 with the reason, and the record says so (not answered)`, async () => {
      const up = await rawUpstream(`${statusLine}\r\nContent-Type: text/xml\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      const { service, url } = await relayTo(up.url, { fingerprints: [up.fingerprint] });
      const answer = await post(url, START_UP('00:1A:E8:00:10:21'));
      expect(answer.status).toBe(502);
      expect(answer.body.toString()).toMatch(/answer cannot be passed on: its (status 0 is not a final HTTP status|status line holds a control character)/);
      expect(up.received).toHaveLength(1);
      const [row] = service.store.exchanges({});
      expect(row).toMatchObject({ httpStatus: 502 });
      expect(service.store.relay.of(row!.id)).toMatchObject({ failure: 'protocol', requestHeaders: wireHeaders(up.received[0]!) });
      // What the upstream answered is shown, not "no answer" (helper-84): it is why the phone got 502.
      expect(service.store.relay.of(row!.id)!.responseHeaders).toEqual([['Content-Type', 'text/xml'], ['Content-Length', String(body.length)]]);
    });
  }

  it('malformed HTTP from the upstream (two Content-Lengths) is a protocol failure, not "unreachable"', async () => {
    const up = await rawUpstream(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nContent-Length: 3\r\n\r\n${body}`);
    const { service, url } = await relayTo(up.url, { fingerprints: [up.fingerprint] });
    const answer = await post(url, START_UP('00:1A:E8:00:10:22'));
    expect(answer.status).toBe(502);
    expect(answer.body.toString()).toMatch(/answered with malformed HTTP: HPE_/);
    expect(service.store.relay.of(service.store.exchanges({})[0]!.id)).toMatchObject({ failure: 'protocol' });
  });

  it('a 101 with Upgrade: 502 at once as a protocol failure, not a wait for the timeout', async () => {
    const up = await rawUpstream('HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n');
    const { service, url } = await relayTo(up.url, { fingerprints: [up.fingerprint], timeoutMs: 3_000 });
    const answer = await post(url, START_UP('00:1A:E8:00:10:24'));
    expect(answer.status).toBe(502);
    expect(answer.body.toString()).toMatch(/answered 101 \(switching protocols\): a WPI answer cannot be passed on/);
    expect(service.store.relay.of(service.store.exchanges({})[0]!.id)).toMatchObject({ failure: 'protocol' });
  });

  it('headers a Connection header names are hop-by-hop too: not passed on, either way', async () => {
    const up = await rawUpstream(`HTTP/1.1 200 OK\r\nConnection: X-Up-Hop, keep-alive\r\nX-Up-Hop: upstream-secret\r\nX-Kept: yes\r\nContent-Type: text/xml\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    const { url } = await relayTo(up.url, { fingerprints: [up.fingerprint] });
    const answer = await post(url, START_UP('00:1A:E8:00:10:23'), [['Content-Type', 'text/xml'], ['Connection', 'x-hidden'], ['X-Hidden', 'phone-secret'], ['X-Visible', 'fine']]);
    expect(answer.status).toBe(200);
    expect(up.received[0]).not.toMatch(/x-hidden|phone-secret/i);
    expect(up.received[0]).toContain('X-Visible: fine');
    const names = pairsOf(answer.rawHeaders).map(([n]) => n!.toLowerCase());
    expect(names).toContain('x-kept');
    expect(names).not.toContain('x-up-hop');
  });

  it('headers a DLS may take for the client address (X-Forwarded-For, Forwarded, X-Real-IP) do not reach it; the phone\'s own request keeps them (helper-86)', async () => {
    const up = await rawUpstream(`HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    const { service, url } = await relayTo(up.url, { fingerprints: [up.fingerprint] });
    const spoof: [string, string][] = [['X-Forwarded-For', '10.9.9.9'], ['forwarded', 'for=10.9.9.9'], ['X-Real-IP', '10.9.9.9'], ['True-Client-IP', '10.9.9.9']];
    const answer = await post(url, START_UP('00:1A:E8:00:10:26'), [['Content-Type', 'text/xml'], ...spoof, ['X-Visible', 'fine']]);
    expect(answer.status).toBe(200);
    expect(up.received[0]).not.toContain('10.9.9.9');
    expect(up.received[0]).toContain('X-Visible: fine');
    const [row] = service.store.exchanges({});
    expect(service.store.relay.of(row!.id)!.requestHeaders!.some(([, v]) => v.includes('10.9.9.9'))).toBe(false);
    for (const pair of spoof) expect(service.store.exchange(row!.id)!.requestHeaders).toContainEqual(pair);
  });

  it('the Upstream tab has the headers as they went over the wire: the request as written to the upstream, its answer as received, hop-by-hop ones included', async () => {
    const raw = `HTTP/1.1 200 OK\r\nConnection: X-Up-Hop, keep-alive\r\nX-Up-Hop: upstream-only\r\ncontent-TYPE: text/xml\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    const up = await rawUpstream(raw);
    const { service, url } = await relayTo(up.url, { fingerprints: [up.fingerprint] });
    const basic = Buffer.from('dlsadmin:Wire-9Q2-basic').toString('base64');
    const answer = await post(url, START_UP('00:1A:E8:00:10:25'), [['Content-Type', 'text/xml'], ['Host', 'phone-wrote-this:18443'], ['Authorization', `Basic ${basic}`], ['X-Visible', 'fine']]);
    expect(answer.status).toBe(200);
    const [row] = service.store.exchanges({});
    const view = service.store.relay.of(row!.id)!;
    // Byte for byte what the upstream read, but the credential masked; the phone's Host replaced by the upstream's.
    expect(up.received[0]).toContain(`Authorization: Basic ${basic}`);
    expect(view.requestHeaders).toEqual(wireHeaders(up.received[0]!).map(([n, v]) => (n === 'Authorization' ? [n, 'Basic ••••••'] : [n, v])));
    expect(view.requestHeaders).toContainEqual(['Host', new URL(up.url).host]);
    expect(view.requestHeaders!.some(([, v]) => v.includes('phone-wrote-this'))).toBe(false);
    expect(view.responseHeaders).toEqual(wireHeaders(raw));
    // The phone's side keeps its own: the exchange's headers are not the upstream's.
    expect(service.store.exchange(row!.id)!.requestHeaders).toContainEqual(['Host', 'phone-wrote-this:18443']);
    // The credential is not in the file either.
    const stored = withRawDb(service.store.dataDir, (db) => JSON.stringify(db.prepare('SELECT request_headers, response_headers FROM upstream_exchanges').all()));
    expect(stored).toContain('Basic ••••••');
    expect(stored).not.toContain(basic);
  });
});

describe('relay: the upstream certificate', () => {
  it('unknown: refused before any byte of the request reaches it, with the fingerprint to accept', async () => {
    const dls = await standIn();
    const { service, url } = await relayTo(dls.url, { fingerprints: [] });
    const answer = await post(url, START_UP('00:1A:E8:00:10:11'));
    expect(answer.status).toBe(502);
    expect(answer.body.toString()).toContain(`--upstream-fingerprint ${dls.fingerprint}`);
    expect(dls.requests).toHaveLength(0);
    const [row] = service.store.exchanges({});
    expect(service.store.relay.of(row!.id)).toMatchObject({ failure: 'certificate', fingerprint: dls.fingerprint, trustedBy: null, requestHeaders: null, responseHeaders: null });
  });

  it('a fingerprint given in another spelling (lower case, no colons) is accepted', async () => {
    const dls = await standIn();
    const { url } = await relayTo(dls.url, { fingerprints: [dls.fingerprint.replace(/:/g, '').toLowerCase()] });
    expect((await post(url, START_UP('00:1A:E8:00:10:12'))).status).toBe(200);
  });

  it('signed by the CA given: accepted; by another CA: refused with the fingerprint', async () => {
    const { ca, server, otherCa } = caSignedServer('127.0.0.1');
    const dls = await startStandInDls({ tls: server });
    cleanups.push(() => dls.close());
    const good = await relayTo(dls.url, { fingerprints: [], ca: { pem: ca, file: 'ca.pem' } });
    expect((await post(good.url, START_UP('00:1A:E8:00:10:13'))).status).toBe(200);
    const [row] = good.service.store.exchanges({});
    expect(good.service.store.relay.of(row!.id)).toMatchObject({ trustedBy: 'ca' });
    const bad = await relayTo(dls.url, { fingerprints: [], ca: { pem: otherCa, file: 'other.pem' } });
    const refused = await post(bad.url, START_UP('00:1A:E8:00:10:13'));
    expect(refused.status).toBe(502);
    expect(refused.body.toString()).toMatch(/not valid for the CA given with --upstream-ca: .*If this is your DLS, give the CA that signed it with --upstream-ca FILE, or accept this certificate with --upstream-fingerprint [0-9A-F:]{95}\s*$/);
  });

  it('not the fingerprint accepted (a renewed certificate): says so, naming both', async () => {
    const dls = await standIn();
    const old = 'AA:'.repeat(31) + 'AA';
    const { url } = await relayTo(dls.url, { fingerprints: [old] });
    const refused = await post(url, START_UP('00:1A:E8:00:10:15'));
    expect(refused.status).toBe(502);
    expect(refused.body.toString()).toContain(`its certificate (CN=stand-in-dls, ${dls.fingerprint}) is not the one accepted (${old}): the DLS's certificate may have been renewed. If this is your DLS, accept this certificate with --upstream-fingerprint ${dls.fingerprint} (given beside the old one, both are accepted)`);
    expect(dls.requests).toHaveLength(0);
  });

  it('signed by the CA given but for another address: refused (the host name is checked)', async () => {
    const { ca, server } = caSignedServer('127.0.0.9');
    const dls = await startStandInDls({ tls: server });
    cleanups.push(() => dls.close());
    const { url } = await relayTo(dls.url, { fingerprints: [], ca: { pem: ca, file: 'ca.pem' } });
    const refused = await post(url, START_UP('00:1A:E8:00:10:14'));
    expect(refused.status).toBe(502);
    // Not "not valid for the CA given … or give its CA": the CA is right, the name is not (helper-81).
    expect(refused.body.toString()).toMatch(/its certificate \(CN=dls\.site\.example\) is signed by the CA given with --upstream-ca, but is not for 127\.0\.0\.1 \(it names IP Address:127\.0\.0\.9\)\. If this is your DLS, give the upstream by a name or address its certificate holds, or accept this certificate with --upstream-fingerprint [0-9A-F:]{95}\s*$/);
    expect(dls.requests).toHaveLength(0);
  });

  it('signed by the CA given but expired: says so, not "give the CA that signed it" (helper-82)', async () => {
    const { ca, otherCa, server } = caSignedServer('127.0.0.1', { from: Date.now() - 10 * 86400_000, to: Date.now() - 86400_000 });
    const dls = await startStandInDls({ tls: server });
    cleanups.push(() => dls.close());
    const { url } = await relayTo(dls.url, { fingerprints: [], ca: { pem: ca, file: 'ca.pem' } });
    const refused = await post(url, START_UP('00:1A:E8:00:10:16'));
    expect(refused.status).toBe(502);
    expect(refused.body.toString()).toMatch(/its certificate \(CN=dls\.site\.example\) has expired \(valid until .+\), by this machine's clock\. If this is your DLS, check this machine's date and renew the certificate on the DLS, or accept this certificate with --upstream-fingerprint [0-9A-F:]{95}\s*$/);
    // Expired and signed by another CA: OpenSSL says CERT_HAS_EXPIRED all the same; the CA is what is wrong.
    const other = await relayTo(dls.url, { fingerprints: [], ca: { pem: otherCa, file: 'other.pem' } });
    expect((await post(other.url, START_UP('00:1A:E8:00:10:17'))).body.toString()).toMatch(/not valid for the CA given with --upstream-ca: CERT_HAS_EXPIRED\. If this is your DLS, give the CA that signed it/);
    expect(dls.requests).toHaveLength(0);
  });

  it('refuses a bad fingerprint or upstream URL at start, naming it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'localdls-relay-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    for (const [upstream, message] of [
      [{ url: 'https://127.0.0.1:1', fingerprints: ['AB:CD'] }, /fingerprint "AB:CD" is not a SHA-256 fingerprint/],
      [{ url: 'http://127.0.0.1:1' }, /must be an https:\/\/ URL/],
      [{ url: 'https://127.0.0.1:1/DeploymentService' }, /must not have a path/],
      [{ url: 'https://127.0.0.1:1', ca: { pem: 'not a cert', file: 'x.pem' } }, /holds no PEM certificate/],
    ] as const) {
      const service = new Service({ dataDir: dir, host: '127.0.0.1', port: 0, securePort: 0, upstream: upstream as RelayConfig, store: { integrityCheck: false } });
      await expect(service.start()).rejects.toThrow(message);
      await service.stop();
    }
    // Its own listener as the upstream (helper-81: one start-up made 65 chained exchanges of 15 s):
    // refused at start, written as its address, as localhost, or on a wildcard as any local address.
    const port = await freePortOtherThan(0);
    for (const [host, url] of [['127.0.0.1', `https://127.0.0.1:${port}`], ['127.0.0.1', `https://localhost:${port}`], ['0.0.0.0', `https://127.0.0.2:${port}`], ['::', `https://[::1]:${port}`]] as const) {
      const service = new Service({ dataDir: dir, host, port, securePort: 0, autoContact: false, upstream: { url, fingerprints: [] }, store: { integrityCheck: false } });
      await expect(service.start(), `${host} ${url}`).rejects.toThrow(new RegExp(`the upstream ${url.replace(/[[\].]/g, '\\$&')} is this LocalDLS's own listener: relaying to it would send every phone message back here`));
      await service.stop();
    }
    // Another address on the same port is another server (bound to 127.0.0.1, 127.0.0.2 is not this one).
    const other = new Service({ dataDir: dir, host: '127.0.0.1', port, securePort: 0, autoContact: false, upstream: { url: `https://127.0.0.2:${port}`, fingerprints: [] }, store: { integrityCheck: false } });
    await other.start();
    await other.stop();
    // helper-82: compared with the address bound, not --host as written (a name, another spelling
    // of the address: the relay to itself went unnoticed), and on the secure port too.
    const securePort = await freePortOtherThan(port);
    for (const [host, url] of [['::0', `https://127.0.0.1:${port}`], ['0:0:0:0:0:0:0:1', `https://[::1]:${port}`], ['127.0.0.1', `https://127.0.0.1:${securePort}`]] as const) {
      const service = new Service({ dataDir: dir, host, port, securePort, autoContact: false, upstream: { url, fingerprints: [] }, store: { integrityCheck: false } });
      await expect(service.start(), `${host} ${url}`).rejects.toThrow(/is this LocalDLS's own listener/);
      await service.stop();
    }
    // Bound by the name localhost, it listens on one loopback address: another is another server's.
    const named = new Service({ dataDir: dir, host: 'localhost', port, securePort: 0, autoContact: false, upstream: { url: `https://127.0.0.2:${port}`, fingerprints: [] }, store: { integrityCheck: false } });
    await named.start();
    await named.stop();
  });
});

describe('relay: relays in a loop', () => {
  const serverFingerprint = (dir: string) => new X509Certificate(readFileSync(join(dir, 'tls', 'default-server.crt'))).fingerprint256;
  const service = (dir: string, host: string, port: number, upstream?: { url: string; fingerprints: string[] }) =>
    new Service({ dataDir: dir, host, port, securePort: 0, autoContact: false, ...(upstream ? { upstream } : {}), store: { integrityCheck: false } });

  it('two relays pointing at each other: the message that comes round again is refused with 508 at once, not passed on until a timeout; each records it', async () => {
    const dirA = mkdtempSync(join(tmpdir(), 'localdls-loop-a-'));
    const dirB = mkdtempSync(join(tmpdir(), 'localdls-loop-b-'));
    cleanups.push(() => {
      rmSync(dirA, { recursive: true, force: true });
      rmSync(dirB, { recursive: true, force: true });
    });
    // A once on its own, for its certificate; then B relaying to A, and A relaying to B.
    const portA = await freePortOtherThan(0);
    const first = service(dirA, '127.0.0.1', portA);
    await first.start();
    await first.stop();
    const b = service(dirB, '127.0.0.2', 0, { url: `https://127.0.0.1:${portA}`, fingerprints: [serverFingerprint(dirA)] });
    const portB = (await b.start()).port;
    cleanups.push(() => b.stop());
    const a = service(dirA, '127.0.0.1', portA, { url: `https://127.0.0.2:${portB}`, fingerprints: [serverFingerprint(dirB)] });
    await a.start();
    cleanups.push(() => a.stop());

    const answer = await post(`https://127.0.0.1:${portA}`, START_UP('00:1A:E8:00:10:61'));
    // Phone → A → B → A: A finds its own Via and refuses; B and then A pass the 508 back.
    expect(answer.status).toBe(508);
    expect(answer.statusText).toBe('Loop Detected');
    const reason = answer.body.toString('utf8');
    expect(reason).toContain(`this request has passed this LocalDLS already (its Via header names ${a.relay!.upstream.viaName})`);
    expect(reason).toContain(`the upstream https://127.0.0.2:${portB} relays it back here`);
    const rowsA = a.store.exchanges({});
    expect(rowsA).toHaveLength(2);
    const looped = rowsA.find((r) => r.error?.includes('form a loop'))!;
    expect(looped).toMatchObject({ httpStatus: 508, reason: 'start-up', error: expect.stringContaining('form a loop') });
    expect(a.store.relay.of(looped.id)).toMatchObject({ failure: 'not-relayed', httpStatus: null, requestHeaders: null });
    // What came round carries both relays' names, A's first.
    const via = a.store.exchange(looped.id)!.requestHeaders.filter(([n]) => n.toLowerCase() === 'via').map(([, v]) => v);
    expect(via).toEqual([`1.1 ${a.relay!.upstream.viaName}`, `1.1 ${b.relay!.upstream.viaName}`]);
    const phoneRow = rowsA.find((r) => r !== looped)!;
    expect(phoneRow).toMatchObject({ httpStatus: 508, error: 'the upstream answered HTTP 508 Loop Detected' });
    const rowsB = b.store.exchanges({});
    expect(rowsB).toHaveLength(1);
    expect(rowsB[0]).toMatchObject({ httpStatus: 508, peerAddress: '127.0.0.1', error: 'the upstream answered HTTP 508 Loop Detected' });
  });

  it("a Via naming another relay passes (with this relay's after it); one naming this relay, in any case of the header's name, never reaches the DLS", async () => {
    const dls = await standIn();
    const { service, url } = await relayTo(dls);
    const name = service.relay!.upstream.viaName;
    const passed = await post(url, START_UP('00:1A:E8:00:10:62'), [['Content-Type', 'text/xml'], ['Via', '1.0 fred, 1.1 localdls-0123456789ab']]);
    expect(passed.status).toBe(200);
    expect(dls.requests[0]!.headers.filter(([n]) => n === 'Via')).toEqual([['Via', '1.0 fred, 1.1 localdls-0123456789ab'], ['Via', `1.1 ${name}`]]);
    for (const via of [`1.1 ${name}`, `1.0 fred,1.1   ${name} (LocalDLS)`, `1.1 ${name.toUpperCase()}`, `1.0 fred (a comment, with commas), 1.1\t${name}`]) {
      const refused = await post(url, START_UP('00:1A:E8:00:10:63'), [['Content-Type', 'text/xml'], ['vIA', via]]);
      expect([refused.status, via]).toEqual([508, via]);
    }
    expect(dls.requests).toHaveLength(1);
    // A phone speaking HTTP/1.0: the relay's Via says so (RFC 9110 §7.6.3: the protocol as received).
    const body = START_UP('00:1A:E8:00:10:65');
    const old = await new Promise<string>((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port: Number(new URL(url).port), rejectUnauthorized: false }, () =>
        socket.write(`POST /DeploymentService/LoginService HTTP/1.0\r\nContent-Type: text/xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`),
      );
      let answer = '';
      socket.on('data', (c: Buffer) => (answer += c.toString('latin1')));
      socket.on('end', () => resolve(answer));
      socket.on('error', reject);
    });
    expect(old).toMatch(/^HTTP\/1\.1 200 /);
    expect(dls.requests.at(-1)!.headers.filter(([n]) => n === 'Via')).toEqual([['Via', `1.0 ${name}`]]);
    // A name that only starts like this relay's is another relay's; one inside a comment names no hop (helper-90).
    for (const via of [`1.1 ${name}0`, `1.1 fred (hello, 1.1 ${name} x)`]) {
      const other = await post(url, START_UP('00:1A:E8:00:10:64'), [['Content-Type', 'text/xml'], ['Via', via]]);
      expect([other.status, via]).toEqual([200, via]);
    }
  });
});

describe('relay: many phones and Secure Mode', () => {
  it('50 simulated phones at once, each from its own address: all complete, every exchange recorded in its own interaction', async () => {
    const dls = await standIn();
    const { service, url } = await relayTo(dls);
    const phones = createFleet({ server: url, count: 50, macBase: '00:1A:E8:00:20:00', ipBase: '127.0.3.1', bindIpAddress: true, contactMe: false, maxItems: -1 });
    const summary = await runPhones(phones, { concurrency: 50 });
    expect(summary.failures).toEqual([]);
    expect(summary.ok).toBe(50);
    expect(dls.requests).toHaveLength(summary.exchanges);
    const rows = service.store.exchanges({ limit: 1000 });
    expect(rows).toHaveLength(summary.exchanges);
    expect(rows.every((r) => r.httpStatus === 200 && r.error === null && r.warning === null)).toBe(true);
    const byInteraction = new Map<number, Set<string | null>>();
    for (const r of rows) byInteraction.set(r.interactionId!, (byInteraction.get(r.interactionId!) ?? new Set()).add(r.mac));
    expect(byInteraction.size).toBe(50);
    for (const macs of byInteraction.values()) expect(macs.size).toBe(1);
    expect(service.store.devices()).toHaveLength(50);
  });

  it('phones behind one address (NAT) interleaving: each interaction keeps its own phone, found by the DLS cookie', async () => {
    const dls = await standIn();
    const { service, url } = await relayTo(dls);
    const phones = createFleet({ server: url, count: 12, macBase: '00:1A:E8:00:50:00', contactMe: false, maxItems: 80 });
    const summary = await runPhones(phones, { concurrency: 12 });
    expect(summary.failures).toEqual([]);
    const rows = service.store.exchanges({ limit: 1000 });
    expect(new Set(rows.map((r) => r.peerAddress))).toEqual(new Set(['127.0.0.1']));
    const byInteraction = new Map<number, Set<string | null>>();
    for (const r of rows) byInteraction.set(r.interactionId!, (byInteraction.get(r.interactionId!) ?? new Set()).add(r.mac));
    expect(byInteraction.size).toBe(12);
    for (const macs of byInteraction.values()) expect(macs.size).toBe(1);
    for (const id of byInteraction.keys()) expect(service.store.interaction(id)!.endReason).toBe('CleanUp');
    expect(rows.every((r) => r.warning === null)).toBe(true);
  });

  it('a phone trying mutual TLS on the relay gets a handshake failure that is recorded with the reason', async () => {
    const dls = await standIn();
    const { service, info } = await relayTo(dls);
    const client = selfSignedCertificate('00:1A:E8:00:30:01');
    // A Secure-Mode phone trusts only its DLS's CA (here the stand-in's certificate), so it refuses ours.
    const error = await new Promise<Error>((resolve) => {
      const socket = tls.connect({ host: '127.0.0.1', port: info.securePort!, ca: dls.cert, key: client.key, cert: client.cert, servername: 'stand-in-dls' });
      socket.on('secureConnect', () => resolve(new Error('handshake completed')));
      socket.on('error', resolve);
    });
    expect(error.message).not.toBe('handshake completed');
    await waitFor(() => service.store.exchanges({}).some((r) => r.kind === 'tls-failure' && r.listener === 'secure'));
    const row = service.store.exchanges({}).find((r) => r.kind === 'tls-failure')!;
    // The phone ends the handshake when our certificate is not its DLS's: an alert, or a reset.
    expect(row.error).toMatch(/TLS handshake failed|connection reset during handshake/);
    expect(row.warning).toMatch(/Secure Mode cannot be relayed/);
    expect(dls.requests).toHaveLength(0);
  });

  it('a request that reaches HTTP on the secure port is refused with 502 and the reason, never relayed', async () => {
    const dls = await standIn();
    const { service, info } = await relayTo(dls);
    const answer = await post(`https://127.0.0.1:${info.securePort}`, START_UP('00:1A:E8:00:30:02'));
    expect(answer.status).toBe(502);
    expect(answer.body.toString()).toMatch(/Secure Mode cannot be relayed/);
    expect(dls.requests).toHaveLength(0);
    const [row] = service.store.exchanges({});
    expect(row).toMatchObject({ listener: 'secure', httpStatus: 502, reason: 'start-up' });
    expect(service.store.relay.of(row!.id)).toMatchObject({ failure: 'not-relayed' });
  });

  it('a path that leaves /DeploymentService/ on another server (dot segments, encoded or with parameters, backslashes) is refused with 404, never relayed', async () => {
    const dls = await standIn();
    const { service, info } = await relayTo(dls);
    const paths = ['/DeploymentService/../../admin/ok?x=1', '/DeploymentService/%2e%2e/%2E%2e/admin', '/DeploymentService/.%2e/admin', '/DeploymentService/..;/admin', '/DeploymentService/./LoginService',
      '/DeploymentService/..%2fadmin', '/DeploymentService/..\\admin', '/DeploymentService/%5c..%5cadmin', '/DeploymentService/LoginService%00',
      '/DeploymentService/..#/x', '/DeploymentService/%252e%252e/admin', '/DeploymentService/%c0%ae%c0%ae/admin', '/DeploymentService/..%20/admin', '/DeploymentService/%u002e%u002e/admin'];
    for (const path of paths) {
      // The path as written: a URL string would have its dots resolved by the client first.
      const status = await new Promise<number>((resolve, reject) => {
        const req = https.request({ host: '127.0.0.1', port: info.port, path, method: 'POST', rejectUnauthorized: false, agent: false, headers: { 'Content-Type': 'text/xml' } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end(START_UP('00:1A:E8:00:30:03'));
      });
      expect(status, path).toBe(404);
    }
    expect(dls.requests).toHaveLength(0);
    expect(service.store.exchanges({ limit: 50 }).map((x) => x.httpStatus)).toEqual(paths.map(() => 404));
    // The phone's own path still passes, as do its session parameters.
    expect((await post(`https://127.0.0.1:${info.port}`, START_UP('00:1A:E8:00:30:03'), undefined, '/DeploymentService/LoginService;jsessionid=AB12')).status).toBe(200);
    expect(dls.requests.map((r) => r.url)).toEqual(['/DeploymentService/LoginService;jsessionid=AB12']);
  });

  it('keeps the listener limits: an over-size body is refused with 413 and never reaches the upstream', async () => {
    const dls = await standIn();
    const { url } = await relayTo(dls);
    const answer = await post(url, Buffer.alloc(300 * 1024, 0x41));
    expect(answer.status).toBe(413);
    expect(dls.requests).toHaveLength(0);
  });
});

async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
  expect(check()).toBe(true);
}

