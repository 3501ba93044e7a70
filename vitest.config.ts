import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

/**
 * Tests that read what the test process itself inherited (its scheduling priority): each in a
 * fresh process, whatever the files before it did.
 */
const OWN_PROCESS = ['test/cli/background-priority.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // How long expect.poll waits for its condition (Vitest's 1 s default failed a browser test on a
    // loaded machine). A bound on waiting, not a timed assertion: it passes as soon as it holds.
    expect: { poll: { timeout: 10_000 } },
    // Network tests bind loopback ports and spawn CLI processes; two cores, so keep parallelism modest.
    maxWorkers: 2,
    // The command line built once for the tests that start it as a process (test/support/built-cli.ts).
    // The run's temporary folder, checked for what the tests leave behind (test/support/temp-root.ts).
    globalSetup: ['test/support/built-cli.ts', 'test/support/temp-root.ts'],
    projects: [
      // One module graph per worker (isolate: false): loading src/main again for each of over a
      // hundred files cost some 45 of 340 s on two cores. The files restore what they change of the
      // process (environment variables, umask; the CLI's `bootstrap` lowers its priority only when
      // it is its own process, cli/run.ts) and bind their own ports and folders.
      { extends: true, test: { name: 'node', include: ['test/**/*.test.ts'], exclude: ['test/renderer/**', ...OWN_PROCESS], environment: 'node', isolate: false } },
      { extends: true, test: { name: 'node-own-process', include: OWN_PROCESS, environment: 'node' } },
      // The renderer's components and modules, in a DOM without a browser (against a fake LocalDlsApi).
      { extends: true, plugins: [react()], test: { name: 'renderer', include: ['test/renderer/**/*.test.{ts,tsx}'], environment: 'happy-dom', setupFiles: ['test/renderer/setup.ts'] } },
    ],
  },
});
