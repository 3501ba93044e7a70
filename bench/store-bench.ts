/**
 * The store at 1,000,000 exchanges: the service's write path (Store.commit of captured, realistic
 * exchanges) on an empty and on a full database, the traffic list's queries exactly as the UI runs
 * them (src/main/store/exchange-filter.ts), the database size, and `localdls traffic purge`.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import BetterSqlite3 from 'better-sqlite3';
import type { ExchangeFilter } from '../src/shared/api';
import { Store } from '../src/main/store';
import { macAt } from '../src/phone';
import { BIN, Child } from './lib/child';
import { percentile, spread } from './lib/stats';
import { fillExchanges, replayCommits, type CapturedCommit } from './lib/traffic';

export interface StoreBenchOptions {
  rows: number;
  /** The captured sample (captureSample with SAMPLE) and the store it was captured in. */
  sample: { dir: string; commits: CapturedCommit[] };
  workDir: string;
  /** Repetitions of the queries that use an index, and of those that scan. */
  reps: { indexed: number; scan: number };
  log: (line: string) => void;
  /**
   * Run on the full store (its index caught up) before the purge shrinks it: section 5 measures the
   * traffic view on it through the browser.
   */
  atFullSize?: (dir: string, exchanges: number) => Promise<void>;
}

export interface QueryRow {
  name: string;
  filter: ExchangeFilter;
  /** The UI's reload: a page of 2000 with counts. */
  p50Ms: number;
  p95Ms: number;
  /** The same page without counts (loading older rows, catching up; the first rows on screen). */
  pageOnlyP50Ms: number;
  pageOnlyP95Ms: number;
  matched: number;
  /** `matched` is a lower bound (free text counts so far). */
  matchedAtLeast: boolean;
  reps: number;
}

export interface StoreBenchResult {
  sample: { commits: number; exchangesPerInteraction: number; avgRequestBytes: number; avgResponseBytes: number; mix: string };
  insert: { emptyPerS: number; fullPerS: number; bulkRowsPerS: number; normalSyncPerS: number };
  fill: { rows: number; interactions: number; ms: number };
  size: { bytes: number; walBytes: number; bytesPerRow: number };
  queries: QueryRow[];
  /** The free-text index (store/search-index.ts) built for the filled store, and free text with rows not indexed yet. */
  search: {
    /** The background loop as the service runs it, for a few seconds: its pace and what it does to the event loop. */
    loop: { seconds: number; rows: number; delayP50Ms: number; delayP99Ms: number; delayMaxMs: number };
    /** Catching up at full speed (SearchIndex.catchUp). */
    catchUp: { rows: number; seconds: number; perS: number; cpuMsPerExchange: number };
    /** Database size growth per indexed exchange. */
    bytesPerExchange: number;
    /** Free-text queries again with this many newest exchanges not indexed yet (scanned). */
    tailRows: number;
    tailQueries: QueryRow[];
  };
  purge: {
    olderThan: string;
    exchanges: number;
    interactions: number;
    seconds: number;
    rowsPerS: number;
    returnedBytes: number;
    freeBytes: number;
    sizeAfterBytes: number;
    /** A second connection committing an exchange every 100 ms during the purge. */
    concurrentCommits: { n: number; p50Ms: number; maxMs: number };
  };
}

export const SAMPLE = { phones: 40, shortPerBoot: 24, maxItems: 320 };
/** The filled exchanges span this many days; the purge keeps the last 30 (two thirds). */
export const SPAN_DAYS = 45;

export async function runStoreBench(options: StoreBenchOptions): Promise<StoreBenchResult> {
  const { workDir, log } = options;
  const { dir: sampleDir, commits } = options.sample;
  const sample = sampleOf(commits);

  // The write path on an empty store, as the service runs it (WAL, synchronous FULL).
  const empty = new Store(join(workDir, 'store-empty'));
  const emptyRun = replayCommits(empty, commits);
  empty.close();
  const normal = new Store(join(workDir, 'store-empty'), { synchronous: 'NORMAL' });
  const normalRun = replayCommits(normal, commits);
  normal.close();
  log(`  Store.commit on an empty store: ${perS(emptyRun)}/s (synchronous FULL), ${perS(normalRun)}/s with synchronous NORMAL`);

  const bigDir = join(workDir, 'store-1m');
  // The index is built below, measured; the service builds it in the background.
  const big = new Store(bigDir, { searchIndexing: 'manual' });
  const sampleDb = new BetterSqlite3(join(sampleDir, 'localdls.sqlite'), { readonly: true });
  log(`  filling ${options.rows} exchanges (bulk copies of the sample, ${SPAN_DAYS} days, 500 devices) …`);
  // Bulk fill through a second connection, as test data (the Store offers no raw inserts).
  const bigDb = new BetterSqlite3(join(bigDir, 'localdls.sqlite'));
  const fill = fillExchanges(bigDb, sampleDb, options.rows, { spanDays: SPAN_DAYS, devices: 500, now: Date.now() });
  sampleDb.close();
  bigDb.pragma('wal_checkpoint(TRUNCATE)');
  log(`  filled in ${(fill.ms / 1000).toFixed(1)} s (${Math.round(fill.rows / (fill.ms / 1000))} rows/s)`);
  const fullRun = replayCommits(big, commits);
  log(`  Store.commit on the full store: ${perS(fullRun)}/s`);
  bigDb.pragma('wal_checkpoint(TRUNCATE)');
  bigDb.close();
  const dbFile = join(bigDir, 'localdls.sqlite');
  const size = { bytes: statSync(dbFile).size, walBytes: fileSize(`${dbFile}-wal`), bytesPerRow: 0 };
  size.bytesPerRow = size.bytes / big.exchangeCount();

  const search = await buildIndex(big, dbFile, log);
  const queries = runQueries(big, options, log, CASES);
  // The newest exchanges not indexed yet, as right after a boot storm: searches scan them.
  const tail = replayCommits(big, commits);
  log(`  ${tail.commits} newer exchanges not indexed yet:`);
  const tailQueries = runQueries(big, options, log, CASES.filter((c) => c.filter.text !== undefined));
  const exchanges = big.exchangeCount();
  big.close();
  await options.atFullSize?.(bigDir, exchanges);

  const purge = await runPurge(bigDir, commits, log);
  return {
    sample,
    insert: { emptyPerS: perS(emptyRun), fullPerS: perS(fullRun), bulkRowsPerS: fill.rows / (fill.ms / 1000), normalSyncPerS: perS(normalRun) },
    fill: { rows: fill.rows, interactions: fill.interactions, ms: fill.ms },
    size,
    queries,
    search: { ...search, tailRows: tail.commits, tailQueries },
    purge,
  };
}

/** Builds the free-text index of the filled store: first as the service's background loop does, then at full speed. */
async function buildIndex(store: Store, dbFile: string, log: (line: string) => void): Promise<Omit<StoreBenchResult['search'], 'tailRows' | 'tailQueries'>> {
  const before = checkpointedSize(dbFile);
  const delay = monitorEventLoopDelay({ resolution: 1 });
  // A timer every 10 ms stands in for the phones: it runs between the loop's slices.
  const ticker = setInterval(() => undefined, 10);
  delay.enable();
  const loopStart = store.search.indexedThrough();
  const t0 = performance.now();
  store.search.start();
  await sleep(3000);
  store.search.stop();
  delay.disable();
  clearInterval(ticker);
  const loopSeconds = (performance.now() - t0) / 1000;
  const loop = {
    seconds: loopSeconds, rows: store.search.indexedThrough() - loopStart,
    delayP50Ms: delay.percentile(50) / 1e6, delayP99Ms: delay.percentile(99) / 1e6, delayMaxMs: delay.max / 1e6,
  };
  log(`  search index, background loop: ${loop.rows} exchanges in ${loopSeconds.toFixed(1)} s; event-loop delay p50 ${loop.delayP50Ms.toFixed(1)} ms, p99 ${loop.delayP99Ms.toFixed(1)} ms, max ${loop.delayMaxMs.toFixed(1)} ms`);
  const cpu0 = process.cpuUsage();
  const t1 = performance.now();
  const rows = store.search.catchUp();
  const seconds = (performance.now() - t1) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const catchUp = { rows, seconds, perS: rows / Math.max(0.001, seconds), cpuMsPerExchange: (cpu.user + cpu.system) / 1000 / Math.max(1, rows) };
  const after = checkpointedSize(dbFile);
  const bytesPerExchange = (after - before) / Math.max(1, loop.rows + rows);
  log(`  search index, catching up: ${rows} exchanges in ${seconds.toFixed(1)} s (${Math.round(catchUp.perS)}/s, ${catchUp.cpuMsPerExchange.toFixed(2)} ms CPU each); ${Math.round(bytesPerExchange)} bytes per exchange`);
  return { loop, catchUp, bytesPerExchange };
}

function sampleOf(commits: CapturedCommit[]): StoreBenchResult['sample'] {
  const interactions = commits.filter((c) => c.changes.openInteraction).length;
  const req = commits.reduce((n, c) => n + c.record.requestBody.length, 0) / commits.length;
  const res = commits.reduce((n, c) => n + c.record.responseBody.length, 0) / commits.length;
  return {
    commits: commits.length,
    exchangesPerInteraction: commits.length / Math.max(1, interactions),
    avgRequestBytes: Math.round(req),
    avgResponseBytes: Math.round(res),
    mix: `per phone: 1 start-up → ReadAllItems → reply in 2 fragments (maxItems ${SAMPLE.maxItems}) → CleanUp, then ${SAMPLE.shortPerBoot} start-ups → CleanUp`,
  };
}

const CASES: { name: string; filter: ExchangeFilter; scan: boolean }[] = [
  { name: 'newest page (no filter)', filter: {}, scan: false },
  { name: 'device (whole MAC)', filter: { device: macAt('00:1A:E8:40:00:00', 7) }, scan: false },
  { name: 'action = ReadAllItems', filter: { action: 'ReadAllItems' }, scan: false },
  { name: 'reason = start-up', filter: { reason: 'start-up' }, scan: false },
  { name: 'status = accepted', filter: { status: 'accepted' }, scan: false },
  { name: 'status = 4xx', filter: { status: '4xx' }, scan: false },
  { name: 'errors only', filter: { errorsOnly: true }, scan: false },
  // Free text: an item name in the big ReadAllItems replies, a phone's number (one phone of the
  // sample's 40), text in no exchange, the shortest text the index takes (three characters, found in
  // every body), free text with another filter. Shorter text is refused (exchange-filter.ts).
  { name: 'free text (bodies)', filter: { text: 'sntp-addr' }, scan: false },
  { name: 'free text, a number', filter: { text: '4989722300' + '17' }, scan: false },
  { name: 'free text, nowhere', filter: { text: 'no-such-text' }, scan: false },
  { name: 'free text, 3 characters', filter: { text: 'sip' }, scan: false },
  { name: 'free text + errors only', filter: { text: 'sntp-addr', errorsOnly: true }, scan: false },
];

function runQueries(store: Store, options: StoreBenchOptions, log: (line: string) => void, cases: typeof CASES): QueryRow[] {
  const rows: QueryRow[] = [];
  for (const c of cases) {
    const reps = c.scan ? options.reps.scan : options.reps.indexed;
    const withCounts: number[] = [];
    const pageOnly: number[] = [];
    let matched = 0;
    let matchedAtLeast = false;
    const budget = performance.now() + 30_000;
    for (let r = 0; r < reps && (r === 0 || performance.now() < budget); r++) {
      let t = performance.now();
      const list = store.listExchanges(c.filter, { limit: 2000, counts: true });
      withCounts.push(performance.now() - t);
      matched = list.matched ?? 0;
      matchedAtLeast = list.matchedAtLeast === true;
      t = performance.now();
      store.listExchanges(c.filter, { limit: 2000, counts: false });
      pageOnly.push(performance.now() - t);
    }
    const row = {
      name: c.name, filter: c.filter, p50Ms: percentile(withCounts, 50), p95Ms: percentile(withCounts, 95),
      pageOnlyP50Ms: percentile(pageOnly, 50), pageOnlyP95Ms: percentile(pageOnly, 95), matched, matchedAtLeast, reps: withCounts.length,
    };
    log(`  ${c.name.padEnd(26)} p50 ${row.p50Ms.toFixed(1).padStart(8)} ms  p95 ${row.p95Ms.toFixed(1).padStart(8)} ms  page only ${row.pageOnlyP50Ms.toFixed(1).padStart(7)} ms  (${matched}${matchedAtLeast ? '+' : ''} match)`);
    rows.push(row);
  }
  return rows;
}

async function runPurge(dir: string, commits: CapturedCommit[], log: (line: string) => void): Promise<StoreBenchResult['purge']> {
  const olderThan = '30d';
  log(`  localdls traffic purge --older-than ${olderThan} …`);
  // The running service, as far as the database sees it: another connection committing exchanges.
  const service = new Store(dir);
  const small = commits.filter((c) => c.record.requestBody.length < 4000);
  const latencies: number[] = [];
  let k = 0;
  const timer = setInterval(() => {
    const c = small[k++ % small.length]!;
    const t = performance.now();
    service.commit({ ...c.record, started: Date.now(), ended: Date.now() }, {}, null);
    latencies.push(performance.now() - t);
  }, 100);
  const purge = new Child(BIN, ['traffic', 'purge', '--data-dir', dir, '--older-than', olderThan, '--json']);
  let result: Record<string, unknown>;
  try {
    result = await purge.waitFor('purged', 900_000);
  } finally {
    clearInterval(timer);
    await purge.stop();
    service.close();
  }
  const seconds = result.seconds as number;
  const exchanges = result.exchanges as number;
  const s = spread(latencies);
  log(`  purged ${exchanges} exchanges in ${seconds} s; a concurrent commit every 100 ms took p50 ${s.p50.toFixed(1)} ms, max ${s.max.toFixed(0)} ms`);
  const dbFile = join(dir, 'localdls.sqlite');
  return {
    olderThan,
    exchanges,
    interactions: result.interactions as number,
    seconds,
    rowsPerS: exchanges / Math.max(0.001, seconds),
    returnedBytes: result.returnedBytes as number,
    freeBytes: result.freeBytes as number,
    sizeAfterBytes: statSync(dbFile).size,
    concurrentCommits: { n: s.n, p50Ms: s.p50, maxMs: s.max },
  };
}

function perS(run: { commits: number; ms: number }): number {
  return run.commits / (run.ms / 1000);
}

/** The database file's size with the WAL written into it (a second connection, as test data). */
function checkpointedSize(dbFile: string): number {
  const db = new BetterSqlite3(dbFile);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return statSync(dbFile).size;
}

function fileSize(path: string): number {
  return statSync(path, { throwIfNoEntry: false })?.size ?? 0;
}
