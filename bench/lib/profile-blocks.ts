/**
 * Long synchronous tasks in a V8 .cpuprofile (node --cpu-prof): every maximal run of consecutive
 * non-idle samples is one stretch of the main thread that never returned to the event loop, so its
 * length is how long the loop was blocked by it. For each of the longest: when (ms from the
 * profile's start), how long, how many samples (a run whose time is much longer than its samples ×
 * the interval was waiting for a core, not working), and where its time went (self time by
 * function, and the outermost frames of our own code it ran under).
 *
 *   node --import tsx bench/lib/profile-blocks.ts FILE.cpuprofile [top=15] [minMs=20] [fromMs] [toMs] [ms|cpuMs]
 *   node --import tsx bench/lib/profile-blocks.ts SERVE.cpuprofile WORK/rollout/serve-loop.0
 *     (the second form: what ran in the worst intervals the loop monitor reported)
 *
 * A run of the first form spans several turns when the loop polls without waiting (setImmediate
 * pending): then the second form, whose intervals the loop monitor bounded by its timer, is the one
 * to read.
 */
import { readFileSync } from 'node:fs';

import type { CpuProfile, ProfileNode } from './profile';

export interface Block {
  /** ms from the profile's start. */
  atMs: number;
  ms: number;
  samples: number;
  /**
   * The block's time counting each sample for at most two sampling intervals: what the thread
   * itself ran, without the time it waited for a core or inside a blocking system call (fsync).
   */
  cpuMs: number;
  /** Self time by function, ms, largest first. */
  self: Array<[string, number]>;
  /** Our own code's outermost frames (src/ or out/), ms, largest first. */
  entry: Array<[string, number]>;
}

const IDLE = new Set(['(idle)']);

function frameName(n: ProfileNode): string {
  const { functionName, url, lineNumber } = n.callFrame;
  const file = url.replace(/^file:\/\//, '').replace(/^.*\/(src|out|node_modules)\//, '$1/');
  return url ? `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}` : functionName || '(anonymous)';
}

export function longBlocks(
  path: string,
  options: { top?: number; minMs?: number; fromMs?: number; toMs?: number; by?: 'ms' | 'cpuMs' } = {},
): { blocks: Block[]; busyMs: number; totalMs: number; intervalUs: number } {
  const p = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const sorted = [...p.timeDeltas].sort((a, b) => a - b);
  const intervalUs = sorted[Math.floor(sorted.length / 2)] ?? 1000;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const blocks: Block[] = [];
  let t = 0;
  let busy = 0;
  let run: { at: number; ms: number; ids: Array<[number, number]> } | null = null;
  const close = () => {
    if (run && run.ms >= (options.minMs ?? 20)) {
      const self = new Map<string, number>();
      const entry = new Map<string, number>();
      for (const [id, us] of run.ids) {
        const node = byId.get(id)!;
        self.set(frameName(node), (self.get(frameName(node)) ?? 0) + us / 1000);
        // The outermost frame of our own code on this sample's stack.
        let outer: ProfileNode | undefined;
        for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
          const n = byId.get(cur)!;
          if (/\/(src|out)\//.test(n.callFrame.url)) outer = n;
        }
        const key = outer ? frameName(outer) : '(no frame of ours)';
        entry.set(key, (entry.get(key) ?? 0) + us / 1000);
      }
      const sort = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, 6);
      const cpuUs = run.ids.reduce((sum, [, us]) => sum + Math.min(us, 2 * intervalUs), 0);
      blocks.push({ atMs: run.at / 1000, ms: run.ms / 1000, samples: run.ids.length, cpuMs: cpuUs / 1000, self: sort(self), entry: sort(entry) });
    }
    run = null;
  };
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0;
    // A sample stands for the time until the next one.
    const us = p.timeDeltas[i + 1] ?? 0;
    const node = byId.get(p.samples[i]!)!;
    const inWindow = (options.fromMs === undefined || t / 1000 >= options.fromMs) && (options.toMs === undefined || t / 1000 <= options.toMs);
    if (!inWindow || IDLE.has(node.callFrame.functionName)) {
      close();
      continue;
    }
    busy += us;
    run ??= { at: t, ms: 0, ids: [] };
    run.ms += us;
    run.ids.push([node.id, us]);
  }
  close();
  const by = options.by ?? 'ms';
  blocks.sort((a, b) => b[by] - a[by]);
  return { blocks: blocks.slice(0, options.top ?? 15), busyMs: busy / 1000, totalMs: (p.endTime - p.startTime) / 1000, intervalUs };
}

/**
 * What the main thread ran between `fromUs` and `toUs` (the profile's clock: process.hrtime in
 * µs, as bench/lib/loop-monitor.mjs reports its worst intervals): self time by function and the
 * outermost frames of our own code, and how much of it was idle.
 */
export function windowBreakdown(path: string, fromUs: number, toUs: number): { busyMs: number; idleMs: number; self: Array<[string, number]>; entry: Array<[string, number]> } {
  const p = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const entry = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  let t = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0;
    if (t < fromUs || t > toUs) continue;
    const us = Math.min(p.timeDeltas[i + 1] ?? 0, toUs - t);
    const node = byId.get(p.samples[i]!)!;
    if (IDLE.has(node.callFrame.functionName)) {
      idle += us;
      continue;
    }
    busy += us;
    self.set(frameName(node), (self.get(frameName(node)) ?? 0) + us / 1000);
    let outer: ProfileNode | undefined;
    for (let cur: number | undefined = node.id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur)!;
      if (/\/(src|out)\//.test(n.callFrame.url)) outer = n;
    }
    const key = outer ? frameName(outer) : '(no frame of ours)';
    entry.set(key, (entry.get(key) ?? 0) + us / 1000);
  }
  const sort = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, 8);
  return { busyMs: busy / 1000, idleMs: idle / 1000, self: sort(self), entry: sort(entry) };
}

if (import.meta.url === `file://${process.argv[1]}` && process.argv[3]?.includes('loop')) {
  // profile-blocks.ts SERVE.cpuprofile SERVE-LOOP-FILE: what ran in the loop monitor's worst intervals.
  const [file, loopFile] = process.argv.slice(2) as [string, string];
  const loop = JSON.parse(readFileSync(loopFile, 'utf8')) as { cpu?: { worst: Array<{ cpuMs: number; wallMs: number; endUs: number }> } };
  for (const w of loop.cpu?.worst ?? []) {
    const b = windowBreakdown(file, w.endUs - w.wallMs * 1000, w.endUs);
    console.log(`\ninterval of ${w.wallMs} ms wall, ${w.cpuMs} ms main-thread CPU, ending at ${w.endUs} µs: profile ${b.busyMs.toFixed(1)} ms busy, ${b.idleMs.toFixed(1)} ms idle`);
    for (const [name, ms] of b.entry) console.log(`   under ${ms.toFixed(1).padStart(6)} ms  ${name}`);
    for (const [name, ms] of b.self) console.log(`   self  ${ms.toFixed(1).padStart(6)} ms  ${name}`);
  }
} else if (import.meta.url === `file://${process.argv[1]}`) {
  const [file, top, minMs, fromMs, toMs, by] = process.argv.slice(2);
  if (!file) throw new Error('usage: profile-blocks.ts FILE.cpuprofile [top] [minMs] [fromMs] [toMs]');
  const r = longBlocks(file, { top: Number(top ?? 15), minMs: Number(minMs ?? 20), ...(fromMs ? { fromMs: Number(fromMs) } : {}), ...(toMs ? { toMs: Number(toMs) } : {}), by: by === 'cpuMs' ? 'cpuMs' : 'ms' });
  console.log(`${file}: ${(r.totalMs / 1000).toFixed(1)} s profiled, ${(r.busyMs / 1000).toFixed(1)} s busy, sampling every ${r.intervalUs} µs`);
  for (const b of r.blocks) {
    console.log(`\n${b.ms.toFixed(1)} ms (${b.cpuMs.toFixed(1)} ms running) at ${(b.atMs / 1000).toFixed(2)} s, ${b.samples} samples`);
    for (const [name, ms] of b.entry) console.log(`   under ${ms.toFixed(1).padStart(6)} ms  ${name}`);
    for (const [name, ms] of b.self) console.log(`   self  ${ms.toFixed(1).padStart(6)} ms  ${name}`);
  }
}
