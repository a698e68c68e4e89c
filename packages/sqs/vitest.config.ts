import { defineConfig } from 'vitest/config';

// One shared fauxqs: test files run one after another so their timings do not disturb each other.
// Dummy credentials: the emulator accepts any, and the SDK must never look further (a real
// profile or instance role) — the tests also refuse any endpoint that is not loopback.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    retry: 0,
    fileParallelism: false,
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    env: {
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_SESSION_TOKEN: '',
      AWS_PROFILE: '',
      AWS_REGION: 'us-east-1',
      AWS_EC2_METADATA_DISABLED: 'true',
      // the SDK warns once per process that its 2027 releases need Node 22; noise in test output
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  },
});
