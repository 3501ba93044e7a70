// Preloaded into a process under test (node --import bench/lib/loop-monitor.mjs …): its event loop's
// delay, without a line of product code. SIGUSR2 once starts a window (histogram reset), SIGUSR2
// again writes the window's delays as JSON to $BENCH_LOOP_FILE and starts the next.
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const file = process.env.BENCH_LOOP_FILE;
if (file) {
  const h = monitorEventLoopDelay({ resolution: 10 });
  let open = false;
  let windows = 0;
  process.on('SIGUSR2', () => {
    if (open) {
      const over = (ms) => {
        let rank = 0;
        for (const [p, v] of h.percentiles) if (v <= ms * 1e6) rank = p / 100;
        return Math.round(h.count * (1 - rank));
      };
      writeFileSync(`${file}.${windows++}`, JSON.stringify({ maxMs: h.max / 1e6, p99Ms: h.percentile(99) / 1e6, p50Ms: h.percentile(50) / 1e6, samples: h.count, over50: over(50) }));
    }
    h.reset();
    h.enable();
    open = true;
  });
}
