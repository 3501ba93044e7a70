/**
 * `npm run bench`: every benchmark of docs/benchmarks.md in one run, then the document itself.
 *
 *   node --import tsx bench/run.ts [--quick] [--only storm,secure,profile,bootstrap,rollout,store,ui]
 *                                  [--out docs/benchmarks.md] [--work DIR] [--keep]
 *   node --import tsx bench/run.ts --report-only [--out …]   (the report again from bench/results/latest.json)
 *
 * Loopback only; every load is bounded in count and time; the whole run keeps to a budget
 * (17 minutes on 2 cores; configurations that would start after it are skipped and listed).
 * Results also go to bench/results/latest.json (a partial run's, --only, to bench/results/partial.json).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Child, ROOT } from './lib/child';
import { machine } from './lib/machine';
import { summarizeProfile } from './lib/profile';
import { captureSample } from './lib/traffic';
import { writeReport, type BenchResults } from './report';
import { DEFAULT_KEY_POOL_SIZE } from '../src/main/pki/key-pool';
import { runRolloutBench } from './rollout-bench';
import { runStoreBench, SAMPLE } from './store-bench';
import { runStorms } from './storm';
import { ensureRendererBuilt, measureUiOn, runUiBench } from './ui-bench';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean' }, only: { type: 'string' }, out: { type: 'string' }, work: { type: 'string' }, keep: { type: 'boolean' },
    'report-only': { type: 'boolean' },
  },
});
if (values['report-only']) {
  const out = values.out ?? join(ROOT, 'docs/benchmarks.md');
  writeReport(out, JSON.parse(readFileSync(join(ROOT, 'bench/results/latest.json'), 'utf8')) as BenchResults);
  console.log(`wrote ${out}`);
  process.exit(0);
}
// The service fills its key pool whenever it is idle (src/main/pki/key-pool.ts), which would spend a
// core while a storm's ceiling is measured beside it: off for every benchmark but the rollout, which
// sets it itself.
process.env.LOCALDLS_KEY_POOL_SIZE ??= '0';
const quick = values.quick === true;
const ALL = ['storm', 'secure', 'profile', 'bootstrap', 'rollout', 'store', 'ui'];
const only = new Set(values.only ? values.only.split(',').map((s) => s.trim()) : ALL);
for (const o of only) if (!ALL.includes(o)) throw new Error(`--only: unknown benchmark "${o}" (known: ${ALL.join(', ')})`);

const PLAN = quick
  ? { storm: { counts: [100], concurrencies: [50] }, secure: { counts: [100], concurrencies: [50] }, profile: 100, bootstrap: { devices: 20, nopin: 5 }, rollout: { phones: 20 }, store: 100_000, ui: 20_000, budgetMin: 7 }
  : { storm: { counts: [500, 100, 1000], concurrencies: [50, 200] }, secure: { counts: [500, 100], concurrencies: [50, 200] }, profile: 300, bootstrap: { devices: 200, nopin: 50 }, rollout: { phones: 200 }, store: 1_000_000, ui: 100_000, budgetMin: 17 };
const MAX_ITEMS = 320;

const started = Date.now();
const budgetEnd = started + PLAN.budgetMin * 60_000;
/** Leave this much of the budget for what must still run after a phase. */
const reserve = (min: number) => budgetEnd - min * 60_000;
const work = values.work ?? mkdtempSync(join(tmpdir(), 'localdls-bench-'));
mkdirSync(work, { recursive: true });
const log = (line: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);
const results: BenchResults = { machine: machine(), quick, plan: PLAN, maxItems: MAX_ITEMS, phases: {}, notes: [] };

async function phase<T>(name: string, run: () => Promise<T>): Promise<T | undefined> {
  if (!only.has(name)) return undefined;
  const t0 = Date.now();
  log(`${name} …`);
  try {
    const value = await run();
    results.phases[name] = { seconds: (Date.now() - t0) / 1000 };
    return value;
  } catch (e) {
    const message = e instanceof Error ? (e.stack ?? e.message) : String(e);
    log(`${name} FAILED: ${message}`);
    results.phases[name] = { seconds: (Date.now() - t0) / 1000, error: message.split('\n').slice(0, 3).join(' ') };
    return undefined;
  }
}

try {
  log(`work directory ${work}; budget ${PLAN.budgetMin} min${quick ? ' (quick)' : ''}`);
  if (only.has('ui')) {
    const build = ensureRendererBuilt();
    if (build.rebuilt) log(`built the renderer in ${(build.ms / 1000).toFixed(1)} s`);
  }

  results.storm = await phase('storm', () =>
    runStorms({ mode: 'default', ...PLAN.storm, maxItems: MAX_ITEMS, workDir: join(work, 'storm'), log, deadline: reserve(quick ? 4 : 10) }),
  );

  results.profile = await phase('profile', async () => {
    const dir = join(work, 'profile');
    const run = await runStorms({
      mode: 'default', counts: [PLAN.profile], concurrencies: [50], maxItems: MAX_ITEMS, workDir: join(work, 'storm-profile'), log,
      targets: ['service'], profile: { count: PLAN.profile, concurrency: 50, dir },
    });
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error('no .cpuprofile written');
    return { row: run.rows[0]!, summary: summarizeProfile(join(dir, file), 15, ROOT) };
  });

  results.secure = await phase('secure', () =>
    runStorms({ mode: 'secure', ...PLAN.secure, maxItems: MAX_ITEMS, workDir: join(work, 'secure'), log, deadline: reserve(quick ? 2 : 6.5) }),
  );

  results.bootstrap = await phase('bootstrap', async () => {
    const child = new Child(join(ROOT, 'bench/bootstrap-bench.ts'), [JSON.stringify({ devices: PLAN.bootstrap.devices, nopinDevices: PLAN.bootstrap.nopin, workDir: work })]);
    try {
      const r = await child.waitFor('result', 600_000);
      log(`  PIN: ${(r.pin as { perS: number }).perS.toFixed(2)} devices/s, event loop blocked at most ${(r.pin as { loopMaxMs: number }).loopMaxMs.toFixed(0)} ms`);
      return r as unknown as NonNullable<BenchResults['bootstrap']>;
    } finally {
      await child.stop();
    }
  });

  // Cold (every key made inside the measured time), then with the key pool the idle service filled before.
  results.rolloutCold = await phase('rollout', () => runRolloutBench({ phones: PLAN.rollout.phones, workDir: work, log, pool: 0 }));
  results.rollout = await phase('rollout', () => runRolloutBench({ phones: PLAN.rollout.phones, workDir: work, log, pool: Math.min(DEFAULT_KEY_POOL_SIZE, PLAN.rollout.phones) }));

  let sample: { dir: string; commits: Awaited<ReturnType<typeof captureSample>> } | undefined;
  const getSample = async () => {
    if (!sample) {
      const dir = join(work, 'sample');
      log(`  capturing the sample traffic: ${SAMPLE.phones} phones, each 1 ReadAllItems interaction and ${SAMPLE.shortPerBoot} start-ups …`);
      sample = { dir, commits: await captureSample(dir, SAMPLE) };
    }
    return sample;
  };

  results.store = await phase('store', async () => {
    const rows = Date.now() > reserve(quick ? 1 : 4) ? Math.min(PLAN.store, 200_000) : PLAN.store;
    if (rows < PLAN.store) results.notes.push(`store: ${rows} rows instead of ${PLAN.store} (time budget)`);
    return runStoreBench({
      rows, sample: await getSample(), workDir: work, reps: { indexed: 7, scan: 2 }, log,
      // The traffic view on this store too (issue #14: "the list stays usable at 1,000,000"), when the UI is measured.
      ...(only.has('ui') ? { atFullSize: async (dir: string, exchanges: number) => void (results.uiAtStoreSize = await measureUiOn(dir, exchanges, log)) } : {}),
    });
  });

  results.ui = await phase('ui', async () => runUiBench({ rows: PLAN.ui, baselineRows: 1000, sampleDir: (await getSample()).dir, workDir: work, log }));
} finally {
  results.machine.loadAverageAfter = machine().loadAverage;
  results.totalSeconds = (Date.now() - started) / 1000;
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  // A partial run's results go beside the full run's, which --report-only reads: a report made
  // again after a partial run would otherwise lose every section the partial run did not measure.
  const full = only.size === ALL.length;
  const resultsFile = join(ROOT, `bench/results/${full ? 'latest' : 'partial'}.json`);
  writeFileSync(resultsFile, `${JSON.stringify(results, null, 1)}\n`);
  const out = values.out ?? join(ROOT, 'docs/benchmarks.md');
  if (full || values.out) {
    writeReport(out, results);
    log(`wrote ${out}`);
  } else {
    log(`partial run (--only): results in ${resultsFile}; docs/benchmarks.md left as it was (pass --out to write a report)`);
  }
  log(`done in ${(results.totalSeconds / 60).toFixed(1)} min`);
  if (!values.keep && !values.work) rmSync(work, { recursive: true, force: true });
}
