/**
 * Crash safety with real processes: `localdls serve` on a data directory, a first round of phones
 * so the devices exist, jobs queued for some of them, then a storm of phones (a child process)
 * during which the service is killed with SIGKILL; then the data directory is checked, the
 * service restarted on it, and the phones come back until their jobs are done.
 *
 * Facts are collected into a report; the test (and scripts/fuzz-crash.ts, the long version)
 * assert on it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { Store, type RecoveryReport, type StoreDiagnostics } from '../../../src/main/store';
import { openRawDb, withRawDb } from '../../support/raw-db';
import { ipAt, macAt } from '../../../src/phone';
import type { StormLine } from './storm';
import { CLI_NODE_ARGS } from '../../support/cli';

// The CLI as test/support/cli.ts starts it (the run's build; from the sources under tsx outside vitest).
const CLI = CLI_NODE_ARGS;
const STORM = fileURLToPath(new URL('./storm.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface CrashOptions {
  dataDir: string;
  phones: number;
  concurrency: number;
  macBase?: string;
  ipBase?: string;
  /** Share of the storm's expected exchanges answered before the kill. */
  killAt?: number;
  log?: (line: string) => void;
}

export interface JobCounts {
  done: number;
  queued: number;
  sent: number;
  waitingBusy: number;
  failed: number;
  cancelled: number;
}

export interface StoreCheck {
  integrity: string;
  foreignKeyViolations: number;
  /** Nonces of messages the phones got an HTTP 200 answer to that are not in the exchanges table. */
  answeredButMissing: string[];
  answered200: number;
  jobs: JobCounts;
  /** Jobs marked done for which no phone sent the accepted reply that finished them. */
  doneWithoutConfirmation: number[];
}

/** What serve reported recovering at its start (the `recovered` field of its listening line). */
export type RecoveryFacts = RecoveryReport & { message: string };

/** The store right after the restart, before any phone came back. */
export interface AfterRestart {
  recovered: RecoveryFacts | null;
  jobs: JobCounts;
  openInteractions: number;
  devicesInInteraction: number;
}

export interface CrashReport {
  firstRound: { code: number | null; stderr: string };
  jobsQueued: number;
  heldMac: string;
  storm: { sent: number; answered: number; lost: number; ok: number; failed: number; killedAfter: number; expected: number };
  afterCrash: StoreCheck;
  heldJobAfterCrash: { state: string; attempts: number } | null;
  afterRestart: AfterRestart;
  heldJobAfterRestart: { state: string; attempts: number } | null;
  recovery: { phones: number; ok: number; failed: number; failures: string[] };
  final: StoreCheck;
  heldJobFinal: { state: string; attempts: number } | null;
  serveExit: number | null;
}

class Serve {
  readonly child: ChildProcess;
  stderr = '';
  private lines: string[] = [];
  private waiters: (() => void)[] = [];

  constructor(dataDir: string) {
    this.child = spawn(process.execPath, [...CLI, 'serve', '--data-dir', dataDir, '--host', '127.0.0.1', '--port', '0', '--no-auto-contact'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    createInterface({ input: this.child.stdout! }).on('line', (l) => {
      this.lines.push(l);
      for (const w of this.waiters.splice(0)) w();
    });
    this.child.stderr!.on('data', (d) => (this.stderr += d));
  }

  async port(): Promise<number> {
    return (await this.listening()).port;
  }

  /** The `listening` line serve printed (with `recovered` after an unclean stop). */
  async listening(): Promise<{ port: number; recovered?: RecoveryFacts }> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const line = this.lines.find((l) => l.includes('"listening"'));
      if (line) return JSON.parse(line) as { port: number; recovered?: RecoveryFacts };
      if (this.child.exitCode !== null) throw new Error(`serve exited (${this.child.exitCode}): ${this.stderr}`);
      if (Date.now() > deadline) throw new Error('serve did not start listening within 30 s');
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 200);
      });
    }
  }

  async kill(signal: NodeJS.Signals): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    const exited = once(this.child, 'exit');
    this.child.kill(signal);
    const [code] = (await exited) as [number | null];
    return code;
  }
}

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [...CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return once(child, 'exit').then(([code]) => ({ code: code as number | null, stdout, stderr }));
}

interface Storm {
  child: ChildProcess;
  lines: StormLine[];
  onLine: (f: (l: StormLine) => void) => void;
  done: Promise<void>;
}

function storm(args: string[]): Storm {
  const child = spawn(process.execPath, ['--import', 'tsx', STORM, ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: StormLine[] = [];
  const listeners: ((l: StormLine) => void)[] = [];
  createInterface({ input: child.stdout! }).on('line', (raw) => {
    const l = JSON.parse(raw) as StormLine;
    lines.push(l);
    for (const f of listeners) f(l);
  });
  const done = once(child, 'exit').then(([code]) => {
    if (code !== 0) throw new Error(`the phone storm exited with ${String(code)}`);
  });
  return { child, lines, onLine: (f) => listeners.push(f), done };
}

/** What the phones sent, by nonce (every round). */
type Sent = Map<string, Extract<StormLine, { e: 'sent' }>>;

function check(dataDir: string, sent: Sent, answered: string[]): StoreCheck {
  // Opening as a writer recovers the WAL the killed process left, as the next `serve` would.
  const store = new Store(dataDir);
  const db = openRawDb(dataDir);
  try {
    const { integrity, foreignKeyViolations } = store.diagnostics(true) as Required<StoreDiagnostics>;
    const stored = new Set((db.prepare(`SELECT nonce FROM exchanges WHERE kind = 'wpi' AND http_status = 200 AND nonce IS NOT NULL`).all() as { nonce: string }[]).map((r) => r.nonce));
    const jobs = store.jobs.list({ limit: 100_000 });
    const counts: JobCounts = { done: 0, queued: 0, sent: 0, waitingBusy: 0, failed: 0, cancelled: 0 };
    for (const j of jobs) {
      const k = j.state === 'waiting-busy' ? 'waitingBusy' : j.state;
      counts[k as keyof JobCounts]++;
    }
    // A job is done only by the phone's accepted reply: the exchange that finished it (same device,
    // same time) must be a reply-to <kind> accepted, and that message must be one a phone sent.
    const finishing = db.prepare(`SELECT nonce, reply_action AS action, reply_status AS status FROM exchanges WHERE kind = 'wpi' AND mac = ? AND started = ?`);
    const doneWithoutConfirmation = jobs
      .filter((j) => j.state === 'done')
      .filter((j) => {
        const rows = finishing.all(j.mac, j.finished) as { nonce: string | null; action: string | null; status: string | null }[];
        return !rows.some((r) => {
          const s = r.nonce ? sent.get(r.nonce) : undefined;
          return r.action === j.kind && r.status === 'accepted' && s?.mac === j.mac && s.reason === 'reply-to' && s.action === j.kind && s.status === 'accepted';
        });
      })
      .map((j) => j.id);
    return { integrity, foreignKeyViolations, answeredButMissing: answered.filter((n) => !stored.has(n)), answered200: answered.length, jobs: counts, doneWithoutConfirmation };
  } finally {
    db.close();
    store.close();
  }
}

function restartState(dataDir: string, recovered: RecoveryFacts | null): AfterRestart {
  const store = new Store(dataDir, { readonly: true });
  try {
    const jobs: JobCounts = { done: 0, queued: 0, sent: 0, waitingBusy: 0, failed: 0, cancelled: 0 };
    for (const j of store.jobs.list({ limit: 100_000 })) jobs[(j.state === 'waiting-busy' ? 'waitingBusy' : j.state) as keyof JobCounts]++;
    const count = (sql: string) => withRawDb(dataDir, (db) => (db.prepare(sql).get() as { n: number }).n);
    return {
      recovered,
      jobs,
      openInteractions: count('SELECT count(*) AS n FROM interactions WHERE ended IS NULL'),
      devicesInInteraction: count(`SELECT count(*) AS n FROM devices WHERE state = 'in-interaction'`),
    };
  } finally {
    store.close();
  }
}

function heldJob(dataDir: string, id: number): { state: string; attempts: number } | null {
  const store = new Store(dataDir, { readonly: true });
  try {
    const j = store.jobs.get(id);
    return j ? { state: j.state, attempts: j.attempts } : null;
  } finally {
    store.close();
  }
}

export async function crashScenario(o: CrashOptions): Promise<CrashReport> {
  const log = o.log ?? (() => {});
  const macBase = o.macBase ?? '00:1A:E8:C0:00:01';
  const ipBase = o.ipBase ?? '127.0.3.1';
  const macs = Array.from({ length: o.phones }, (_, i) => macAt(macBase, i));
  const killAt = o.killAt ?? 0.35;

  // 1. The devices exist: a first round with the real CLI.
  const serve1 = new Serve(o.dataDir);
  let serve2: Serve | null = null;
  try {
    const port1 = await serve1.port();
    const server1 = `https://127.0.0.1:${port1}`;
    log(`serve on ${port1}; first round of ${o.phones} phones`);
    const first = await run(['phone', '--server', server1, '--count', String(o.phones), '--concurrency', String(o.concurrency), '--mac-base', macBase, '--ip-base', ipBase]);

    // 2. Jobs for some of them: one with the CLI, the rest through a Store on the same data directory.
    const heldMac = macs[0]!;
    const cli = await run(['job', 'add', '--data-dir', o.dataDir, '--mac', heldMac, 'write', 'sntp-addr=ntp-0.example', 'sntp-tz-offset=60']);
    if (cli.code !== 0) throw new Error(`job add failed: ${cli.stderr}`);
    const store = new Store(o.dataDir);
    let heldJobId = 0;
    try {
      heldJobId = store.jobs.list({ mac: heldMac })[0]!.id;
      macs.forEach((mac, i) => {
        if (i > 0 && i % 3 === 0) store.jobs.add({ mac, kind: 'WriteItems', items: [{ name: 'sntp-addr', value: `ntp-${i}.example` }, { name: 'sntp-tz-offset', value: String(i % 120) }] }, Date.now());
        if (i % 5 === 1) store.jobs.add({ mac, kind: 'ReadItems', items: [{ name: 'e164', value: '' }, { name: 'sntp-addr', value: '' }] }, Date.now());
      });
    } finally {
      store.close();
    }
    const jobsQueued = macs.filter((_, i) => i % 3 === 0).length + macs.filter((_, i) => i % 5 === 1).length;
    log(`${jobsQueued} jobs queued; storm`);

    // 3. The storm; SIGKILL once a good part of it is answered and a job is certainly in flight.
    const expected = o.phones * 9;
    const s1 = storm(['--server', server1, '--count', String(o.phones), '--concurrency', String(o.concurrency), '--mac-base', macBase, '--ip-base', ipBase, '--hold-mac', heldMac]);
    let answered = 0;
    let finished = 0;
    let held = false;
    let killedAfter = 0;
    const killed = new Promise<void>((resolve) => {
      const kill = () => {
        if (killedAfter !== 0) return;
        killedAfter = Math.max(1, answered);
        serve1.child.kill('SIGKILL');
        resolve();
      };
      s1.onLine((l) => {
        if (l.e === 'answer') answered++;
        if (l.e === 'result') finished++;
        if (l.e === 'held') held = true;
        // Normally mid-storm; at the latest when every phone but the held one is through.
        if ((held && answered >= expected * killAt) || finished >= o.phones - 1) kill();
      });
      setTimeout(kill, 120_000).unref();
      void s1.done.catch(() => {}).then(kill);
    });
    await killed;
    await once(serve1.child, 'exit').catch(() => {});
    log(`killed after ${killedAfter} answers`);
    s1.child.stdin!.end('release\n');
    await s1.done;
    const sent: Sent = new Map();
    const answers200: string[] = [];
    const collect = (lines: StormLine[]) => {
      for (const l of lines) {
        if (l.e === 'sent') sent.set(l.nonce, l);
        if (l.e === 'answer' && l.http === 200) answers200.push(l.nonce);
      }
    };
    collect(s1.lines);
    const results1 = s1.lines.filter((l): l is Extract<StormLine, { e: 'result' }> => l.e === 'result');
    const stormFacts = {
      sent: s1.lines.filter((l) => l.e === 'sent').length,
      answered: s1.lines.filter((l) => l.e === 'answer').length,
      lost: s1.lines.filter((l) => l.e === 'lost').length,
      ok: results1.filter((r) => r.ok).length,
      failed: results1.filter((r) => !r.ok).length,
      killedAfter,
      expected,
    };

    // 4. The data directory as the crash left it.
    const afterCrash = check(o.dataDir, sent, answers200);
    const heldJobAfterCrash = heldJob(o.dataDir, heldJobId);
    log(`after the crash: ${JSON.stringify(afterCrash.jobs)}; integrity ${afterCrash.integrity}`);

    // 5. Restart on the same data; the phones with waiting jobs come back (bounded rounds).
    serve2 = new Serve(o.dataDir);
    const listening2 = await serve2.listening();
    const server2 = `https://127.0.0.1:${listening2.port}`;
    const afterRestart = restartState(o.dataDir, listening2.recovered ?? null);
    const heldJobAfterRestart = heldJob(o.dataDir, heldJobId);
    log(`after the restart: ${JSON.stringify(afterRestart)}`);
    const recovery = { phones: 0, ok: 0, failed: 0, failures: [] as string[] };
    for (let round = 0; round < 3; round++) {
      const ro = new Store(o.dataDir, { readonly: true });
      const waiting = [...new Set(ro.jobs.list({ states: ['queued', 'sent', 'waiting-busy'], limit: 100_000 }).map((j) => j.mac))];
      ro.close();
      if (waiting.length === 0) break;
      const s2 = storm(['--server', server2, '--count', String(o.phones), '--concurrency', String(o.concurrency), '--mac-base', macBase, '--ip-base', ipBase, '--only', waiting.join(',')]);
      await s2.done;
      collect(s2.lines);
      const results = s2.lines.filter((l): l is Extract<StormLine, { e: 'result' }> => l.e === 'result');
      recovery.phones += results.length;
      recovery.ok += results.filter((r) => r.ok).length;
      recovery.failed += results.filter((r) => !r.ok).length;
      recovery.failures.push(...results.filter((r) => !r.ok).map((r) => `${r.mac}: ${r.error}`));
    }
    const final = check(o.dataDir, sent, answers200);
    const heldJobFinal = heldJob(o.dataDir, heldJobId);
    const serveExit = await serve2.kill('SIGTERM');
    serve2 = null;
    return {
      firstRound: { code: first.code, stderr: first.stderr.slice(0, 2000) },
      jobsQueued,
      heldMac,
      storm: stormFacts,
      afterCrash,
      heldJobAfterCrash,
      afterRestart,
      heldJobAfterRestart,
      recovery,
      final,
      heldJobFinal,
      serveExit,
    };
  } finally {
    await serve1.kill('SIGKILL');
    await serve2?.kill('SIGKILL');
  }
}

/** Whether `ipBase` + count stays on the loopback network. */
export function loopbackRange(ipBase: string, count: number): boolean {
  return ipBase.startsWith('127.') && ipAt(ipBase, count - 1).startsWith('127.');
}
