/**
 * `npm run fuzz`: mutates real simulator messages and generates random ones, and feeds them
 * (a) to the codec's parseWorkpointMessage, in worker processes, and (b) over HTTPS to a real
 * Service on 127.0.0.1 while simulated phones keep doing full start-up interactions with it.
 * Invariants: see test/hardening/fuzz/oracle.ts; plus bounded memory, every request answered in
 * time, every request recorded, every phone interaction successful.
 *
 *   npm run fuzz                                   # 1,000,000 cases, 50,000 of them over the socket
 *   npm run fuzz -- --seed 0x1A2B3C4D              # the same cases again
 *   npm run fuzz -- --seed 0x1A2B3C4D --replay p#123456   # one case: what it is, what happens
 *   npm run fuzz -- --cases 20000 --socket-cases 2000 --workers 1
 *
 * Loopback only. Exit status 0 when every case passed, 1 otherwise, 2 on bad arguments.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Service } from '../src/main/app/service';
import { DEFAULT_LIMITS } from '../src/main/net/wpi-listener';
import type { ChildMessage, ChildTask } from '../test/hardening/fuzz/child';
import { buildCorpus } from '../test/hardening/fuzz/corpus';
import { CaseMaker } from '../test/hardening/fuzz/mutate';
import { checkAnswer, expectationFor, Violation } from '../test/hardening/fuzz/oracle';
import { parseSeed, randomSeed } from '../test/hardening/fuzz/rng';
import { memoryNow, MB, type Failure, type PhonesSummary } from '../test/hardening/fuzz/runner';
import BetterSqlite3 from 'better-sqlite3';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CHILD = join(ROOT, 'test/hardening/fuzz/child.ts');

const HELP = `Usage: npm run fuzz -- [options]

  --seed S              run seed (decimal or 0x hex; default: random, printed)
  --cases N             total cases (default 1000000), of which
  --socket-cases N      go over HTTPS to a real service (default 50000); the rest go to the parser
  --workers W           parser processes (default 2)
  --concurrency C       socket requests in flight (default 8)
  --phones P            simulated phones served meanwhile (default 3)
  --timeout S           seconds a request may take before it counts as a hang (default 30)
  --heap-growth MB      allowed growth of the service's heap after warm-up (default 64)
  --rss-growth MB       allowed growth of the service process's RSS after warm-up (default 384)
  --only parser|socket  run one half only
  --replay ID           run one case (p#N parser, s#N socket) and show it
  --dump FILE           with --replay: write the case's bytes to FILE
  --failures DIR        where failing inputs are written (default fuzz/failures)
  --data-dir DIR        the service's data directory (default: a temporary one, removed)`;

interface Options {
  seed: number;
  cases: number;
  socketCases: number;
  workers: number;
  concurrency: number;
  phones: number;
  timeoutMs: number;
  heapGrowthMB: number;
  rssGrowthMB: number;
  only: 'parser' | 'socket' | null;
  replay: string | null;
  dump: string | null;
  failuresDir: string;
  dataDir: string | null;
}

function options(argv: string[]): Options | 'help' {
  const { values: v } = parseArgs({
    args: argv,
    strict: true,
    options: {
      seed: { type: 'string' }, cases: { type: 'string' }, 'socket-cases': { type: 'string' }, workers: { type: 'string' },
      concurrency: { type: 'string' }, phones: { type: 'string' }, timeout: { type: 'string' }, 'heap-growth': { type: 'string' },
      'rss-growth': { type: 'string' }, only: { type: 'string' }, replay: { type: 'string' }, dump: { type: 'string' },
      failures: { type: 'string' }, 'data-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (v.help) return 'help';
  const int = (name: string, raw: string | undefined, fallback: number, min: number) => {
    if (raw === undefined) return fallback;
    const n = Number(raw.replace(/_/g, ''));
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be a whole number >= ${min}, not "${raw}"`);
    return n;
  };
  const cases = int('cases', v.cases, 1_000_000, 0);
  const socketCases = int('socket-cases', v['socket-cases'], Math.min(50_000, cases), 0);
  if (socketCases > cases) throw new Error('--socket-cases cannot exceed --cases');
  if (v.only !== undefined && v.only !== 'parser' && v.only !== 'socket') throw new Error('--only must be parser or socket');
  if (v.replay !== undefined && !/^[ps]#\d+$/.test(v.replay)) throw new Error('--replay takes a case id such as p#123 or s#45');
  if (v.replay !== undefined && v.seed === undefined) throw new Error('--replay needs the --seed of the run');
  return {
    seed: v.seed === undefined ? randomSeed() : parseSeed(v.seed),
    cases,
    socketCases,
    workers: int('workers', v.workers, 2, 1),
    concurrency: int('concurrency', v.concurrency, 8, 1),
    phones: int('phones', v.phones, 3, 1),
    timeoutMs: int('timeout', v.timeout, 30, 1) * 1000,
    heapGrowthMB: int('heap-growth', v['heap-growth'], 64, 1),
    rssGrowthMB: int('rss-growth', v['rss-growth'], 384, 1),
    only: (v.only as Options['only']) ?? null,
    replay: v.replay ?? null,
    dump: v.dump ?? null,
    failuresDir: resolve(v.failures ?? join(ROOT, 'fuzz/failures')),
    dataDir: v['data-dir'] ? resolve(v['data-dir']) : null,
  };
}

const hex = (n: number) => `0x${n.toString(16).toUpperCase().padStart(8, '0')}`;
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const log = (line: string) => console.log(line);

class Tally {
  readonly failures: Failure[] = [];
  constructor(readonly o: Options) {}

  failure(f: Failure): void {
    this.failures.push(f);
    if (this.failures.length <= 20) {
      log(`FAIL ${f.id} [${f.invariant}] ${f.detail.slice(0, 300)}`);
      log(`     ops: ${f.ops.join(' | ').slice(0, 300)}`);
      log(`     reproduce: npm run fuzz -- --seed ${hex(this.o.seed)} --replay ${f.id}`);
    }
    try {
      mkdirSync(this.o.failuresDir, { recursive: true });
      const base = join(this.o.failuresDir, `${hex(this.o.seed)}-${f.id.replace('#', '')}`);
      writeFileSync(`${base}.bin`, Buffer.from(f.input, 'base64'));
      writeFileSync(`${base}.json`, `${JSON.stringify({ seed: hex(this.o.seed), ...f, input: undefined }, null, 2)}\n`);
    } catch {
      // the report above is what matters
    }
  }

  /** A failure of the run as a whole (memory, phones, recording), not of one case. */
  global(invariant: string, detail: string): void {
    this.failure({ id: 'run', invariant, detail, ops: [], input: '', inputBytes: 0 });
  }
}

function startChild(task: ChildTask, onMessage: (m: ChildMessage) => void): { child: ChildProcess; done: Promise<void> } {
  const child = fork(CHILD, [], { execArgv: ['--import', 'tsx', '--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  child.on('message', (m: ChildMessage) => onMessage(m));
  child.send(task);
  const done = new Promise<void>((resolvePromise, reject) => {
    child.once('exit', (code, signal) => (code === 0 ? resolvePromise() : reject(new Error(`fuzz worker exited with ${signal ?? `status ${code}`}`))));
  });
  return { child, done };
}

async function parserPhase(o: Options, tally: Tally, count: number): Promise<number> {
  if (count === 0) return 0;
  const started = Date.now();
  const workers = Math.min(o.workers, count);
  const done = new Array<number>(workers).fill(0);
  const failed = new Array<number>(workers).fill(0);
  let lastPrint = 0;
  const print = (force = false) => {
    const now = Date.now();
    if (!force && now - lastPrint < 5000) return;
    lastPrint = now;
    const d = done.reduce((a, b) => a + b, 0);
    const rate = d / Math.max(0.001, (now - started) / 1000);
    log(`parser  ${d.toLocaleString('en')}/${count.toLocaleString('en')} (${((100 * d) / count).toFixed(1)}%)  ${failed.reduce((a, b) => a + b, 0)} failed  ${Math.round(rate)}/s  ${secs(now - started)}`);
  };
  const runs = Array.from({ length: workers }, (_, w) =>
    startChild({ mode: 'parser', seed: o.seed, from: w, to: count, stride: workers, maxBytes: DEFAULT_LIMITS.maxBodyBytes }, (m) => {
      if (m.type === 'progress' || m.type === 'done') {
        done[w] = m.progress.done;
        failed[w] = m.progress.failed;
        print();
      } else if (m.type === 'failure') tally.failure(m.failure);
      else if (m.type === 'memory' && m.endHeapMB - m.baselineHeapMB > 32) {
        tally.global('memory', `parser worker ${w}: heap grew from ${m.baselineHeapMB} MB to ${m.endHeapMB} MB`);
      } else if (m.type === 'error') tally.global('crash', `parser worker ${w}: ${m.message}`);
    }).done.catch((err: Error) => tally.global('crash', `parser worker ${w}: ${err.message}`)),
  );
  await Promise.all(runs);
  print(true);
  return done.reduce((a, b) => a + b, 0);
}

async function socketPhase(o: Options, tally: Tally, count: number): Promise<number> {
  if (count === 0) return 0;
  const started = Date.now();
  const dataDir = o.dataDir ?? mkdtempSync(join(tmpdir(), 'localdls-fuzz-'));
  const errors: string[] = [];
  const service = new Service({ dataDir, host: '127.0.0.1', port: 0, autoContact: false, onError: (e) => errors.push(e.message) });
  const { port } = await service.start();
  log(`socket  service on https://127.0.0.1:${port}, data in ${dataDir}; ${o.phones} phones served meanwhile`);
  let done = 0;
  let failed = 0;
  let baseline: { rss: number; heapUsed: number } | null = null;
  let peakRss = 0;
  let phones: PhonesSummary | null = null;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 250);
  let lastPrint = 0;
  try {
    const { done: finished } = startChild(
      { mode: 'socket', seed: o.seed, from: 0, to: count, port, concurrency: o.concurrency, phones: o.phones, timeoutMs: o.timeoutMs, maxBodyBytes: DEFAULT_LIMITS.maxBodyBytes },
      (m) => {
        if (m.type === 'progress' || m.type === 'done') {
          done = m.progress.done;
          failed = m.progress.failed;
          // Warm-up: caches, JIT, the first sessions. From here on growth must stay bounded.
          if (baseline === null && done >= count * 0.1) {
            baseline = memoryNow();
            peakRss = baseline.rss;
          }
          const now = Date.now();
          if (now - lastPrint >= 5000 || m.type === 'done') {
            lastPrint = now;
            const mem = process.memoryUsage();
            log(`socket  ${done.toLocaleString('en')}/${count.toLocaleString('en')} (${((100 * done) / count).toFixed(1)}%)  ${failed} failed  ${Math.round(done / Math.max(0.001, (now - started) / 1000))}/s  service heap ${Math.round(mem.heapUsed / MB)} MB rss ${Math.round(mem.rss / MB)} MB  ${secs(now - started)}`);
          }
        } else if (m.type === 'failure') tally.failure(m.failure);
        else if (m.type === 'phones') phones = m.summary;
        else if (m.type === 'error') tally.global('crash', `socket worker: ${m.message}`);
      },
    );
    await finished.catch((err: Error) => tally.global('crash', `socket worker: ${err.message}`));
    clearInterval(sampler);
    const end = memoryNow();
    const base = baseline ?? end;
    const heapGrowth = (end.heapUsed - base.heapUsed) / MB;
    const rssGrowth = (Math.max(peakRss, end.rss) - base.rss) / MB;
    log(`socket  service memory after warm-up: heap ${Math.round(base.heapUsed / MB)} -> ${Math.round(end.heapUsed / MB)} MB, rss ${Math.round(base.rss / MB)} -> peak ${Math.round(Math.max(peakRss, end.rss) / MB)} MB; sessions open ${service.handler.engine.sessions.size}`);
    if (heapGrowth > o.heapGrowthMB) tally.global('memory', `service heap grew ${heapGrowth.toFixed(1)} MB after warm-up (limit ${o.heapGrowthMB} MB)`);
    if (rssGrowth > o.rssGrowthMB) tally.global('memory', `service RSS grew ${rssGrowth.toFixed(1)} MB after warm-up (limit ${o.rssGrowthMB} MB)`);
    const p = phones as PhonesSummary | null;
    if (!p) tally.global('phones', 'the phones did not report');
    else {
      log(`socket  phones: ${p.ok}/${p.interactions} full start-up interactions ok, ${p.exchanges} exchanges`);
      if (p.failures.length) tally.global('phones', `${p.failures.length} phone interactions failed, first: ${p.failures[0]!.mac}: ${p.failures[0]!.error}`);
      if (p.interactions < o.phones) tally.global('phones', `only ${p.interactions} phone interactions`);
    }
    // Every fuzz request (all from 127.0.0.1; the phones use 127.0.0.20+) was recorded once.
    const raw = new BetterSqlite3(join(service.store.dataDir, 'localdls.sqlite'), { readonly: true });
    const recorded = (raw.prepare(`SELECT count(*) AS n FROM exchanges WHERE peer_address = '127.0.0.1'`).get() as { n: number }).n;
    raw.close();
    if (recorded !== done) tally.global('recording', `${done} requests sent, ${recorded} recorded`);
    if (errors.length) tally.global('service-error', `${errors.length} errors reported by the service, first: ${errors[0]}`);
    const integrity = service.store.diagnostics(true).integrity;
    if (integrity !== 'ok') tally.global('store', `integrity_check: ${String(integrity)}`);
  } finally {
    clearInterval(sampler);
    await service.stop();
    if (!o.dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
  return done;
}

async function replay(o: Options): Promise<number> {
  const [stream, n] = o.replay!.split('#') as ['p' | 's', string];
  const maker = new CaseMaker(buildCorpus(), o.seed, stream === 's' ? { http: true, maxBytes: DEFAULT_LIMITS.maxBodyBytes + 16 * 1024 } : { maxBytes: DEFAULT_LIMITS.maxBodyBytes });
  const c = maker.make(stream, Number(n));
  log(`case ${c.id} of seed ${hex(o.seed)}: ${c.bytes.length} bytes`);
  log(`ops: ${c.ops.join(' | ')}`);
  if (c.http) log(`http: ${JSON.stringify(c.http)}`);
  log(`start: ${JSON.stringify(c.bytes.subarray(0, 300).toString('latin1'))}`);
  if (o.dump) {
    writeFileSync(o.dump, c.bytes);
    log(`bytes written to ${o.dump}`);
  }
  let ok = true;
  try {
    const e = expectationFor(c.bytes, stream === 's' ? c.http : undefined, DEFAULT_LIMITS.maxBodyBytes);
    log(`parser: ${e.http ? `HTTP ${e.http} before parsing` : e.parsed!.ok ? `parsed, nonce ${e.parsed!.message.nonce}, reason ${e.parsed!.message.reason}, ${e.parsed!.message.items.length} items` : `refused: ${e.parsed!.error.message}`}`);
    if (stream === 's') {
      const dataDir = mkdtempSync(join(tmpdir(), 'localdls-fuzz-replay-'));
      const service = new Service({ dataDir, host: '127.0.0.1', port: 0, autoContact: false });
      const { port } = await service.start();
      try {
        const https = await import('node:https');
        const answer = await new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }>((res, rej) => {
          const headers: Record<string, string> = { 'Content-Length': String(c.bytes.length), Connection: 'close' };
          if (c.http?.contentType !== null) headers['Content-Type'] = c.http?.contentType ?? 'text/xml';
          if (c.http?.cookie && c.http.cookie !== 'lane') headers.Cookie = c.http.cookie;
          const req = https.request({ host: '127.0.0.1', port, method: c.http?.method ?? 'POST', path: c.http?.path ?? '/DeploymentService/LoginService', headers, rejectUnauthorized: false, agent: false }, (r) => {
            const chunks: Buffer[] = [];
            r.on('data', (d: Buffer) => chunks.push(d));
            r.on('end', () => res({ status: r.statusCode ?? 0, headers: r.headers, body: Buffer.concat(chunks) }));
          });
          req.on('error', rej);
          req.setTimeout(o.timeoutMs, () => req.destroy(new Error('no answer in time')));
          req.end(c.bytes);
        });
        log(`service: HTTP ${answer.status} ${JSON.stringify(answer.body.subarray(0, 300).toString('utf8'))}`);
        checkAnswer(e, answer);
      } finally {
        await service.stop();
        rmSync(dataDir, { recursive: true, force: true });
      }
    }
    log('invariants hold for this case (a socket case may also depend on the session state the cases before it built)');
  } catch (err) {
    ok = false;
    log(err instanceof Violation ? `VIOLATION ${err.message}` : `CRASH ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  }
  return ok ? 0 : 1;
}

async function main(): Promise<number> {
  let o: Options | 'help';
  try {
    o = options(process.argv.slice(2));
  } catch (err) {
    console.error(`fuzz: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (o === 'help') {
    log(HELP);
    return 0;
  }
  if (o.replay) return replay(o);
  const parserCases = o.only === 'socket' ? 0 : o.cases - o.socketCases;
  const socketCases = o.only === 'parser' ? 0 : o.socketCases;
  log(`fuzz: seed ${hex(o.seed)}; ${parserCases.toLocaleString('en')} parser cases on ${o.workers} workers, ${socketCases.toLocaleString('en')} socket cases (concurrency ${o.concurrency}, ${o.phones} phones)`);
  log(`      reproduce a case: npm run fuzz -- --seed ${hex(o.seed)} --replay p#N (or s#N)`);
  const started = Date.now();
  const tally = new Tally(o);
  const p = await parserPhase(o, tally, parserCases);
  const s = await socketPhase(o, tally, socketCases);
  const total = p + s;
  const failedCases = new Set(tally.failures.filter((f) => f.id !== 'run').map((f) => f.id)).size;
  const runFailures = tally.failures.filter((f) => f.id === 'run').length;
  if (tally.failures.length > 20) log(`… ${tally.failures.length - 20} more failures, inputs in ${o.failuresDir}`);
  if (total < parserCases + socketCases) tally.global('incomplete', `${total} of ${parserCases + socketCases} cases ran`);
  log(`fuzz: seed ${hex(o.seed)}: ${total.toLocaleString('en')} cases (parser ${p.toLocaleString('en')}, socket ${s.toLocaleString('en')}) in ${secs(Date.now() - started)}`);
  log(`${total - failedCases} passed, ${failedCases} failed${runFailures ? `, ${runFailures} run-level failures` : ''}`);
  return failedCases === 0 && tally.failures.length === 0 ? 0 : 1;
}

process.exitCode = await main();
