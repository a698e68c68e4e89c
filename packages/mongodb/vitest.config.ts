import { defineConfig } from 'vitest/config';

// `pnpm test`: against a real MongoDB or FerretDB at ILKKUN_MONGODB_URL
// (default mongodb://127.0.0.1:27017/ilkkun_test; start FerretDB with
// `bash scripts/services/start.sh postgres ferretdb`). Fails when the server is not reachable.
export default defineConfig({
  test: {
    include: ['test/server/*.test.ts'],
    globalSetup: ['test/server/global-setup.ts'],
    retry: 0,
    fileParallelism: false,
    testTimeout: 30_000,
  },
});
