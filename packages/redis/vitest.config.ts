import { defineConfig } from 'vitest/config';

// One shared Redis server: test files run one after another so their timings and
// INFO counters do not disturb each other.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    retry: 0,
    fileParallelism: false,
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
