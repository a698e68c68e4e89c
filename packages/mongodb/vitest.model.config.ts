import { defineConfig } from 'vitest/config';

// `pnpm test:model` needs no server. It is a model check of the claim protocol, NOT evidence
// about any real server (the project's tests run against real servers only: that is `pnpm test`):
// - unit: the protocol on an in-process store with FerretDB v1's non-atomic semantics;
// - wire-double: the test/server files over the real `mongodb` driver against a loopback
//   Mongo-wire test double with the same semantics (second OS process included).
// `pnpm test` runs the test/server files against a real MongoDB/FerretDB (vitest.config.ts).
export default defineConfig({
  test: {
    retry: 0,
    fileParallelism: false,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/*.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'wire-double',
          include: ['test/server/*.test.ts'],
          globalSetup: ['test/wire-double/setup.ts'],
        },
      },
    ],
  },
});
