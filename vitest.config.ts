import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Network tests bind loopback ports and spawn CLI processes; two cores, so keep parallelism modest.
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'node', include: ['test/**/*.test.ts'], exclude: ['test/renderer/**'], environment: 'node' } },
      // The renderer's components and modules, in a DOM without a browser (against a fake LocalDlsApi).
      { extends: true, plugins: [react()], test: { name: 'renderer', include: ['test/renderer/**/*.test.{ts,tsx}'], environment: 'happy-dom', setupFiles: ['test/renderer/setup.ts'] } },
    ],
  },
});
