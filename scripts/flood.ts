/**
 * `npm run flood`: the long variant of test/security/flood.test.ts (issue #12, "Done when": while
 * one address holds 1,500 slow connections, at least 95% of phones from other addresses are
 * served). A real Service on 127.0.0.1; 127.0.0.2 opens the slow connections (partial headers, a
 * header line every 2 s, a third never start TLS; closed ones are reopened after 1 s) and keeps
 * them up while phones from 127.0.60.x–127.0.61.x each run a full start-up interaction with
 * fragments. Two runs:
 *
 *   default limits     the attacker is held to its per-address share (256 pending connections);
 *   per-address raised  maxConnectionsPerAddress = maxPendingPerAddress = 10,000: only the overall
 *                       cap (1,024) and its fairness rule stand between the attacker and the phones.
 *
 *   npm run flood
 *   npm run flood -- --connections 1500 --phones 60 --concurrency 10
 *
 * Loopback only; each run stops by itself (phones time out after 20 s, a run after 180 s). Exit
 * status 0 when every run served at least 95% of the phones, 1 otherwise, 2 on bad arguments.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { ListenerLimits, WpiListener } from '../src/main/net/wpi-listener';
import { Service } from '../src/main/app/service';
import { runPhones, SlowAttack, sleep } from '../test/security/flood-support';

const ATTACKER = '127.0.0.2';
const RUN_LIMIT_MS = 180_000;
/** Set in the child process that plays the attacker: {"port":…,"connections":…}. */
const ATTACK_ENV = 'LOCALDLS_FLOOD_ATTACK';

/**
 * The attacker runs in its own process, as it would on its own host: its sockets' work must not
 * slow the service's event loop, or the run would measure the test rig instead of the service.
 */
function startAttacker(port: number, connections: number): Promise<{ child: ChildProcess; attempts: () => Promise<number> }> {
  const child = fork(fileURLToPath(import.meta.url), [], { execArgv: ['--import', 'tsx'], env: { ...process.env, [ATTACK_ENV]: JSON.stringify({ port, connections }) } });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the attacker process ended (${code})`)));
    child.once('message', () => {
      child.removeAllListeners('exit');
      const attempts = () =>
        new Promise<number>((done) => {
          child.once('message', (m) => done((m as { attempts: number }).attempts));
          child.send('stop');
        });
      resolve({ child, attempts });
    });
  });
}

async function attackerProcess(config: { port: number; connections: number }): Promise<void> {
  const attack = new SlowAttack({ port: config.port, from: ATTACKER, connections: config.connections });
  const stop = () => {
    attack.stop();
    process.send?.({ attempts: attack.attempts }, () => process.exit(0));
  };
  process.on('message', stop);
  process.on('disconnect', () => process.exit(0));
  setTimeout(() => process.exit(0), RUN_LIMIT_MS).unref();
  await attack.start();
  process.send?.('ready');
}

interface RunResult {
  name: string;
  attempts: number;
  /** Most connections the service counted for the attacker at once, and how many were pending. */
  attackerPeak: { open: number; pending: number };
  listenerPeak: number;
  phones: number;
  served: number;
  failures: string[];
  phonesMs: number;
}

async function run(name: string, limits: Partial<ListenerLimits>, connections: number, phones: number, concurrency: number, subnet: number): Promise<RunResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'localdls-flood-'));
  const service = new Service({ dataDir, host: '127.0.0.1', port: 0, autoContact: false, limits });
  let attacker: { child: ChildProcess; attempts: () => Promise<number> } | undefined;
  let watcher: NodeJS.Timeout | undefined;
  try {
    const { port } = await service.start();
    const listener = (service as unknown as { listener: WpiListener }).listener;
    const peak = { open: 0, pending: 0, listener: 0 };
    watcher = setInterval(() => {
      const mine = listener.connections.of(ATTACKER);
      peak.open = Math.max(peak.open, mine.open);
      peak.pending = Math.max(peak.pending, mine.pending);
      peak.listener = Math.max(peak.listener, listener.connections.size);
    }, 50);
    const started = Date.now();
    attacker = await startAttacker(port, connections);
    // Let the service settle on the attacker's connections before the phones come.
    await sleep(1000);
    const t0 = Date.now();
    const outcome = await Promise.race([
      runPhones(port, phones, concurrency, (i) => `127.0.${subnet + (i >> 8)}.${1 + (i & 255)}`),
      sleep(RUN_LIMIT_MS - (t0 - started)).then(() => null),
    ]);
    const phonesMs = Date.now() - t0;
    const attempts = await attacker.attempts();
    if (outcome === null) throw new Error(`${name}: phones not done within ${RUN_LIMIT_MS / 1000} s`);
    return {
      name, attempts, attackerPeak: { open: peak.open, pending: peak.pending }, listenerPeak: peak.listener,
      phones, served: outcome.served, failures: outcome.failures, phonesMs,
    };
  } finally {
    if (watcher) clearInterval(watcher);
    attacker?.child.kill();
    await service.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  let values: { connections?: string; phones?: string; concurrency?: string; help?: boolean };
  try {
    ({ values } = parseArgs({ options: { connections: { type: 'string' }, phones: { type: 'string' }, concurrency: { type: 'string' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (e) {
    console.error(`${e instanceof Error ? e.message : String(e)}\nusage: npm run flood -- [--connections 1500] [--phones 60] [--concurrency 10]`);
    return 2;
  }
  if (values.help) {
    console.log('usage: npm run flood -- [--connections 1500] [--phones 60] [--concurrency 10]');
    return 0;
  }
  const int = (v: string | undefined, d: number, max: number, what: string) => {
    const n = v === undefined ? d : Number(v);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`--${what} must be a whole number from 1 to ${max}`);
    return n;
  };
  let connections: number, phones: number, concurrency: number;
  try {
    connections = int(values.connections, 1500, 5000, 'connections');
    phones = int(values.phones, 60, 500, 'phones');
    concurrency = int(values.concurrency, 10, 100, 'concurrency');
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  const runs: [string, Partial<ListenerLimits>][] = [
    ['default limits', {}],
    ['per-address limits raised', { maxConnectionsPerAddress: 10_000, maxPendingPerAddress: 10_000 }],
  ];
  let ok = true;
  for (const [i, [name, limits]] of runs.entries()) {
    const r = await run(name, limits, connections, phones, concurrency, 60 + 2 * i);
    const share = r.served / r.phones;
    ok &&= share >= 0.95;
    console.log(
      `${r.name}: attacker ${ATTACKER} tried ${connections} slow connections (${r.attempts} attempts), held at most ${r.attackerPeak.open} ` +
        `(${r.attackerPeak.pending} pending); listener at most ${r.listenerPeak}; phones served ${r.served}/${r.phones} (${(share * 100).toFixed(1)}%) in ${(r.phonesMs / 1000).toFixed(1)} s`,
    );
    for (const f of r.failures.slice(0, 5)) console.log(`  not served: ${f}`);
  }
  console.log(ok ? 'flood: every run served at least 95% of the phones' : 'flood: FAILED, a run served fewer than 95% of the phones');
  return ok ? 0 : 1;
}

const attackConfig = process.env[ATTACK_ENV];
(attackConfig ? attackerProcess(JSON.parse(attackConfig) as { port: number; connections: number }).then(() => -1) : main()).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (e: unknown) => {
    console.error(e instanceof Error ? e.stack : String(e));
    process.exit(1);
  },
);
