/** The CLI's entry point: bin/localdls runs its build (out/cli/localdls.mjs); `npm run cli` runs it from the sources. */
import { applyServiceHeapSettings } from '../app/heap-settings';
import { main } from './main';

const args = process.argv.slice(2);
// This process is the service's: its heap is kept near what is live (app/heap-settings.ts).
if (args[0] === 'serve') applyServiceHeapSettings();
process.exitCode = await main(args);
