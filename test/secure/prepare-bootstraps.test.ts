/**
 * prepareBootstraps for many phones at once (issue #18): several phones in preparation at a time,
 * each queued and reported as soon as it is ready, the list checked before any key is made, and
 * an abort that leaves nothing half-done.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BOOTSTRAP_CONCURRENCY, BootstrapIncompleteError, openJobSecret, prepareBootstraps } from '../../src/main/app/bootstrap';
import { type Pki, unpackSecureModeData, pinPassword } from '../../src/main/pki';
import { KEYGEN_SLOTS } from '../../src/main/pki/x509';
import { Store, type ExchangeRecord } from '../../src/main/store';
import { macAt } from '../../src/phone';
import { fastProtector, openPki } from '../pki/helpers';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();
const stores: Store[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

function startUp(mac: string): ExchangeRecord {
  return {
    kind: 'wpi', started: Date.now(), ended: Date.now(), listener: 'default', localPort: 18443, peerAddress: '127.0.0.1', peerPort: 1,
    tlsProtocol: 'TLSv1.3', tlsCipher: null, method: 'POST', path: '/DeploymentService/LoginService', httpStatus: 200, requestHeaders: [],
    requestBody: Buffer.from('<start-up/>'), responseHeaders: [], responseBody: Buffer.from('<CleanUp/>'), mac, reason: 'start-up',
    replyAction: null, replyStatus: null, nonce: 'N', fragment: null, itemCount: 0, refusedItems: 0, action: 'CleanUp', error: null, warning: null,
  };
}

/** A data directory with `count` phones that have contacted the service once, and its PKI (1024-bit keys: speed). */
async function site(count: number) {
  const dir = newDir();
  const protector = fastProtector(dir);
  const pki = await openPki(dir, { keyBits: 1024 });
  const store = new Store(dir);
  stores.push(store);
  const macs = Array.from({ length: count }, (_, i) => macAt('00:1A:E8:60:00:00', i));
  for (const [i, mac] of macs.entries()) store.commit(startUp(mac), { device: { mac, e164: String(4989700100 + i), lastAddress: '127.0.0.1' } }, null);
  return { dir, protector, pki, store, macs };
}

/** Counts calls of pki.issueDeviceCertificate in flight (the real method runs). */
function watchIssuing(pki: Pki): { maxInFlight: number; calls: number } {
  const seen = { maxInFlight: 0, calls: 0 };
  let inFlight = 0;
  const issue = pki.issueDeviceCertificate.bind(pki);
  pki.issueDeviceCertificate = async (mac: string) => {
    seen.calls++;
    seen.maxInFlight = Math.max(seen.maxInFlight, ++inFlight);
    try {
      return await issue(mac);
    } finally {
      inFlight--;
    }
  };
  return seen;
}

const deviceKeyFiles = (dir: string) => {
  try {
    return readdirSync(join(dir, 'pki', 'devices')).filter((f) => f.endsWith('.key.sealed'));
  } catch {
    return [];
  }
};

describe('prepareBootstraps for many phones', () => {
  it('prepares several phones at a time, reports each once as it is queued, and returns them in list order', async () => {
    const { pki, store, protector, macs } = await site(BOOTSTRAP_CONCURRENCY * 2 + 1);
    expect(BOOTSTRAP_CONCURRENCY).toBe(2 * KEYGEN_SLOTS);
    const watch = watchIssuing(pki);
    const progress: [number, number, string][] = [];
    const prepared = await prepareBootstraps(store, pki, protector, macs, {
      pin: { kind: 'auto' },
      securePort: 18444,
      onProgress: (done, total, mac) => {
        // When a phone is reported, its job is already in the store (the service can contact it).
        expect(store.jobs.list({ mac }).filter((j) => j.kind === 'Bootstrap')).toHaveLength(1);
        progress.push([done, total, mac]);
      },
    });
    expect(watch.maxInFlight).toBe(BOOTSTRAP_CONCURRENCY);
    expect(watch.calls).toBe(macs.length);
    expect(progress.map(([done]) => done)).toEqual(macs.map((_, i) => i + 1));
    expect(progress.every(([, total]) => total === macs.length)).toBe(true);
    expect(progress.map(([, , mac]) => mac).sort()).toEqual([...macs].sort());
    expect(prepared.map((p) => p.mac)).toEqual(macs);
    expect(new Set(prepared.map((p) => p.jobId)).size).toBe(macs.length);
    expect(new Set(prepared.map((p) => p.pin)).size).toBe(macs.length);
    // Each job holds its own phone's PIN and a container its PIN opens.
    for (const p of prepared) {
      const job = store.jobs.get(p.jobId)!;
      expect(job.mac).toBe(p.mac);
      expect(store.device(p.mac)!.bootstrap).toBe('pending');
      const secret = openJobSecret(protector, store.jobs.secret(p.jobId)!)!;
      expect(secret.tan).toBe(p.pin!.slice(-3));
      const data = secret.items.find((i) => i.name === 'secure-mode-data')!.value;
      expect(unpackSecureModeData(data, pinPassword(p.pin!)).securePort).toBe(18444);
    }
  }, 120_000);

  it('checks the whole list before it makes any key', async () => {
    const { dir, pki, store, protector, macs } = await site(3);
    const watch = watchIssuing(pki);
    const cases: [string[], RegExp][] = [
      [[...macs, '00:1A:E8:60:FF:FF'], /^no device 00:1A:E8:60:FF:FF: a phone must contact the service once/],
      [[...macs, macs[0]!], /^00:1A:E8:60:00:00 is listed twice: each phone gets one certificate and one job$/],
      [['not a mac'], /^no device not a mac/],
    ];
    for (const [list, message] of cases) {
      await expect(prepareBootstraps(store, pki, protector, list, { pin: { kind: 'auto' }, securePort: 18444 })).rejects.toThrow(message);
    }
    await expect(prepareBootstraps(store, pki, protector, macs, { pin: { kind: 'none' }, securePort: 18444, renew: true })).rejects.toThrow(/is not in Secure Mode: bootstrap it first/);
    for (const concurrency of [0, -1, 1.5, Number.NaN]) {
      await expect(prepareBootstraps(store, pki, protector, macs, { pin: { kind: 'auto' }, securePort: 18444, concurrency })).rejects.toThrow(/bootstrap concurrency must be a whole number of at least 1/);
    }
    await expect(prepareBootstraps(store, pki, protector, macs, { pin: { kind: 'given', pin: '12345678' }, securePort: 18444 })).rejects.toThrow(/one given PIN for several phones/);
    expect(watch.calls).toBe(0);
    expect(deviceKeyFiles(dir)).toEqual([]);
    expect(store.jobs.list({}).length).toBe(0);
  });

  it('an abort starts no further phone; the phones in progress finish and are queued before it is reported', async () => {
    const { dir, pki, store, protector, macs } = await site(BOOTSTRAP_CONCURRENCY * 3);
    const watch = watchIssuing(pki);
    const abort = new AbortController();
    let reported = 0;
    const run = prepareBootstraps(store, pki, protector, macs, {
      pin: { kind: 'none' },
      securePort: 18444,
      signal: abort.signal,
      onProgress: () => {
        if (++reported === 1) abort.abort();
      },
    });
    const error = await run.then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(BootstrapIncompleteError);
    const incomplete = error as BootstrapIncompleteError;
    // The phones queued before the abort come back (the caller hands out their PINs); the rest say why.
    expect(incomplete.prepared.map((p) => p.mac).sort()).toEqual(store.jobs.list({}).map((j) => j.mac).sort());
    expect(incomplete.notQueued.length + incomplete.prepared.length).toBe(macs.length);
    expect(new Set(incomplete.notQueued.map((n) => n.reason))).toEqual(new Set(['not started: bootstrap cancelled']));
    // Nothing is still running: every certificate made has its job, and every job was reported.
    expect(watch.calls).toBeLessThan(macs.length);
    expect(deviceKeyFiles(dir)).toHaveLength(watch.calls);
    expect(store.jobs.list({}).filter((j) => j.kind === 'Bootstrap')).toHaveLength(watch.calls);
    expect(reported).toBe(watch.calls);
  }, 120_000);

  it('skips a phone another front end starts meanwhile, before making its key; the others are queued and their PINs returned', async () => {
    const { dir, pki, store, protector, macs } = await site(BOOTSTRAP_CONCURRENCY * 2);
    const watch = watchIssuing(pki);
    const taken = macs.at(-1)!;
    let otherJob = 0;
    const run = prepareBootstraps(store, pki, protector, macs, {
      pin: { kind: 'auto' },
      securePort: 18444,
      concurrency: 1,
      // After the first phone, "another front end" (the wizard, a second CLI) queues the last one.
      onProgress: (done) => {
        if (done === 1) otherJob = store.queueBootstrap({ mac: taken, kind: 'Bootstrap', items: [], source: 'bootstrap:pin' }, Date.now()).id;
      },
    });
    const error = (await run.then(() => null, (e: unknown) => e)) as BootstrapIncompleteError;
    expect(error).toBeInstanceOf(BootstrapIncompleteError);
    expect(error.message).toMatch(new RegExp(`^${macs.length - 1} of ${macs.length} bootstraps queued; not queued: ${taken} \\(${taken} has a bootstrap under way \\(job ${otherJob}, queued\\)`));
    expect(error.notQueued).toEqual([{ mac: taken, reason: expect.stringContaining('has a bootstrap under way') }]);
    expect(error.prepared.map((p) => p.mac)).toEqual(macs.slice(0, -1));
    expect(error.prepared.every((p) => /^\d{8}$/.test(p.pin ?? ''))).toBe(true);
    // No key was made for the phone the other front end has, and it has exactly one job: the other one.
    expect(watch.calls).toBe(macs.length - 1);
    expect(deviceKeyFiles(dir)).toHaveLength(macs.length - 1);
    expect(store.jobs.list({ mac: taken }).map((j) => j.id)).toEqual([otherJob]);
  }, 120_000);
});
