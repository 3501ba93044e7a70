/**
 * V8 heap settings of a process that runs the service: `localdls serve` (cli/run.ts) and the
 * desktop app's main process (src/main/index.ts) apply them at start, so every user gets them.
 *
 * Why (issue #14, peak RSS under 200 MB in a boot storm of 1000 phones, 200 at a time): the live
 * heap of the service stays small (about 30 MB in the storm), but V8 sizes its heap for throughput:
 * after each full collection it lets the old generation grow to up to four times what survived,
 * so garbage of the exchanges in flight piled up to a heap of about 90 MB before the next one. A
 * growing factor of 1.5 keeps the heap near what is live; the collections it adds are short on a
 * heap this size (measured: no more CPU per exchange, see bench/report.ts).
 *
 * Set at run time (v8.setFlagsFromString), which V8 honours for this flag because it reads it at
 * every collection; the same flag given on node's command line (or in Electron's --js-flags)
 * wins: then nothing is changed. (Node does not take it in NODE_OPTIONS.)
 */
import { setFlagsFromString } from 'node:v8';

/** The old generation may grow to (1 + this / 100) × what survived the last full collection. */
export const HEAP_GROWING_PERCENT = 50;

/** The flags applied, unless the user gave the same flag: `--heap-growing-percent=50`. */
export const SERVICE_HEAP_FLAGS: readonly string[] = [`--heap-growing-percent=${HEAP_GROWING_PERCENT}`];

/**
 * Applies SERVICE_HEAP_FLAGS to this process (call once, before the service starts). Returns the
 * flags applied; a flag the user set on the command line (process.execArgv, process.argv for
 * Electron's --js-flags) is left as the user set it.
 */
export function applyServiceHeapSettings(given: string = userFlags()): string[] {
  const applied: string[] = [];
  for (const flag of SERVICE_HEAP_FLAGS) {
    const name = flag.slice(2, flag.indexOf('='));
    // V8 accepts either spelling of a flag name.
    if (given.includes(name) || given.includes(name.replaceAll('-', '_'))) continue;
    setFlagsFromString(flag);
    applied.push(flag);
  }
  return applied;
}

function userFlags(): string {
  return [...process.execArgv, ...process.argv.filter((a) => a.startsWith('--js-flags'))].join(' ');
}
