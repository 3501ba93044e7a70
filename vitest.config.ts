import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Network tests bind loopback ports and spawn CLI processes; two cores, so keep parallelism modest.
    maxWorkers: 2,
  },
});
