/**
 * Boot storm and secure storm: the service (`bin/localdls serve`, its own process) and, in the
 * same run, the ceiling (bench/ceiling-server.ts: Node HTTPS alone, the same certificate), each
 * loaded by the same client process (bench/storm-client.ts). The service's CPU and memory are read
 * from /proc; the client measures latency; afterwards the store is counted against the client.
 */
import { chmodSync, cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateDefaultIdentity, passphraseProtector, Pki, toPkcs12Der } from '../src/main/pki';
import { Store } from '../src/main/store';
import { macAt, saveSecureState } from '../src/phone';
import { BIN, Child, ROOT } from './lib/child';
import { ProcMonitor } from './lib/proc';
import type { StormClientConfig, StormClientResult } from './storm-client';
import BetterSqlite3 from 'better-sqlite3';

export type StormMode = 'default' | 'secure';

export interface StormOptions {
  mode: StormMode;
  counts: number[];
  concurrencies: number[];
  /** The phones' maxItems: 250 splits the ~35 kB ReadAllItems reply into 3 fragments. */
  maxItems: number;
  /** Working directory (data directories, certificates). */
  workDir: string;
  /** Write a V8 CPU profile of the service process for this (count, concurrency), into this directory. */
  profile?: { count: number; concurrency: number; dir: string };
  /** Which side(s) to run (default both). */
  targets?: ('ceiling' | 'service')[];
  /** Configurations not yet started at this time (Date.now()) are skipped: the run stays within its budget. */
  deadline?: number;
  log: (line: string) => void;
}

export interface StormRow {
  mode: StormMode;
  target: 'service' | 'ceiling';
  count: number;
  concurrency: number;
  exchanges: number;
  ok: number;
  failed: number;
  wallMs: number;
  exchangesPerS: number;
  interactionsPerS: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  serverCpuMs: number;
  /** Share of one core the server process used during the load. */
  serverCores: number;
  cpuMsPerExchange: number;
  peakRssMb: number;
  /** RSS when the load started (the idle process). */
  startRssMb: number;
  clientCpuMs: number;
  /** Service only: rows in the store after the run (all exchanges / answered 200 / devices / interactions ended by CleanUp). */
  stored?: { exchanges: number; ok200: number; devices: number; secureDevices: number; cleanUps: number; printed: number };
  failures: string[];
  tls: string | null;
}

export interface StormSetup {
  /** Certificates issued for the secure storm, and how long it took. */
  certificates?: { count: number; ms: number; keyBits: number };
  /** Configurations left out for the time budget, e.g. "N=1000 C=200". */
  skipped: string[];
}

const PASSPHRASE = 'benchmark passphrase, not a secret';
const DEVICE_KEY_BITS = 1024;
const MAC_BASE = '00:1A:E8:10:00:00';
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * Narrows a run for a measurement by hand, without changing the plan: BENCH_STORM_COUNTS=1000,
 * BENCH_STORM_CONCURRENCIES=200, BENCH_STORM_TARGETS=service (comma-separated lists).
 */
function narrowed(options: StormOptions): StormOptions {
  const list = (name: string) => process.env[name]?.split(',').map((s) => s.trim()).filter(Boolean);
  const numbers = (name: string) => list(name)?.map((s) => {
    const n = Number(s);
    if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name}: "${s}" is not a whole number of at least 1`);
    return n;
  });
  const targets = list('BENCH_STORM_TARGETS');
  for (const t of targets ?? []) if (t !== 'ceiling' && t !== 'service') throw new Error(`BENCH_STORM_TARGETS: unknown target "${t}" (ceiling, service)`);
  return {
    ...options,
    counts: numbers('BENCH_STORM_COUNTS') ?? options.counts,
    concurrencies: numbers('BENCH_STORM_CONCURRENCIES') ?? options.concurrencies,
    ...(targets ? { targets: targets as ('ceiling' | 'service')[] } : {}),
  };
}

export async function runStorms(plan: StormOptions): Promise<{ rows: StormRow[]; setup: StormSetup }> {
  const options = narrowed(plan);
  const { workDir, log } = options;
  mkdirSync(workDir, { recursive: true });
  const template = join(workDir, `${options.mode}-template`);
  const setup: StormSetup = { skipped: [] };
  let ceilingTls: { keyFile: string; certFile: string; caFile?: string };
  let stateDir: string | undefined;
  let securePort = 0;
  if (options.mode === 'default') {
    await loadOrCreateDefaultIdentity(template);
    ceilingTls = { keyFile: join(template, 'tls/default-server.key'), certFile: join(template, 'tls/default-server.crt') };
  } else {
    const protector = passphraseProtector(PASSPHRASE, template);
    await loadOrCreateDefaultIdentity(template, protector);
    const pki = await Pki.open(template, protector);
    // The names the service gives its secure certificate when listening on 127.0.0.1 (service.ts serverNames).
    const server = await pki.secureServerIdentity({ dns: [...new Set([hostname(), 'localhost'])], ips: ['127.0.0.1', '::1'] });
    const dir = join(workDir, 'secure-ceiling');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    ceilingTls = { keyFile: join(dir, 'server.key'), certFile: join(dir, 'server.crt'), caFile: join(dir, 'ca.crt') };
    writeFileSync(ceilingTls.keyFile, server.key, { mode: 0o600 });
    writeFileSync(ceilingTls.certFile, server.cert);
    writeFileSync(ceilingTls.caFile!, server.ca.join('\n'));
    securePort = await freePort();
    const count = Math.max(...options.counts);
    const macs = Array.from({ length: count }, (_, i) => macAt(MAC_BASE, i));
    // Device keys of 1024 bits, for this benchmark only: issuing 500 RSA-2048 keys takes minutes on
    // 2 busy cores. The CA and the server's key stay 2048 bits; the service verifies the phone's
    // signature, which costs about the same for either size.
    const issuer = await Pki.open(template, protector, { keyBits: DEVICE_KEY_BITS });
    log(`  issuing ${count} device certificates (RSA ${DEVICE_KEY_BITS}, 2 at a time) …`);
    const t0 = performance.now();
    const credentials = await issuer.issueDeviceCertificates(macs);
    setup.certificates = { count, ms: performance.now() - t0, keyBits: DEVICE_KEY_BITS };
    stateDir = join(workDir, 'secure-phones');
    const caPems = pki.caChainPems();
    for (const c of credentials) {
      const pkcs12 = toPkcs12Der(c.keyPem, c.certPem, caPems, '');
      saveSecureState(stateDir, c.mac, { variant: 'nopin', securePort, caPems, pkcs12, since: Date.now() });
    }
    // The service serves a certificate only to the device that holds it (docs/security.md §4): the
    // phones are known to be in Secure Mode with these serials, as after their bootstraps. Test
    // data, so through a second connection (the Store offers no such write).
    new Store(template).close();
    const db = new BetterSqlite3(join(template, 'localdls.sqlite'));
    const known = db.prepare(`INSERT INTO devices (mac, mode, cert_serial, first_contact, last_contact) VALUES (?, 'secure', ?, ?, ?)`);
    db.transaction(() => credentials.forEach((c) => known.run(c.mac, c.serial, Date.now(), Date.now())))();
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
  }

  const rows: StormRow[] = [];
  let run = 0;
  for (const count of options.counts) {
    for (const concurrency of options.concurrencies) {
      if (concurrency > count && options.concurrencies.some((c) => c < concurrency && c >= count)) continue;
      const c = Math.min(concurrency, count);
      if (options.deadline !== undefined && Date.now() > options.deadline) {
        setup.skipped.push(`N=${count} C=${c}`);
        log(`  ${options.mode} N=${count} C=${c}: skipped (time budget)`);
        continue;
      }
      // Alternate which goes first, so a slow phase of the machine does not always hit the same side.
      const order: ('ceiling' | 'service')[] = run++ % 2 === 0 ? ['ceiling', 'service'] : ['service', 'ceiling'];
      for (const target of order.filter((t) => (options.targets ?? ['ceiling', 'service']).includes(t))) {
        const row =
          target === 'ceiling'
            ? await runCeiling(options, count, c, ceilingTls, securePort, stateDir)
            : await runService(options, template, count, c, securePort, stateDir);
        rows.push(row);
        log(
          `  ${options.mode} ${target.padEnd(7)} N=${String(count).padStart(4)} C=${String(c).padStart(3)}: ` +
            `${row.exchangesPerS.toFixed(0)} exchanges/s, p50 ${row.p50Ms.toFixed(0)} ms, p99 ${row.p99Ms.toFixed(0)} ms, ` +
            `cpu ${row.cpuMsPerExchange.toFixed(2)} ms/exchange (client ${(row.clientCpuMs / Math.max(1, row.exchanges)).toFixed(2)}), rss ${row.peakRssMb.toFixed(0)} MB` +
            (row.stored ? `, stored ${row.stored.exchanges}/${row.exchanges}` : '') +
            (row.failed ? `, ${row.failed} FAILED (${row.failures[0] ?? ''})` : ''),
        );
      }
    }
  }
  return { rows, setup };
}

async function runCeiling(
  options: StormOptions,
  count: number,
  concurrency: number,
  tls: { keyFile: string; certFile: string; caFile?: string },
  securePort: number,
  stateDir: string | undefined,
): Promise<StormRow> {
  // BENCH_CEILING_NODE_ARGS: extra node flags for the ceiling (e.g. --cpu-prof), to compare its profile with the service's.
  const nodeArgs = process.env.BENCH_CEILING_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const server = new Child(join(ROOT, 'bench/ceiling-server.ts'), [JSON.stringify({ host: '127.0.0.1', port: options.mode === 'secure' ? securePort : 0, ...tls })], nodeArgs.length ? { nodeArgs } : {});
  try {
    const listening = await server.waitFor('listening', 30_000);
    const port = listening.port as number;
    const load = await runClient({ server: `https://127.0.0.1:${port}`, count, concurrency, maxItems: options.maxItems, macBase: MAC_BASE, timeoutMs: REQUEST_TIMEOUT_MS, ...(stateDir ? { stateDir } : {}) }, server.pid);
    return rowOf(options.mode, 'ceiling', count, concurrency, load);
  } finally {
    await server.stop();
  }
}

async function runService(options: StormOptions, template: string, count: number, concurrency: number, securePort: number, stateDir: string | undefined): Promise<StormRow> {
  const dataDir = join(options.workDir, `${options.mode}-service-${count}-${concurrency}-${Date.now()}`);
  cpSync(template, dataDir, { recursive: true });
  chmodSync(dataDir, 0o700);
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.LOCALDLS_KEY_PASSPHRASE;
  delete env.LOCALDLS_KEY_PASSPHRASE_FILE;
  const args = ['serve', '--data-dir', dataDir, '--host', '127.0.0.1', '--port', '0', '--no-auto-contact'];
  if (options.mode === 'secure') {
    env.LOCALDLS_KEY_PASSPHRASE = PASSPHRASE;
    args.push('--secure-port', String(securePort));
  }
  const profile = options.profile && options.profile.count === count && options.profile.concurrency === concurrency ? options.profile.dir : undefined;
  // BENCH_SERVICE_NODE_ARGS: extra node flags for the service (e.g. --trace-gc), for a measurement by hand.
  const nodeArgs = [...(process.env.BENCH_SERVICE_NODE_ARGS?.split(' ').filter(Boolean) ?? []), ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [])];
  const serve = new Child(BIN, args, { env, ...(nodeArgs.length ? { nodeArgs } : {}) });
  let load: Awaited<ReturnType<typeof runClient>>;
  try {
    const listening = await serve.waitFor('listening', 60_000);
    if (options.mode === 'secure' && listening.securePort !== securePort) throw new Error(`serve did not take the secure port ${securePort}: ${JSON.stringify(listening)}`);
    load = await runClient(
      { server: `https://127.0.0.1:${listening.port as number}`, count, concurrency, maxItems: options.maxItems, macBase: MAC_BASE, timeoutMs: REQUEST_TIMEOUT_MS, ...(stateDir ? { stateDir } : {}) },
      serve.pid,
    );
  } finally {
    const code = await serve.stop();
    if (code !== 0) options.log(`  serve exited with ${code}: ${serve.stderr.slice(-500)}`);
  }
  const row = rowOf(options.mode, 'service', count, concurrency, load);
  const store = new Store(dataDir, { readonly: true });
  const raw = new BetterSqlite3(join(dataDir, 'localdls.sqlite'), { readonly: true });
  try {
    const n = (sql: string) => (raw.prepare(sql).get() as { n: number }).n;
    row.stored = {
      exchanges: store.exchangeCount(),
      ok200: n("SELECT count(*) AS n FROM exchanges WHERE kind = 'wpi' AND http_status = 200"),
      devices: n('SELECT count(*) AS n FROM devices'),
      secureDevices: n("SELECT count(*) AS n FROM devices WHERE mode = 'secure'"),
      cleanUps: n("SELECT count(*) AS n FROM interactions WHERE end_reason = 'CleanUp'"),
      printed: serve.exchangeLines,
    };
  } finally {
    raw.close();
    store.close();
  }
  return row;
}

interface Load {
  client: StormClientResult;
  server: { cpuMs: number; wallMs: number; peakRssMb: number; hwmMb: number; startRssMb: number };
}

async function runClient(config: StormClientConfig, serverPid: number): Promise<Load> {
  const client = new Child(join(ROOT, 'bench/storm-client.ts'), [JSON.stringify(config)]);
  try {
    await client.waitFor('ready', 120_000);
    const monitor = new ProcMonitor(serverPid);
    monitor.start();
    client.send('go');
    // Bounded: every request has its own timeout; the whole run at most this long.
    const result = (await client.waitFor('result', 600_000)) as unknown as StormClientResult;
    const server = monitor.stop();
    return { client: result, server };
  } finally {
    await client.stop();
  }
}

function rowOf(mode: StormMode, target: StormRow['target'], count: number, concurrency: number, load: Load): StormRow {
  const { client, server } = load;
  const s = client.wallMs / 1000;
  return {
    mode,
    target,
    count,
    concurrency,
    exchanges: client.exchanges,
    ok: client.ok,
    failed: client.failed,
    wallMs: client.wallMs,
    exchangesPerS: client.exchanges / s,
    interactionsPerS: client.ok / s,
    p50Ms: client.latency.p50,
    p99Ms: client.latency.p99,
    maxMs: client.latency.max,
    serverCpuMs: server.cpuMs,
    serverCores: server.cpuMs / server.wallMs,
    cpuMsPerExchange: server.cpuMs / Math.max(1, client.exchanges),
    peakRssMb: Math.max(server.peakRssMb, server.hwmMb),
    startRssMb: server.startRssMb,
    clientCpuMs: client.clientCpuMs,
    failures: client.failures,
    tls: client.tls,
  };
}

/** A free TCP port on 127.0.0.1 (bound and released at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
