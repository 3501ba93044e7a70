/**
 * A site into Secure Mode, end to end (issue #18): `phones` simulated phones on their own loopback
 * addresses (bench/rollout-phones.ts, own process) register with `localdls serve`; then
 * `localdls bootstrap --all --pin auto --sheet pins.csv` runs while the service sends contact-me
 * by itself (its default) to each phone whose job is queued, the phones take their bootstrap and
 * open their PIN dialog; once the sheet is written the PINs are typed (bench/rollout-phones.ts:
 * ten people at a time) and each phone calls back over mutual TLS. The time from the first start-up to
 * the last phone's first mutual-TLS interaction is compared with the key-generation floor: as many
 * RSA-2048 key pairs as phones, made with node:crypto's asynchronous generateKeyPair on every core,
 * measured in the same run right before and right after the rollout (the ratio uses their mean,
 * so a change of load during the run shows in the two floors).
 */
import { spawn } from 'node:child_process';
import { generateKeyPair } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { BIN, Child, ROOT, scriptArgs } from './lib/child';
import { sampleProc } from './lib/proc';

export interface RolloutResult {
  phones: number;
  cores: number;
  /** Key-generation floor before / after the rollout, seconds. */
  floorS: { before: number; after: number };
  /**
   * The same in CPU seconds, and the CPU the rollout's processes (service, bootstrap command,
   * phones) used inside the measured time: on a machine that other work keeps busy, wall times
   * stretch unevenly, CPU seconds much less, so cpuRatio (rollout CPU / mean floor CPU) shows what
   * the rollout costs even when the wall-clock ratio is spoiled.
   */
  cpu: { floorBeforeS: number; floorAfterS: number; rolloutS: number; ratio: number };
  /**
   * Seconds of each step and the total: registration, `bootstrap --all`, then until every PIN
   * dialog is open (contact-me and the bootstrap WriteItems, mostly while bootstrap still ran),
   * then until every phone has made its first mutual-TLS interaction.
   */
  steps: { registerS: number; bootstrapS: number; contactS: number; secureS: number; totalS: number };
  /** When the first and the last PIN dialog opened, seconds from the start. */
  dialogsS: { first: number; last: number };
  ratio: number;
  /** `bootstrap --all` progress lines: how many, when the first came, the longest gap between two. */
  progress: { lines: number; firstAfterS: number; longestGapS: number; p95GapS: number };
  /** CPU seconds of the service and of the bootstrap command. */
  cpuS: { serve: number; bootstrap: number };
  /**
   * Where the CPU went, step by step (register, bootstrap, contact, secure): seconds of CPU of the
   * service, the bootstrap command and the phones' process, and of the whole machine (/proc/stat,
   * every process, so other agents' work shows as the difference), against the step's wall time.
   */
  phases: PhaseCpu[];
  /**
   * The service's key pool (src/main/pki/key-pool.ts): its size (0 = off), how many keys were ready
   * when the clock started, and how long the idle service took to make them before it (from
   * `listening`, including the idle wait before it starts). Those keys are not in the rollout's time.
   * `leftOfStart`: how many of those are still in the pool at the end (keys the idle service makes
   * during the rollout, in a pause of it, are not counted).
   */
  pool: { size: number; readyAtStart: number; fillS: number; leftOfStart?: number };
  /**
   * The service's event loop from the first start-up to the last secure contact
   * (bench/lib/loop-monitor.mjs preloaded into \`serve\`, 10 ms resolution): longest and p99 delay,
   * and how many samples were over 50 ms; and the main thread's CPU per 10 ms tick. Null when it
   * could not be read.
   */
  serviceLoop: {
    maxMs: number;
    p99Ms: number;
    over50: number;
    /**
     * The main thread's own CPU time between two ticks of a 10 ms timer (loop-monitor.mjs): the
     * longest synchronous stretch is at most this, and waiting for a core does not inflate it, so
     * it stays readable on a loaded machine. `worst`: the largest intervals, ending at `endUs`
     * (process.hrtime, the clock of the --cpu-prof profiles).
     */
    cpu?: { maxMs: number; intervals: number; over20: number; over50: number; worst: Array<{ cpuMs: number; wallMs: number; endUs: number }> };
    /** The main thread's garbage-collection pauses in the window (PerformanceObserver 'gc'). */
    gc?: { count: number; totalMs: number; maxMs: number; over20: number; kinds: Record<string, { count: number; maxMs: number }>; heapUsedMB: number };
  } | null;
  /** First mutual-TLS contacts that failed (overload) and were tried again by the phone. */
  retries: number;
  failures: string[];
}

export interface PhaseCpu {
  step: 'register' | 'bootstrap' | 'contact' | 'secure';
  wallS: number;
  serveS: number;
  bootstrapS: number;
  phonesS: number;
  machineS: number;
}

/** CPU seconds the whole machine has spent busy so far (all cores, /proc/stat). */
function machineBusyS(): number {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return (fields.slice(0, 8).reduce((a, b) => a + b, 0) - idle) / 100;
  } catch {
    return 0;
  }
}

/**
 * ROLLOUT_CPU_PROF=DIR: the service, the bootstrap command and the phones run under node --cpu-prof
 * and write their profiles to DIR (for the breakdown in docs/benchmarks.md). ROLLOUT_CPU_PROF_ONLY=serve
 * (or bootstrap, phones) profiles just that one. Beware: the profiler's SIGPROF cuts SQLite's busy-wait sleeps
 * short, so a profiled process gives up on a locked database after a fraction of its 5 s
 * busy_timeout; a profiled `bootstrap --all` may then fail with "database is locked" while the
 * service commits. To look at the service's event loop, profile the service only.
 */
const PROFILE_DIR = process.env.ROLLOUT_CPU_PROF;
const PROFILE_ONLY = process.env.ROLLOUT_CPU_PROF_ONLY;
/** `run`: added to the profile's name (the cold run's and the key pool's run's profiles are two). */
const profileArgs = (name: string, run = ''): string[] => {
  if (!PROFILE_DIR || (PROFILE_ONLY && PROFILE_ONLY !== name)) return [];
  // The phones run from TypeScript: tsx's loader thread writes a profile too, so they keep Node's
  // own names (pid and thread in them) instead of one that the loader's would overwrite.
  return ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR, ...(name === 'phones' ? [] : ['--cpu-prof-name', `${name}${run}.cpuprofile`])];
};

const keygen = promisify(generateKeyPair);
const PASSPHRASE = 'rollout benchmark passphrase, not a secret';

/** CPU seconds this process spent in the last keygenFloor (its thread pool included). */
let lastFloorCpuS = 0;

/** `count` RSA-2048 key pairs, `availableParallelism()` at a time; seconds. */
export async function keygenFloor(count: number): Promise<number> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let next = 0;
  const worker = async () => {
    while (next++ < count) await keygen('rsa', { modulusLength: 2048 });
  };
  await Promise.all(Array.from({ length: Math.min(availableParallelism(), count) }, worker));
  const cpu = process.cpuUsage(cpu0);
  lastFloorCpuS = (cpu.user + cpu.system) / 1e6;
  return (performance.now() - t0) / 1000;
}

interface CommandRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** ms since the command started at which each stderr line arrived. */
  lineTimes: number[];
  cpuMs: number;
}

/** Runs `bin/localdls …args` to its end. */
function localdls(args: string[], env: NodeJS.ProcessEnv, timeoutMs: number, profileName = ''): Promise<CommandRun> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [...profileArgs('bootstrap', profileName), ...scriptArgs(BIN), ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const run: CommandRun = { code: null, stdout: '', stderr: '', lineTimes: [], cpuMs: 0 };
    child.stdout.on('data', (d: Buffer) => (run.stdout += d.toString()));
    createInterface({ input: child.stderr }).on('line', (line) => {
      run.lineTimes.push(performance.now() - t0);
      run.stderr += `${line}\n`;
    });
    // CPU time of the command, sampled until it ends (children's CPU is not in /proc/pid/stat).
    const sampler = setInterval(() => {
      const s = child.pid ? sampleProc(child.pid) : null;
      if (s) run.cpuMs = s.cpuMs;
    }, 100);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(sampler);
      clearTimeout(timer);
      run.code = code;
      resolve(run);
    });
  });
}

/** How long the phones may go without progress (another PIN dialog, another phone secure) before the run fails. */
const STALL_MS = 120_000;

/**
 * Waits for `done` from the phones' process as long as `progress` events keep coming; fails with
 * the phones' own failure reports when they stop for STALL_MS (a loaded machine is slow, not stuck).
 */
async function whileProgressing(phones: Child, progress: string, done: string, count: number): Promise<Record<string, unknown>> {
  let seen = -1;
  let since = Date.now();
  for (;;) {
    const finished = phones.events.find((e) => e.event === done);
    if (finished) return finished;
    const n = phones.events.filter((e) => e.event === progress).length;
    if (n !== seen) {
      seen = n;
      since = Date.now();
    } else if (Date.now() - since > STALL_MS) {
      const failures = phones.events.filter((e) => e.event === 'failure').map((e) => `${String(e.mac)}: ${String(e.error)}`);
      throw new Error(`the phones stopped at ${n} of ${count} "${progress}" for ${STALL_MS / 1000} s; failures: ${failures.slice(0, 10).join('; ') || 'none reported'}; stderr: ${phones.stderr.slice(-1000)}`);
    }
    if (phones.process.exitCode !== null) throw new Error(`the phones' process exited (${phones.process.exitCode}): ${phones.stderr.slice(-1000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Ready keys in a data directory's key pool (key-pool.ts names them `<bits>-<32 hex>.key.sealed`). */
function poolKeyNames(dataDir: string): string[] {
  try {
    return readdirSync(join(dataDir, 'pki', 'key-pool')).filter((n) => /^2048-[0-9a-f]{32}\.key\.sealed$/.test(n));
  } catch {
    return [];
  }
}

const poolKeys = (dataDir: string): number => poolKeyNames(dataDir).length;

/**
 * `pool`: the service's key pool size (LOCALDLS_KEY_POOL_SIZE). With a pool the clock starts once
 * the idle service has filled it, as on a site where the service ran before the rollout; 0 = a
 * cold start, every key made inside the measured time.
 */
export async function runRolloutBench(options: { phones: number; workDir: string; log: (line: string) => void; ipBase?: string; pool?: number; poolIdleMs?: number }): Promise<RolloutResult> {
  const { phones, log } = options;
  const pool = options.pool ?? 0;
  const dir = join(options.workDir, pool > 0 ? 'rollout-pool' : 'rollout');
  rmSync(dir, { recursive: true, force: true });
  const dataDir = join(dir, 'data');
  const sheet = join(dir, 'pins.csv');
  mkdirSync(dataDir, { recursive: true });
  const env: NodeJS.ProcessEnv = { ...process.env, LOCALDLS_KEY_PASSPHRASE: PASSPHRASE, LOCALDLS_KEY_POOL_SIZE: String(pool) };
  delete env.LOCALDLS_KEY_PASSPHRASE_FILE;
  // The clock starts once the pool is full, so how long the service waited before filling it is not measured.
  if (options.poolIdleMs !== undefined) env.LOCALDLS_KEY_POOL_IDLE_MS = String(options.poolIdleMs);
  const failures: string[] = [];

  const before = await keygenFloor(phones);
  const floorBeforeCpuS = lastFloorCpuS;
  log(`  key-generation floor: ${phones} keys in ${before.toFixed(1)} s on ${availableParallelism()} cores`);

  const loopFile = join(dir, 'serve-loop');
  const serve = new Child(BIN, ['serve', '--data-dir', dataDir, '--host', '127.0.0.1', '--port', '0', '--secure-port', '0'], {
    env: { ...env, BENCH_LOOP_FILE: loopFile },
    nodeArgs: [...profileArgs('serve', pool > 0 ? '-pool' : '-cold'), '--import', join(ROOT, 'bench/lib/loop-monitor.mjs')],
  });
  let phoneProcess: Child | undefined;
  try {
    const listening = await serve.waitFor('listening', 60_000);
    const server = `https://127.0.0.1:${listening.port as number}`;
    let fillS = 0;
    if (pool > 0) {
      const f0 = performance.now();
      while (poolKeys(dataDir) < pool) {
        if (performance.now() - f0 > 600_000) throw new Error(`the idle service made only ${poolKeys(dataDir)} of ${pool} pool keys in 10 minutes`);
        await new Promise((r) => setTimeout(r, 200));
      }
      fillS = (performance.now() - f0) / 1000;
      log(`  key pool: ${pool} keys made by the idle service in ${fillS.toFixed(1)} s (before the clock)`);
    }
    const atStart = poolKeyNames(dataDir);
    const readyAtStart = atStart.length;
    const serveCpu0 = sampleProc(serve.pid)?.cpuMs ?? 0;
    serve.process.kill('SIGUSR2'); // the event-loop window starts with the clock

    const t0 = performance.now();
    const wallT0 = Date.now(); // the phones' process reports wall-clock times
    const since = () => (performance.now() - t0) / 1000;
    phoneProcess = new Child(join(ROOT, 'bench/rollout-phones.ts'), [JSON.stringify({ server, count: phones, macBase: '00:1A:E8:70:00:00', ipBase: options.ipBase ?? '127.0.180.1' })], {
      nodeArgs: profileArgs('phones'),
    });
    const phonesPid = phoneProcess.pid;
    // CPU of each process and of the machine at each step's end.
    const marks: Array<{ at: number; serve: number; phones: number; machine: number }> = [];
    const mark = () => marks.push({ at: since(), serve: sampleProc(serve.pid)?.cpuMs ?? 0, phones: sampleProc(phonesPid)?.cpuMs ?? 0, machine: machineBusyS() });
    mark();
    marks[0]!.serve = serveCpu0;
    const registered = await phoneProcess.waitFor('registered', 120_000);
    if (registered.ok !== phones) throw new Error(`only ${String(registered.ok)} of ${phones} phones registered`);
    const registerS = since();
    mark();

    const boot = await localdls(['bootstrap', '--data-dir', dataDir, '--all', '--pin', 'auto', '--sheet', sheet], env, 600_000, pool > 0 ? '-pool' : '-cold');
    if (boot.code !== 0) throw new Error(`bootstrap --all exited ${boot.code}: ${boot.stderr.slice(-1000)}`);
    const bootstrapS = since() - registerS;
    mark();
    const progressTimes = boot.stderr.split('\n').flatMap((l, i) => (/^\[\d+\/\d+\] /.test(l) ? [boot.lineTimes[i]!] : []));
    if (progressTimes.length !== phones) failures.push(`bootstrap --all printed ${progressTimes.length} progress lines for ${phones} phones`);
    const gaps = progressTimes.slice(1).map((t, i) => (t - progressTimes[i]!) / 1000).sort((a, b) => a - b);
    const rows = readFileSync(sheet, 'utf8').trim().split('\n').length - 1;
    if (rows !== phones) throw new Error(`the PIN sheet has ${rows} rows for ${phones} phones`);
    phoneProcess.send(`pins ${sheet}`);

    const dialogs = await whileProgressing(phoneProcess, 'dialogs', 'all-dialogs', phones);
    const contactS = Math.max(0, since() - registerS - bootstrapS);
    mark();

    await whileProgressing(phoneProcess, 'secure', 'all-secure', phones);
    const totalS = since();
    serve.process.kill('SIGUSR2');
    const secureS = totalS - registerS - bootstrapS - contactS;
    mark();
    const steps = ['register', 'bootstrap', 'contact', 'secure'] as const;
    const phases: PhaseCpu[] = steps.map((step, i) => ({
      step,
      wallS: marks[i + 1]!.at - marks[i]!.at,
      serveS: (marks[i + 1]!.serve - marks[i]!.serve) / 1000,
      phonesS: (marks[i + 1]!.phones - marks[i]!.phones) / 1000,
      bootstrapS: step === 'bootstrap' ? boot.cpuMs / 1000 : 0,
      machineS: marks[i + 1]!.machine - marks[i]!.machine,
    }));
    const serveCpu = (sampleProc(serve.pid)?.cpuMs ?? 0) - serveCpu0;
    // A failed first mutual-TLS contact that a retry made good is counted as a retry, not a failure.
    for (const e of phoneProcess.events.filter((e) => e.event === 'failure' && !String(e.error).startsWith('secure interaction:'))) failures.push(`${String(e.mac)}: ${String(e.error)}`);
    const retries = phoneProcess.events.filter((e) => e.event === 'retry').length;
    let serviceLoop: RolloutResult['serviceLoop'] = null;
    for (let waited = 0; serviceLoop === null && waited < 5000; waited += 100) {
      try {
        serviceLoop = JSON.parse(readFileSync(`${loopFile}.0`, 'utf8')) as NonNullable<RolloutResult['serviceLoop']>;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    await phoneProcess.stop();
    phoneProcess = undefined;
    await serve.stop();

    const after = await keygenFloor(phones);
    const rolloutCpuS = phases.reduce((sum, p) => sum + p.serveS + p.bootstrapS + p.phonesS, 0);
    log(`  rollout ${totalS.toFixed(1)} s (register ${registerS.toFixed(1)}, bootstrap ${bootstrapS.toFixed(1)}, contact ${contactS.toFixed(1)}, PIN to mutual TLS ${secureS.toFixed(1)}); floor after ${after.toFixed(1)} s`);
    if (serviceLoop) {
      const c = serviceLoop.cpu;
      log(`  service loop: longest delay ${serviceLoop.maxMs.toFixed(0)} ms, p99 ${serviceLoop.p99Ms.toFixed(0)} ms${c ? `; main-thread CPU between two 10 ms ticks at most ${c.maxMs.toFixed(0)} ms (${c.over20} of ${c.intervals} ticks over 20 ms, ${c.over50} over 50 ms)` : ''}${serviceLoop.gc ? `; GC pauses: longest ${serviceLoop.gc.maxMs} ms, ${serviceLoop.gc.over20} over 20 ms` : ''}`);
    }
    const atEnd = new Set(poolKeyNames(dataDir));
    return {
      phones,
      cores: availableParallelism(),
      floorS: { before, after },
      steps: { registerS, bootstrapS, contactS, secureS, totalS },
      dialogsS: { first: ((dialogs.first as number) - wallT0) / 1000, last: ((dialogs.last as number) - wallT0) / 1000 },
      ratio: totalS / ((before + after) / 2),
      cpu: { floorBeforeS: floorBeforeCpuS, floorAfterS: lastFloorCpuS, rolloutS: rolloutCpuS, ratio: rolloutCpuS / ((floorBeforeCpuS + lastFloorCpuS) / 2) },
      progress: {
        lines: progressTimes.length,
        firstAfterS: (progressTimes[0] ?? 0) / 1000,
        longestGapS: gaps.at(-1) ?? 0,
        p95GapS: gaps[Math.floor(gaps.length * 0.95)] ?? 0,
      },
      cpuS: { serve: serveCpu / 1000, bootstrap: boot.cpuMs / 1000 },
      phases,
      pool: { size: pool, readyAtStart, fillS, leftOfStart: atStart.filter((n) => atEnd.has(n)).length },
      serviceLoop,
      retries,
      failures: failures.slice(0, 20),
    };
  } finally {
    await phoneProcess?.stop();
    await serve.stop();
  }
}

// Standalone: node --import tsx bench/rollout-bench.ts [phones] [workDir] [pool size]
if (import.meta.url === `file://${process.argv[1]}`) {
  const phones = Number(process.argv[2] ?? 200);
  const workDir = process.argv[3] ?? mkdtempSync(join(tmpdir(), 'localdls-rollout-'));
  try {
    const r = await runRolloutBench({ phones, workDir, log: (l) => console.error(l), pool: Number(process.argv[4] ?? 0) });
    console.log(JSON.stringify(r, null, 1));
  } finally {
    if (process.argv[3] === undefined) rmSync(workDir, { recursive: true, force: true });
  }
}
