import { defineConfig } from 'vitest/config';

// One shared RabbitMQ: test files run one after another so their timings do not disturb each
// other. No retries: a flaky test is a bug to fix, not to hide.
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
