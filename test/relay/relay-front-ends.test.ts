/**
 * Relay mode through the front ends: `serve --upstream` (its listening line and flag errors), the
 * API (status, the upstream side of an exchange, exports, the stored choice from the app).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Service } from '../../src/main/app/service';
import { LocalDlsApiHost } from '../../src/main/bridge/api-host';
import { runCli, startServe } from '../support/cli';
import { startStandInDls } from '../support/stand-in-dls';
import { withRawDb } from '../support/raw-db';
import { exchangeRecord } from '../support/records';

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'localdls-relay-fe-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const START_UP = `<WorkpointMessage><Message nonce="AB12"><ReasonForContact>start-up</ReasonForContact><ItemList><Item name="mac-addr">00:1A:E8:00:40:01</Item></ItemList></Message></WorkpointMessage>`;

function post(port: number, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path: '/DeploymentService/LoginService', method: 'POST', rejectUnauthorized: false, agent: false, headers: { 'Content-Type': 'text/xml' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('serve --upstream', () => {
  it('says in the listening line that it relays and to where, and relays', async () => {
    const dls = await startStandInDls();
    cleanups.push(() => dls.close());
    const dir = tempDir();
    const { serve, port, listening } = await startServe(['--data-dir', dir, '--secure-port', '0', '--upstream', dls.url, '--upstream-fingerprint', dls.fingerprint]);
    cleanups.push(() => serve.stop());
    expect(listening.relay).toEqual({ upstream: dls.url, ca: false, fingerprints: [dls.fingerprint] });
    expect(listening.relayFrom).toBe('flag');
    expect(serve.stderr).not.toContain('as chosen in the app');
    // No key passphrase here, but a relay has no Secure Mode of its own to warn about (helper-81).
    expect(serve.stderr).not.toContain('Secure Mode is off');
    expect(typeof listening.securePort).toBe('number');
    expect(await post(port, START_UP)).toBe(200);
    const line = JSON.parse(await serve.waitFor((l) => l.includes('"exchange"'))) as Record<string, unknown>;
    expect(line).toMatchObject({ mac: '00:1A:E8:00:40:01', reason: 'start-up', action: 'ReadAllItems', http: 200 });
    expect(dls.requests).toHaveLength(1);
  });

  it('the CLI beside a relaying serve refuses what a relay does not do, as the app does; once serve stops, or after a crash, it acts again', async () => {
    const dls = await startStandInDls();
    cleanups.push(() => dls.close());
    const dir = tempDir();
    const { serve, port } = await startServe(['--data-dir', dir, '--secure-port', '0', '--upstream', dls.url, '--upstream-fingerprint', dls.fingerprint, '--no-auto-contact']);
    // Stopped below; also if an assertion fails first (stop is idempotent).
    cleanups.push(() => serve.stop());
    expect(await post(port, START_UP)).toBe(200);
    const MAC = '00:1A:E8:00:40:01';
    const refusal = new RegExp(`^localdls \\w+: LocalDLS relays to ${dls.url.replace(/[.]/g, '\\.')} and does not (queue jobs|send contact-me|apply profiles|bootstrap phones)`, 'm');
    for (const args of [['job', 'add', '--mac', MAC, 'restart'], ['contact', '--mac', MAC], ['contact', '--all'], ['profile', 'apply', 'p', '--mac', MAC], ['bootstrap', '--mac', MAC, '--nopin']]) {
      if (args[0] === 'profile') await runCli(['profile', 'set', 'p', '--data-dir', dir, 'sntp-addr=ntp.site']);
      const r = await runCli([...args, '--data-dir', dir], { LOCALDLS_KEY_PASSPHRASE: 'relay test passphrase' });
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr, args.join(' ')).toMatch(refusal);
    }
    const jobsOf = () => withRawDb(dir, (db) => (db.prepare('SELECT count(*) AS n FROM jobs').get() as { n: number }).n);
    expect(jobsOf()).toBe(0);
    // Profiles and overrides are kept, and said not to apply while relaying (helper-81: accepted without a word).
    const kept = `note: LocalDLS relays to ${dls.url} now:`;
    const profile = await runCli(['profile', 'set', 'q', 'sntp-addr=ntp.site', '--data-dir', dir]);
    expect([profile.code, profile.stderr]).toEqual([0, expect.stringContaining(`${kept} the profile is kept, and applied only when it answers phones itself`)]);
    const override = await runCli(['profile', 'override', '--mac', MAC, 'sntp-addr=ntp.mine', '--data-dir', dir]);
    expect([override.code, override.stderr]).toEqual([0, expect.stringContaining(`${kept} the override is kept, and applied only when it answers phones itself`)]);
    // Stopped cleanly: nothing relays, the CLI queues (the next serve without an upstream sends it).
    await serve.stop();
    expect((await runCli(['profile', 'set', 'q', 'sntp-addr=ntp.site', '--data-dir', dir])).stderr).not.toContain('relays to');
    expect((await runCli(['job', 'add', '--mac', MAC, 'restart', '--data-dir', dir])).code).toBe(0);
    // A service that crashed while relaying left its setting: no service runs, so it relays nothing.
    withRawDb(dir, (db) => db.prepare(`INSERT INTO settings (name, value) VALUES ('relaying_upstream', ?)`).run(dls.url));
    expect((await runCli(['job', 'add', '--mac', MAC, 'read-all', '--data-dir', dir])).code).toBe(0);
    expect(jobsOf()).toBe(2);
  });

  it('refuses flags that make no sense, in its own words', async () => {
    const cases: [string[], RegExp][] = [
      [['--upstream-ca', 'x.pem'], /--upstream-ca needs --upstream https:\/\/HOST:PORT/],
      [['--upstream', 'http://10.0.0.1:18443'], /--upstream: the upstream must be an https:\/\/ URL/],
      [['--upstream', 'dls.example:18443'], /--upstream: /],
      [['--upstream', 'https://127.0.0.1:1', '--upstream-fingerprint', 'xyz'], /--upstream-fingerprint "xyz" is not a SHA-256 fingerprint/],
      [['--upstream', 'https://127.0.0.1:1', '--upstream-ca', '/nonexistent/ca.pem'], /--upstream-ca: cannot read the upstream CA file \/nonexistent\/ca.pem: ENOENT/],
      [['--upstream', 'https://127.0.0.1:1', '--upstream-timeout', '0'], /--upstream-timeout must be seconds from 0.1 to 600/],
      [['--upstream', 'https://127.0.0.1:1', '--dcmp-port', '0'], /--dcmp-port cannot be combined with --upstream: DCMP polling is not relayed/],
      [['--no-upstream', '--upstream', 'https://127.0.0.1:1'], /--no-upstream cannot be combined with --upstream/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(['serve', '--data-dir', tempDir(), ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  });

  it('a certificate refused for a relay chosen in the app says to accept it there, not with a serve flag (helper-81)', async () => {
    const dls = await startStandInDls();
    cleanups.push(() => dls.close());
    const dir = tempDir();
    const first = new Service({ dataDir: dir, host: '127.0.0.1', port: 0, store: { integrityCheck: false } });
    first.store.setSetting('relay_upstream', JSON.stringify({ url: dls.url, fingerprints: [] }));
    first.store.close();
    const relay = new Service({ dataDir: dir, host: '127.0.0.1', port: 0, securePort: 0, autoContact: false, store: { integrityCheck: false } });
    cleanups.push(() => relay.stop());
    const info = await relay.start();
    expect(info.relay).toMatchObject({ upstream: dls.url });
    expect(await post(info.port, START_UP)).toBe(502);
    const [row] = relay.store.exchanges({});
    expect(row!.error).toContain(`If this is your DLS, accept this certificate: add its fingerprint ${dls.fingerprint} in Setup › Relay (it applies at the next start) (or give its CA file in Setup › Relay)`);
    expect(row!.error).not.toContain('--upstream');
    expect(dls.requests).toHaveLength(0);
  });

  it("relaying by the app's stored choice says so: relayFrom app in the listening line, and a notice naming the flags that undo it (helper-61)", async () => {
    const dls = await startStandInDls();
    cleanups.push(() => dls.close());
    const dir = tempDir();
    const first = new Service({ dataDir: dir, host: '127.0.0.1', port: 0, store: { integrityCheck: false } });
    first.store.setSetting('relay_upstream', JSON.stringify({ url: dls.url, fingerprints: [dls.fingerprint] }));
    // A job queued before, by a run that answered phones itself: held, and said so.
    first.store.commit(exchangeRecord({ mac: '00:1A:E8:00:40:09' }), { device: { mac: '00:1A:E8:00:40:09', lastAddress: '127.0.0.1' } }, null);
    first.store.addJobs([{ mac: '00:1A:E8:00:40:09', kind: 'ReadAllItems', items: [] }], Date.now());
    first.store.close();
    const { serve, listening } = await startServe(['--data-dir', dir]);
    cleanups.push(() => serve.stop());
    expect(listening).toMatchObject({ relay: { upstream: dls.url }, relayFrom: 'app' });
    await expect.poll(() => serve.stderr).toContain(`relaying to ${dls.url}, as chosen in the app (Setup › Relay): --no-upstream answers phones here for this run, --forget-upstream forgets the choice`);
    expect(serve.stderr).toContain('1 job queued waits: LocalDLS sends none while it relays');
  });

  it("--forget-upstream forgets the app's choice, so a service whose CA file is gone starts again", async () => {
    const dir = tempDir();
    const first = new Service({ dataDir: dir, host: '127.0.0.1', port: 0, store: { integrityCheck: false } });
    first.store.setSetting('relay_upstream', JSON.stringify({ url: 'https://127.0.0.1:1', caFile: join(dir, 'gone.pem') }));
    first.store.close();
    const { serve, listening } = await startServe(['--data-dir', dir, '--forget-upstream']);
    cleanups.push(() => serve.stop());
    expect(listening.relay).toBeUndefined();
    expect(serve.stderr).toContain('forgot the relay upstream chosen in the app');
  });
});

describe('relay through the API', () => {
  it('status, the upstream side of an exchange and the exports show the relay', async () => {
    const dls = await startStandInDls();
    cleanups.push(() => dls.close());
    const dir = tempDir();
    const service = new Service({ dataDir: dir, host: '127.0.0.1', port: 0, securePort: 0, upstream: { url: dls.url, fingerprints: [dls.fingerprint] }, store: { integrityCheck: false } });
    const info = await service.start();
    cleanups.push(() => service.stop());
    const api = new LocalDlsApiHost(service, { dataDir: dir });
    cleanups.push(() => api.close());
    expect((await api.getStatus()).relay).toEqual({ upstream: dls.url, ca: false, fingerprints: [dls.fingerprint] });
    // The Secure Mode page learns why it is off: relaying (a passphrase would not help).
    expect(await api.getSecureStatus()).toMatchObject({ on: false, relaying: dls.url });
    expect(await post(info.port, START_UP)).toBe(200);
    const [row] = service.store.exchanges({});
    const detail = await api.getExchange(row!.id);
    expect(detail.upstream).toMatchObject({ url: dls.url, httpStatus: 200, trustedBy: 'fingerprint', fingerprint: dls.fingerprint, requestHeaders: dls.requests[0]!.headers });
    expect(detail.upstream?.responseHeaders).toContainEqual(['X-Stand-In', 'yes']);
    expect(detail.tls.protocol).toBe(row!.tlsProtocol);
    const json = JSON.parse((await api.exportExchanges([row!.id], 'json')).content) as { exchanges: { upstream?: { url: string } }[] };
    expect(json.exchanges[0]!.upstream?.url).toBe(dls.url);
    const har = JSON.parse((await api.exportExchanges([row!.id], 'har')).content) as { log: { entries: { _localdls: { upstream?: { httpStatus: number } } }[] } };
    expect(har.log.entries[0]!._localdls.upstream?.httpStatus).toBe(200);
    // It acts on nothing: the phones' DLS is the upstream.
    await expect(api.addJob(['00:1A:E8:00:40:01'], { kind: 'read-all' })).rejects.toThrow(`LocalDLS relays to ${dls.url} and does not queue jobs`);
    await expect(api.call('contactNow', [['00:1A:E8:00:40:01']])).rejects.toThrow(/does not send contact-me/);
    // Not even the failed jobs of a rollout from before the relay (a rollout's page still offers "Retry failed").
    service.store.commit(exchangeRecord({ mac: '00:1A:E8:00:40:01' }), { device: { mac: '00:1A:E8:00:40:01', lastAddress: '127.0.0.1' } }, null);
    const before = service.store.addJobs(['00:1A:E8:00:40:01', '00:1A:E8:00:40:01'].map((mac) => ({ mac, kind: 'ReadAllItems' as const, items: [] })), Date.now());
    withRawDb(dir, (db) => db.prepare(`UPDATE jobs SET state = 'failed'`).run());
    await expect(api.retryFailed(`j${before[0]!.rolloutAt}-ReadAllItems`)).rejects.toThrow(`LocalDLS relays to ${dls.url} and does not queue jobs again`);
    expect(service.store.jobs.list({})).toHaveLength(2);
    expect((await api.getSecureStatus()).reason).toMatch(/Secure Mode cannot be relayed/);
    expect(service.store.jobs.list({}).map((j) => j.state)).toEqual(['failed', 'failed']);
  });

  it('setUpstream checks and stores the choice; the next start relays with it, --no-upstream (null) does not', async () => {
    const dls = await startStandInDls();
    cleanups.push(() => dls.close());
    const dir = tempDir();
    const own = new Service({ dataDir: dir, host: '127.0.0.1', port: 0, store: { integrityCheck: false } });
    await own.start();
    const api = new LocalDlsApiHost(own, { dataDir: dir });
    expect((await api.getStatus()).relay).toBeNull();
    await expect(api.setUpstream({ url: 'ftp://x' })).rejects.toThrow(/setting.url: the upstream must be an https:\/\/ URL/);
    await expect(api.setUpstream({ url: dls.url, fingerprints: ['12:34'] })).rejects.toThrow(/setting.fingerprints\[0\] "12:34" is not a SHA-256 fingerprint/);
    await expect(api.setUpstream({ url: dls.url, caFile: join(dir, 'missing.pem') })).rejects.toThrow(/setting.caFile: cannot read the upstream CA file .*missing.pem: ENOENT/);
    writeFileSync(join(dir, 'not.pem'), 'hello');
    await expect(api.setUpstream({ url: dls.url, caFile: join(dir, 'not.pem') })).rejects.toThrow(/setting.caFile: .*not.pem is not a PEM certificate/);
    await expect(api.call('setUpstream', [{ url: dls.url, extra: 1 }])).rejects.toThrow(/setting has an unknown field "extra"/);
    // The UI says them in its own words (helper-81: the toast read "setting.url: …"), from these texts.
    const texts = (p: Promise<unknown>) => p.then(() => null, (e: { texts?: unknown }) => e.texts);
    expect(await texts(api.setUpstream({ url: 'ftp://x' }))).toEqual([{ key: 'upstreamUrl', params: { reason: 'the upstream must be an https:// URL (phones talk WPI over TLS), not "ftp:"' } }]);
    expect(await texts(api.setUpstream({ url: dls.url, fingerprints: ['12:34'] }))).toEqual([{ key: 'upstreamFingerprint', params: { value: '12:34' } }]);
    expect(await texts(api.setUpstream({ url: dls.url, caFile: join(dir, 'not.pem') }))).toEqual([{ key: 'upstreamCaFile', params: { reason: expect.stringMatching(/not\.pem is not a PEM certificate/) } }]);
    const lower = dls.fingerprint.replace(/:/g, '').toLowerCase();
    expect(await api.setUpstream({ url: `${dls.url}/`, fingerprints: [lower] })).toEqual({ url: dls.url, caFile: null, fingerprints: [dls.fingerprint] });
    expect((await api.getStatus()).upstreamSetting).toEqual({ url: dls.url, caFile: null, fingerprints: [dls.fingerprint] });
    api.close();
    await own.stop();

    const next = new Service({ dataDir: dir, host: '127.0.0.1', port: 0, securePort: 0, store: { integrityCheck: false } });
    const info = await next.start();
    expect(info.relay).toEqual({ upstream: dls.url, ca: false, fingerprints: [dls.fingerprint] });
    expect(await post(info.port, START_UP)).toBe(200);
    expect(dls.requests).toHaveLength(1);
    await next.stop();

    const forced = new Service({ dataDir: dir, host: '127.0.0.1', port: 0, upstream: null, store: { integrityCheck: false } });
    const ownInfo = await forced.start();
    cleanups.push(() => forced.stop());
    expect(ownInfo.relay).toBeUndefined();
    expect(await post(ownInfo.port, START_UP)).toBe(200);
    expect(dls.requests).toHaveLength(1);
    const api2 = new LocalDlsApiHost(forced, { dataDir: dir });
    cleanups.push(() => api2.close());
    expect(await api2.setUpstream(null)).toBeNull();
    expect((await api2.getStatus()).upstreamSetting).toBeNull();

    // A choice whose CA file went away: the service does not start as something else, and says the way out.
    writeFileSync(join(dir, 'ca.pem'), dls.cert);
    await api2.setUpstream({ url: dls.url, caFile: join(dir, 'ca.pem') });
    rmSync(join(dir, 'ca.pem'));
    api2.close();
    await forced.stop();
    const broken = new Service({ dataDir: dir, host: '127.0.0.1', port: 0, store: { integrityCheck: false } });
    await expect(broken.start()).rejects.toThrow(/the relay upstream chosen in the app's settings cannot be used: cannot read the upstream CA file .*ca.pem: ENOENT.*--forget-upstream/);
    await broken.stop();
  });
});
