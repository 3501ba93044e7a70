/**
 * The load client of the storm benchmarks, run as its own process so its CPU is not the
 * service's: N simulated phones (src/phone), each one start-up → ReadAllItems → a fragmented reply
 * of about 35 kB → CleanUp, one TLS connection per message (Connection: close), C at a time.
 *
 * Argument: one JSON object (StormClientConfig). Prints {"event":"ready"} once the phones exist,
 * waits for "go" on stdin, runs, prints {"event":"result",…} and exits.
 */
import { createInterface } from 'node:readline';
import { createFleet, runPhones } from '../src/phone';
import { spread } from './lib/stats';

export interface StormClientConfig {
  server: string;
  count: number;
  concurrency: number;
  maxItems: number;
  macBase: string;
  /** Secure Mode: the phones' state directory (their client certificates). */
  stateDir?: string;
  /** Per request, connect to last byte. */
  timeoutMs: number;
}

export interface StormClientResult {
  event: 'result';
  phones: number;
  ok: number;
  failed: number;
  exchanges: number;
  wallMs: number;
  latency: ReturnType<typeof spread>;
  clientCpuMs: number;
  failures: string[];
  tls: string | null;
}

const config = JSON.parse(process.argv[2] ?? '{}') as StormClientConfig;
const phones = createFleet({
  server: config.server,
  count: config.count,
  macBase: config.macBase,
  maxItems: config.maxItems,
  timeoutMs: config.timeoutMs,
  contactMe: false,
  ...(config.stateDir ? { stateDir: config.stateDir } : {}),
});
const expectedMode = config.stateDir ? 'secure' : 'default';
const wrongMode = phones.filter((p) => p.mode !== expectedMode).length;
if (wrongMode > 0) throw new Error(`${wrongMode} phones are not in ${expectedMode} mode`);

console.log(JSON.stringify({ event: 'ready', phones: phones.length }));
await new Promise<void>((resolve) => {
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    if (line.trim() === 'go') {
      rl.close();
      resolve();
    }
  });
});

const latencies: number[] = [];
let tls: string | null = null;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const summary = await runPhones(phones, {
  concurrency: config.concurrency,
  onResult: (r) => {
    latencies.push(...r.durations.exchangesMs);
    if (r.tls?.protocol) tls = `${r.tls.protocol} ${r.tls.cipher ?? ''}`.trim();
  },
});
const wallMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const result: StormClientResult = {
  event: 'result',
  phones: summary.phones,
  ok: summary.ok,
  failed: summary.failed,
  exchanges: summary.exchanges,
  wallMs,
  latency: spread(latencies),
  clientCpuMs: (cpu.user + cpu.system) / 1000,
  failures: summary.failures.slice(0, 5).map((f) => `${f.mac}: ${f.error}`),
  tls,
};
console.log(JSON.stringify(result));
process.exit(0);
