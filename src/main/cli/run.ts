/** The CLI's entry point: bin/localdls runs its build (out/cli/localdls.mjs); `npm run cli` runs it from the sources. */
import { applyServiceHeapSettings } from '../app/heap-settings';
import { runInBackground } from './background-priority';
import { main } from './main';

const args = process.argv.slice(2);
// This process is the service's: its heap is kept near what is live (app/heap-settings.ts).
if (args[0] === 'serve') applyServiceHeapSettings();
// This process is bootstrap's: key generation on every core is background work next to a running
// service (background-priority.ts). Here, not in the command: main() run inside another process
// (the tests) must not lower that process's priority for good.
if (args[0] === 'bootstrap') runInBackground();
process.exitCode = await main(args);
