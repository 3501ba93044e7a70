/**
 * Bootstrap throughput: prepareBootstraps (client certificate + PIN container, sealed, queued as
 * a job, several devices at a time) for many devices, and the longest the event loop was blocked meanwhile
 * (perf_hooks.monitorEventLoopDelay). In the service this runs beside the listeners, so a long
 * block is a phone waiting. Run as its own process; argument JSON {devices, nopinDevices, workDir};
 * prints one JSON line.
 */
import { generateKeyPair } from 'node:crypto';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { BOOTSTRAP_CONCURRENCY, prepareBootstraps, type PinChoice } from '../src/main/app/bootstrap';
import { buildSecureModeData, dlsClientCertificate, generatePin, passphraseProtector, Pki } from '../src/main/pki';
import { Store, type ExchangeRecord } from '../src/main/store';
import { macAt } from '../src/phone';

const config = JSON.parse(process.argv[2] ?? '{}') as { devices: number; nopinDevices: number; poolDevices?: number; workDir: string };
/** Phones prepared with keys from the key pool (filled first, not measured): the take path on the event loop. */
const poolDevices = config.poolDevices ?? Math.min(20, config.devices);
const dir = join(config.workDir, 'bootstrap');
const protector = passphraseProtector('benchmark passphrase, not a secret', dir);
const pki = await Pki.open(dir, protector);
const store = new Store(dir);

function record(mac: string): ExchangeRecord {
  return {
    kind: 'wpi', started: Date.now(), ended: Date.now(), listener: 'default', localPort: 18443, peerAddress: '127.0.0.1', peerPort: 1,
    tlsProtocol: 'TLSv1.3', tlsCipher: null, method: 'POST', path: '/DeploymentService/LoginService', httpStatus: 200, requestHeaders: [],
    requestBody: Buffer.from('<start-up/>'), responseHeaders: [], responseBody: Buffer.from('<CleanUp/>'), mac, reason: 'start-up',
    replyAction: null, replyStatus: null, nonce: 'N', fragment: null, itemCount: 0, refusedItems: 0, action: 'CleanUp', error: null, warning: null,
  };
}

// What else holds the event loop: synchronous fsync of the PKI's files, SQLite transactions (with
// their fsync), garbage collection. The longest of each is reported next to the longest delay.
const longest = { fsyncMs: 0, transactionMs: 0, gcMs: 0 };
const fsyncSync = fs.fsyncSync;
fs.fsyncSync = (fd: number) => {
  const t = performance.now();
  fsyncSync(fd);
  longest.fsyncMs = Math.max(longest.fsyncMs, performance.now() - t);
};
syncBuiltinESMExports();
// The bootstrap's one transaction: queueing the job and marking the device.
const queueBootstrap = store.queueBootstrap.bind(store);
store.queueBootstrap = (...args: Parameters<Store['queueBootstrap']>) => {
  const t = performance.now();
  try {
    return queueBootstrap(...args);
  } finally {
    longest.transactionMs = Math.max(longest.transactionMs, performance.now() - t);
  }
};
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) longest.gcMs = Math.max(longest.gcMs, e.duration);
}).observe({ entryTypes: ['gc'] });

const total = config.devices + config.nopinDevices + poolDevices;
const macs = Array.from({ length: total }, (_, i) => macAt('00:1A:E8:50:00:00', i));
for (const [i, mac] of macs.entries()) store.commit(record(mac), { device: { mac, e164: String(4989700000 + i), lastAddress: '127.0.0.1' } }, null);

/** Runs `work` with the event loop's delay monitored; ms and the longest / p99 delay in ms. */
async function measured<T>(work: () => Promise<T>): Promise<{ value: T; ms: number; loopMaxMs: number; loopP99Ms: number; over50: number; busyMs: number }> {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  const elu = performance.eventLoopUtilization();
  const t0 = performance.now();
  const value = await work();
  const ms = performance.now() - t0;
  const busyMs = performance.eventLoopUtilization(elu).active;
  h.disable();
  // How many of the loop's delays were over 50 ms, from the histogram's percentiles.
  const over50 = Math.round(h.count * (1 - percentileRank(h, 50e6)));
  return { value, ms, loopMaxMs: h.max / 1e6, loopP99Ms: h.percentile(99) / 1e6, over50, busyMs };
}

/** Share of the histogram's samples at or below `ns`. */
function percentileRank(h: ReturnType<typeof monitorEventLoopDelay>, ns: number): number {
  let rank = 0;
  for (const [p, value] of h.percentiles) if (value <= ns) rank = p / 100;
  return rank;
}

// Baseline: what the machine does without LocalDLS around it: RSA-2048 key pairs on every core
// (prepareBootstraps makes one per core at a time too).
const keygen = promisify(generateKeyPair);
const KEYS = 8 * availableParallelism();
const base = await measured(async () => {
  let next = 0;
  const worker = async () => {
    while (next++ < KEYS) await keygen('rsa', { modulusLength: 2048 });
  };
  await Promise.all(Array.from({ length: availableParallelism() }, worker));
});

// The synchronous parts, one credential: what each device costs the event loop at least.
const sample = await pki.issueDeviceCertificate(macAt('00:1A:E8:5F:00:00', 0));
const t = performance.now();
buildSecureModeData(sample, pki.caChainPems(), 18444, generatePin());
const secureModeDataMs = performance.now() - t;
// The PKCS#12 alone: the median of 9 (the first call also compiles the code).
const pkcs12Times = Array.from({ length: 9 }, () => {
  const t0 = performance.now();
  dlsClientCertificate(sample, pki.caChainPems());
  return performance.now() - t0;
}).sort((a, b) => a - b);
const pkcs12Ms = pkcs12Times[4]!;
const pkcs12FirstMs = Math.max(...pkcs12Times);

async function run(list: string[], pin: PinChoice) {
  Object.assign(longest, { fsyncMs: 0, transactionMs: 0, gcMs: 0 });
  // Progress as the CLI and the UI see it: when each device was reported, to tell steady from bursty.
  const reported: number[] = [];
  const t0 = performance.now();
  const r = await measured(() => prepareBootstraps(store, pki, protector, list, { pin, securePort: 18444, onProgress: () => reported.push(performance.now() - t0) }));
  if (r.value.length !== list.length) throw new Error(`prepared ${r.value.length} of ${list.length}`);
  const gaps = reported.slice(1).map((t, i) => t - reported[i]!).sort((a, b) => a - b);
  return {
    devices: list.length, ms: r.ms, perS: list.length / (r.ms / 1000), loopMaxMs: r.loopMaxMs, loopP99Ms: r.loopP99Ms, delaysOver50: r.over50, busyMsPerDevice: r.busyMs / list.length, longest: { ...longest },
    progress: { firstMs: reported[0] ?? 0, gapMedianMs: gaps[Math.floor(gaps.length / 2)] ?? 0, gapP95Ms: gaps[Math.floor(gaps.length * 0.95)] ?? 0, gapMaxMs: gaps.at(-1) ?? 0 },
  };
}
const pin = await run(macs.slice(0, config.devices), { kind: 'auto' });
const nopin = await run(macs.slice(config.devices, config.devices + config.nopinDevices), { kind: 'none' });
while (pki.keyPool.count() < poolDevices && (await pki.keyPool.fillOne()));
const pooled = poolDevices > 0 ? await run(macs.slice(config.devices + config.nopinDevices), { kind: 'auto' }) : undefined;
const jobs = store.jobs.list({ limit: 100_000 }).filter((j) => j.kind === 'Bootstrap').length;
store.close();
console.log(
  JSON.stringify({
    event: 'result',
    keygen: { keys: KEYS, concurrency: availableParallelism(), perS: KEYS / (base.ms / 1000), loopMaxMs: base.loopMaxMs, loopP99Ms: base.loopP99Ms },
    sync: { secureModeDataMs, pkcs12Ms, pkcs12FirstMs },
    concurrency: BOOTSTRAP_CONCURRENCY,
    pin,
    nopin,
    ...(pooled ? { pooled } : {}),
    jobs,
  }),
);
