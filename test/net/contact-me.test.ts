import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { buildJob } from '../../src/main/commands/job-spec';
import { Contacts } from '../../src/main/app/contact';
import { CONTACT_ME_MAX_ANSWER, sendContactMe } from '../../src/main/net/contact-me';
import { Store } from '../../src/main/store';
import { tempDirs } from '../support/tmp';
import { withRawDb } from '../support/raw-db';

const newDir = tempDirs();
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

/** The phone's own web listener on port 8085 (manual p.14–15), here on a free loopback port. */
async function phoneListener(answer: (req: http.IncomingMessage, body: string) => [number, Record<string, string>?]) {
  const seen: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      const [status, headers] = answer(req, body);
      res.writeHead(status, { Server: 'DlsClient', 'Content-Length': '0', 'Content-Type': 'text/html', ...headers });
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanup.push(() => new Promise((r) => server.close(r)));
  return { port: (server.address() as AddressInfo).port, seen };
}

function storeWithPhone(contactMeUri: string, lastAddress = '127.0.0.1', softwareVersion?: string) {
  const store = new Store(newDir());
  cleanup.push(() => store.close());
  store.commit(
    {
      kind: 'wpi', started: 1, ended: 1, listener: 'default', localPort: 18443, peerAddress: lastAddress, peerPort: 1, tlsProtocol: null, tlsCipher: null,
      method: 'POST', path: '/', httpStatus: 200, requestHeaders: [], requestBody: Buffer.alloc(0), responseHeaders: [], responseBody: Buffer.alloc(0),
      mac: null, reason: 'start-up', replyAction: null, replyStatus: null, nonce: 'n', fragment: null, itemCount: 0, refusedItems: 0, action: 'CleanUp', error: null, warning: null,
    },
    { device: { mac: '00:1A:E8:00:00:01', contactMeUri, lastAddress, ...(softwareVersion ? { softwareVersion } : {}) } },
    null,
  );
  return store;
}

describe('contact-me (service -> phone, plain HTTP)', () => {
  it('a phone whose only jobs wait for its busy callback, or are held behind them, is not contacted before the busy retry', () => {
    const MAC = '00:1A:E8:00:00:01';
    const store = storeWithPhone('http://127.0.0.1:9/contact_dls.html/ContactDLS', '127.0.0.1', 'V3 R5.12.0');
    const T0 = 1_000_000;
    let now = T0;
    const contacts = new Contacts(store, { gapMs: 60_000, busyRetryMs: 600_000 }, undefined, () => now);
    const busy = store.jobs.add({ mac: MAC, kind: 'WriteItems', items: [{ name: 'sntp-addr', value: 'A' }] }, T0);
    store.jobs.apply({ id: busy.id, state: 'waiting-busy' }, T0);
    // A newer write of the same item waits behind it: nothing could go to the phone before its callback.
    store.jobs.add({ mac: MAC, kind: 'WriteItems', items: [{ name: 'sntp-addr', value: 'B' }] }, T0);
    now = T0 + 60_001;
    expect(contacts.due(() => false)).toEqual([]);
    now = T0 + 600_001;
    expect(contacts.due(() => false)).toEqual([MAC]);
    // A job that can go ahead (another item) is worth a contact at the gap.
    store.jobs.add({ mac: MAC, kind: 'ReadItems', items: [{ name: 'e164', value: '' }] }, T0);
    now = T0 + 60_001;
    expect(contacts.due(() => false)).toEqual([MAC]);
  });

  it('a deployment of several files waiting for its check is asked for once per gap after its last check; one file waiting for its report is not', () => {
    const MAC = '00:1A:E8:00:00:01';
    const store = storeWithPhone('http://127.0.0.1:9/contact_dls.html/ContactDLS', '127.0.0.1', 'V3 R5.12.0');
    const T0 = 1_000_000;
    let now = T0;
    const contacts = new Contacts(store, { gapMs: 60_000, busyRetryMs: 600_000 }, undefined, () => now);
    const one = store.jobs.add({ mac: MAC, kind: 'FileDeployment', items: [{ name: 'file-https-base-url', value: 'https://f.example/a.png' }, { name: 'file-type', value: 'LOGO' }] }, T0);
    store.jobs.apply({ id: one.id, state: 'sent', partsDone: 1 }, T0);
    now = T0 + 600_001;
    expect(contacts.due(() => false)).toEqual([]); // its phone sends the report by itself
    const several = store.jobs.add({ mac: MAC, kind: 'FileDeployment', items: buildJob({ kind: 'file', urls: ['https://f.example/a.png', 'https://f.example/b.wav'], fileTypes: ['LOGO', 'RINGTONE'], deletes: [] }).items }, now);
    store.jobs.apply({ id: several.id, state: 'sent' }, now);
    now += 600_001;
    expect(contacts.due(() => true)).toEqual([]); // sent in an interaction still under way
    store.jobs.apply({ id: several.id, partsDone: 1 }, now); // accepted and checked once
    const checked = now;
    now = checked + 30_000;
    expect(contacts.due(() => false)).toEqual([]);
    now = checked + 60_001;
    expect(contacts.due(() => false)).toEqual([MAC]);
    expect(contacts.due(() => true)).toEqual([]); // not while it talks to the service
    store.jobs.apply({ id: several.id, state: 'done' }, now);
    expect(contacts.due(() => false)).toEqual([]);
  });

  it('the query of waiting devices, run every second, seeks jobs by device and state: it does not read the job history (helper-73)', () => {
    const store = storeWithPhone('http://127.0.0.1:9/contact_dls.html/ContactDLS');
    const sql = (store.jobs as unknown as { st: { pendingDevices: { source: string } } }).st.pendingDevices.source;
    const plan = withRawDb(store.dataDir, (db) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((r) => r.detail));
    expect(plan).toContain('SEARCH j USING INDEX jobs_queue (mac=? AND state=?)');
    expect(plan.some((d) => /^SCAN j\b/.test(d))).toBe(false);
  });

  it('two processes contacting one phone at once (the CLI and the service\'s UI): one contact-me is sent, the other waits for the gap', async () => {
    const phone = await phoneListener(() => [204]);
    const store = storeWithPhone(`http://127.0.0.1:${phone.port}/contact_dls.html/ContactDLS`);
    // A second connection to the same data folder, as the CLI beside a running service has.
    const other = new Store(store.dataDir);
    cleanup.push(() => other.close());
    // Both have read the device (no contact yet) before either sends: each gate alone would pass.
    const [a, b] = await Promise.all([new Contacts(store, {}).contact('00:1A:E8:00:00:01'), new Contacts(other, {}).contact('00:1A:E8:00:00:01')]);
    expect(phone.seen).toHaveLength(1);
    expect([a.ok, b.ok].sort()).toEqual([false, true]);
    expect((a.ok ? b : a).skipped).toMatch(/contact gap/);
    // What keeps two processes apart is the claim in the store, one statement: of two connections
    // claiming within the gap only the first gets it, whatever each read before.
    const at = store.device('00:1A:E8:00:00:01')!.lastContactMe!;
    expect(other.jobs.claimContactMe('00:1A:E8:00:00:01', at + 1000, 60_000)).toBe(false);
    expect(store.jobs.claimContactMe('00:1A:E8:00:00:01', at + 59_999, 60_000)).toBe(false);
    expect(other.jobs.claimContactMe('00:1A:E8:00:00:01', at + 60_000, 60_000)).toBe(true);
    expect(store.jobs.claimContactMe('00:1A:E8:00:00:01', at + 60_001, 60_000)).toBe(false);
    expect(store.device('00:1A:E8:00:00:01')!.lastContactMe).toBe(at + 60_000);
  });

  it('POSTs ContactMe=true as a form, expects 204, records the exchange and starts the gap', async () => {
    const phone = await phoneListener(() => [204]);
    const store = storeWithPhone(`http://127.0.0.1:${phone.port}/contact_dls.html/ContactDLS`);
    const contacts = new Contacts(store, {});
    const r = await contacts.contact('00:1A:E8:00:00:01');
    expect(r).toMatchObject({ ok: true, error: null });
    expect(phone.seen).toEqual([expect.objectContaining({ method: 'POST', url: '/contact_dls.html/ContactDLS', body: 'ContactMe=true' })]);
    expect(phone.seen[0]!.headers['content-type']).toBe('application/x-www-form-urlencoded; charset=utf-8');
    expect(phone.seen[0]!.headers['content-length']).toBe('14');
    const x = store.exchange(r.exchangeId!)!;
    expect(x).toMatchObject({ kind: 'contact-me', listener: 'contact-me', httpStatus: 204, mac: '00:1A:E8:00:00:01', error: null });
    expect(Buffer.from(x.requestBody).toString()).toBe('ContactMe=true');
    expect(store.device('00:1A:E8:00:00:01')?.lastContactMe).toBeGreaterThan(0);

    // Within the gap: not sent at all, and the reason says when it may go.
    const again = await contacts.contact('00:1A:E8:00:00:01');
    expect(again.ok).toBe(false);
    expect(again.skipped).toMatch(/^contact gap: the phone ignores another contact-me until /);
    expect(phone.seen).toHaveLength(1);
  });

  it('announces the local address and port that reach the phone when asked (dls_ip_addr / dls_ip_port)', async () => {
    const phone = await phoneListener(() => [204]);
    const store = storeWithPhone(`http://127.0.0.1:${phone.port}/contact_dls.html/ContactDLS`);
    const contacts = new Contacts(store, {});
    contacts.announcePort = 18443;
    await contacts.contact('00:1A:E8:00:00:01');
    expect(Object.fromEntries(new URLSearchParams(phone.seen[0]!.body))).toEqual({ ContactMe: 'true', dls_ip_addr: '127.0.0.1', dls_ip_port: '18443' });
  });

  it('records a phone that does not answer 204, and one that is not listening', async () => {
    const phone = await phoneListener(() => [500]);
    const store = storeWithPhone(`http://127.0.0.1:${phone.port}/contact_dls.html/ContactDLS`);
    const r = await new Contacts(store, {}).contact('00:1A:E8:00:00:01');
    expect(r).toMatchObject({ ok: false, error: 'the phone answered HTTP 500, expected 204 No Content' });

    const closed = storeWithPhone('http://127.0.0.1:1/contact_dls.html/ContactDLS');
    const r2 = await new Contacts(closed, {}).contact('00:1A:E8:00:00:01');
    expect(r2.error).toMatch(/connection refused by 127\.0\.0\.1:1/);
    expect(closed.exchange(r2.exchangeId!)).toMatchObject({ kind: 'contact-me', httpStatus: 0 });
  });

  it('a listener that trickles its answer, or sends a flood, ends the request: it cannot hold a contact-me slot', async () => {
    const timers: NodeJS.Timeout[] = [];
    const server = http.createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'Content-Type': 'text/html' });
      if (req.url === '/trickle') timers.push(setInterval(() => res.write('x'), 50));
      else res.write(Buffer.alloc(CONTACT_ME_MAX_ANSWER * 4, 0x41), () => res.end());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanup.push(() => { timers.forEach(clearInterval); server.closeAllConnections(); return new Promise((r) => server.close(r)); });
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const trickled = await sendContactMe({ uri: `${base}/trickle`, timeoutMs: 400 });
    expect(trickled).toMatchObject({ status: 200, error: `no complete answer from 127.0.0.1:${(server.address() as AddressInfo).port} within 400 ms` });
    const flooded = await sendContactMe({ uri: `${base}/flood`, timeoutMs: 5_000 });
    expect(flooded.error).toBe(`the phone's answer passed ${CONTACT_ME_MAX_ANSWER} bytes (a phone answers 204 with none): not read further`);
    expect(flooded.responseBody.length).toBeLessThanOrEqual(CONTACT_ME_MAX_ANSWER);
  }, 10_000);

  it('quotes a contact-me-uri that is no URL short, however long the phone made it', async () => {
    const store = storeWithPhone(`http://${'x'.repeat(3000)}:bad/`);
    const r = await new Contacts(store, {}).contact('00:1A:E8:00:00:01');
    expect(r.skipped).toBe(`contact-me-uri "http://${'x'.repeat(113)}…" is not a URL`);
  });

  it('never sends to a host other than the one the phone talks from', async () => {
    const phone = await phoneListener(() => [204]);
    const store = storeWithPhone(`http://127.0.0.2:${phone.port}/contact_dls.html/ContactDLS`, '127.0.0.1');
    const r = await new Contacts(store, {}).contact('00:1A:E8:00:00:01');
    expect(r.skipped).toBe('contact-me-uri points to 127.0.0.2, but the phone talks from 127.0.0.1');
    expect(phone.seen).toHaveLength(0);
    const https = storeWithPhone('https://127.0.0.1:8085/contact_dls.html/ContactDLS');
    expect((await new Contacts(https, {}).contact('00:1A:E8:00:00:01')).skipped).toMatch(/must be http:\/\//);
  });

  it('keeps the gap at one minute at least, whatever is configured', async () => {
    const phone = await phoneListener(() => [204]);
    const store = storeWithPhone(`http://127.0.0.1:${phone.port}/contact_dls.html/ContactDLS`);
    let now = 1_000_000;
    const contacts = new Contacts(store, { gapMs: 1000 }, undefined, () => now);
    expect((await contacts.contact('00:1A:E8:00:00:01')).ok).toBe(true);
    now += 30_000;
    expect((await contacts.contact('00:1A:E8:00:00:01')).skipped).toMatch(/contact gap/);
    now += 31_000;
    expect((await contacts.contact('00:1A:E8:00:00:01')).ok).toBe(true);
  });
});
