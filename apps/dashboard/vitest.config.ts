import { defineConfig } from 'vitest/config';

// Generous timeouts: tests wait for outcomes ("eventually"), they never assert speed. The
// browser tests start Chromium, which is slow on a 2-core machine shared with other suites.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    retry: 0,
    testTimeout: 90_000,
    hookTimeout: 90_000,
    // one file at a time: several Chromiums at once would only compete for the same 2 cores
    fileParallelism: false,
  },
});
