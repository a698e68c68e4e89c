import { defineConfig } from 'vitest/config';

// Generous timeouts: tests wait for outcomes ("eventually"), they never assert speed.
export default defineConfig({
  test: { include: ['test/**/*.test.ts'], retry: 0, testTimeout: 30_000, hookTimeout: 30_000 },
});
