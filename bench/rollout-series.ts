/**
 * Repeated rollout runs for docs/benchmarks.md (section 3b): cold and with the key pool,
 * alternating, the load average before and after each, one JSON line per run appended to OUT.
 *
 *   node --import tsx bench/rollout-series.ts OUT [pool sizes, default 0,64,0,64,0,64] [phones, default 200]
 *
 * (`npm run build:cli` first, so the service and the bootstrap command run built, as in `npm run bench`.)
 */
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runRolloutBench } from './rollout-bench';

const out = process.argv[2];
if (!out) throw new Error('usage: rollout-series.ts OUT [pool sizes] [phones]');
const plan = (process.argv[3] ?? '0,64,0,64,0,64').split(',').map(Number);
const phones = Number(process.argv[4] ?? 200);
for (const [i, pool] of plan.entries()) {
  const work = mkdtempSync(join(tmpdir(), 'localdls-rollout-series-'));
  const loadBefore = loadavg();
  try {
    const result = await runRolloutBench({ phones, workDir: work, log: (l) => console.error(`[run ${i}, pool ${pool}] ${l}`), pool });
    appendFileSync(out, `${JSON.stringify({ i, pool, loadBefore, loadAfter: loadavg(), at: new Date().toISOString(), result })}\n`);
  } catch (e) {
    appendFileSync(out, `${JSON.stringify({ i, pool, loadBefore, loadAfter: loadavg(), error: String(e) })}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
