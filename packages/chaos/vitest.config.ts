import { defineConfig } from 'vitest/config';

// Real servers, real processes, real signals: files run one after another (2 cores shared with
// the store) and nothing is retried — a lost or twice-completed job is a finding, not noise.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    retry: 0,
    fileParallelism: false,
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // dummy credentials for the SQS emulator: the SDK must never look for a real profile or role
    env: {
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_SESSION_TOKEN: '',
      AWS_PROFILE: '',
      AWS_REGION: 'us-east-1',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  },
});
