/**
 * `bootstrap` makes a key pair per phone on every core: bulk work next to a running `serve`, which
 * must answer phones within their timeouts and keep its event loop short. With this process's
 * scheduling priority lowered, the service gets a core the moment it needs one and key generation
 * uses the rest; on an idle machine nothing gets slower.
 *
 * Linux keeps a nice value per thread (setpriority on the process id changes its main thread only),
 * so every thread there is now is lowered; threads made later (libuv's pool, started by the first
 * key generation) inherit the value of the thread that makes them. Elsewhere the process's priority
 * covers its threads. Best effort: a refusal only costs the service some latency.
 */
import { readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** The nice value bulk work runs at (19 is the lowest priority, 0 the default). */
export const BACKGROUND_NICE = 10;

/** Lowers every thread of this process to `nice` (never raises one). Returns the threads lowered. */
export function runInBackground(nice = BACKGROUND_NICE): number {
  const threads = process.platform === 'linux' ? linuxThreads() : [process.pid];
  let lowered = 0;
  for (const id of threads) {
    try {
      if (getPriority(id) >= nice) continue;
      setPriority(id, nice);
      lowered++;
    } catch {
      // The thread ended meanwhile, or the system refuses: leave it as it is.
    }
  }
  return lowered;
}

function linuxThreads(): number[] {
  try {
    return readdirSync('/proc/self/task').map(Number).filter((n) => Number.isInteger(n) && n > 0);
  } catch {
    return [process.pid];
  }
}
