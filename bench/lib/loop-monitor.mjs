// Preloaded into a process under test (node --import bench/lib/loop-monitor.mjs …): its event loop's
// delay, without a line of product code. SIGUSR2 once starts a window (histogram reset), SIGUSR2
// again writes the window's delays as JSON to $BENCH_LOOP_FILE and starts the next.
//
// Two measures. monitorEventLoopDelay: how late a 10 ms timer fires, in wall time — the truth on a
// quiet machine, but on a loaded one a thread waiting for a core looks the same as a blocked loop.
// So also: the CPU time the main thread itself ran between two ticks of a 10 ms interval
// (/proc/thread-self/schedstat, Linux), which waiting for a core does not inflate — the longest
// synchronous stretch between two ticks is at most that (a blocking system call such as fsync is
// in the wall time only). The worst intervals are listed with their process.hrtime (µs, the clock
// of node --cpu-prof's profiles) so bench/lib/profile-blocks.ts can show what ran in them.
// Garbage-collection pauses of the main thread are counted too (they are in both measures).
import { readFileSync, writeFileSync } from 'node:fs';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

const file = process.env.BENCH_LOOP_FILE;
const WORST = 12;

/** ns the calling thread has run on a CPU, or null off Linux. */
function threadRunNs() {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]);
  } catch {
    return null;
  }
}

if (file) {
  const h = monitorEventLoopDelay({ resolution: 10 });
  let open = false;
  let windows = 0;
  // Per 10 ms interval: wall and main-thread CPU since the previous tick.
  let lastWall = 0n;
  let lastRun = threadRunNs();
  let cpu = { count: 0, over50: 0, over20: 0, worst: [] };
  let gc = { count: 0, totalMs: 0, maxMs: 0, over20: 0, kinds: {} };
  const GC_KINDS = { 1: 'scavenge', 2: 'mark-compact', 4: 'incremental', 8: 'weak callbacks' };
  new PerformanceObserver((list) => {
    if (!open) return;
    for (const e of list.getEntries()) {
      gc.count++;
      gc.totalMs += e.duration;
      gc.maxMs = Math.max(gc.maxMs, e.duration);
      if (e.duration > 20) gc.over20++;
      const kind = GC_KINDS[e.detail?.kind] ?? String(e.detail?.kind);
      const k = (gc.kinds[kind] ??= { count: 0, maxMs: 0 });
      k.count++;
      k.maxMs = Math.max(k.maxMs, Math.round(e.duration * 10) / 10);
    }
  }).observe({ entryTypes: ['gc'] });
  const tick = setInterval(() => {
    const now = process.hrtime.bigint();
    const run = threadRunNs();
    if (open && lastRun !== null && run !== null && lastWall !== 0n) {
      const cpuMs = (run - lastRun) / 1e6;
      const wallMs = Number(now - lastWall) / 1e6;
      cpu.count++;
      if (cpuMs > 50) cpu.over50++;
      if (cpuMs > 20) cpu.over20++;
      if (cpu.worst.length < WORST || cpuMs > cpu.worst.at(-1).cpuMs) {
        cpu.worst.push({ cpuMs: Math.round(cpuMs * 10) / 10, wallMs: Math.round(wallMs * 10) / 10, endUs: Number(now / 1000n) });
        cpu.worst.sort((a, b) => b.cpuMs - a.cpuMs);
        cpu.worst.length = Math.min(cpu.worst.length, WORST);
      }
    }
    lastWall = now;
    lastRun = run;
  }, 10);
  tick.unref();
  process.on('SIGUSR2', () => {
    if (open) {
      const over = (ms) => {
        let rank = 0;
        for (const [p, v] of h.percentiles) if (v <= ms * 1e6) rank = p / 100;
        return Math.round(h.count * (1 - rank));
      };
      writeFileSync(
        `${file}.${windows++}`,
        JSON.stringify({
          maxMs: h.max / 1e6, p99Ms: h.percentile(99) / 1e6, p50Ms: h.percentile(50) / 1e6, samples: h.count, over50: over(50),
          ...(cpu.count > 0 ? { cpu: { maxMs: cpu.worst[0]?.cpuMs ?? 0, intervals: cpu.count, over20: cpu.over20, over50: cpu.over50, worst: cpu.worst } } : {}),
          gc: { ...gc, totalMs: Math.round(gc.totalMs), maxMs: Math.round(gc.maxMs * 10) / 10, heapUsedMB: Math.round(process.memoryUsage().heapUsed / 1e6) },
        }),
      );
    }
    h.reset();
    h.enable();
    cpu = { count: 0, over50: 0, over20: 0, worst: [] };
    gc = { count: 0, totalMs: 0, maxMs: 0, over20: 0, kinds: {} };
    open = true;
  });
}
