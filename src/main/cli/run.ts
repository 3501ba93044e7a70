/** The CLI's entry point: bin/localdls runs its build (out/cli/localdls.mjs); `npm run cli` runs it from the sources. */
import { main } from './main';

process.exitCode = await main(process.argv.slice(2));
