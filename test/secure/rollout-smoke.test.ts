/**
 * Smoke test of the rollout benchmark (bench/rollout-bench.ts, `npm run bench`) with 3 phones:
 * serve, the phones on their own loopback addresses, `bootstrap --all --pin auto --sheet`, the
 * service's own contact-me, PIN entry from the sheet and the first mutual-TLS contact all work
 * together. Counts only; the times are the benchmark's business.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runRolloutBench } from '../../bench/rollout-bench';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();

describe('rollout benchmark, 3 phones', () => {
  it('takes every phone to Secure Mode with PINs, one progress line per phone', async () => {
    const r = await runRolloutBench({ phones: 3, workDir: newDir(), log: () => {}, ipBase: '127.0.181.1' });
    expect(r.failures).toEqual([]);
    expect(r.phones).toBe(3);
    expect(r.progress.lines).toBe(3);
    expect(r.steps.totalS).toBeGreaterThan(0);
    expect(r.dialogsS.last).toBeGreaterThanOrEqual(r.dialogsS.first);
    expect(r.ratio).toBeGreaterThan(0);
    expect(r.pool).toEqual({ size: 0, readyAtStart: 0, fillS: 0, leftOfStart: 0 });
    expect(r.serviceLoop?.maxMs).toBeGreaterThan(0);
    // The loop monitor's second measure: the main thread's own CPU per 10 ms tick (Linux), and GC pauses.
    expect(r.serviceLoop?.cpu?.intervals).toBeGreaterThan(0);
    expect(r.serviceLoop?.cpu?.maxMs).toBeGreaterThan(0);
    expect(r.serviceLoop?.gc?.heapUsedMB).toBeGreaterThan(0);
    expect(r.cpu.rolloutS).toBeGreaterThan(0);
  }, 180_000);

  it('with a key pool: the idle service fills it first, bootstrap --all takes those keys, the phones go secure with them', async () => {
    const workDir = newDir();
    const r = await runRolloutBench({ phones: 3, workDir, log: () => {}, ipBase: '127.0.182.1', pool: 2, poolIdleMs: 3000 });
    expect(r.failures).toEqual([]);
    expect(r.progress.lines).toBe(3);
    expect(r.pool.readyAtStart).toBe(2);
    // Both pool keys went into certificates (the third phone's key was made on the spot): neither is
    // left. The idle service may have made new ones in a pause of the rollout (a loaded machine).
    expect(r.pool.leftOfStart).toBe(0);
    const left = readdirSync(join(workDir, 'rollout-pool', 'data', 'pki', 'key-pool')).filter((n) => n.endsWith('.key.sealed'));
    expect(left.length).toBeLessThanOrEqual(2);
  }, 180_000);
});
