import { describeConformance } from '@ilkkun/conformance';
import { afterAll } from 'vitest';
import { createBackend } from '../src/index.js';
import { deletePrefix, SQS_URL, testPrefix, withParams } from './helpers.js';

// A prefix of this run's own: runs never collide, and every SQS queue is deleted afterwards.
// The URL carries it, so the suite's second OS process (core's openBackend(url)) uses it too.
const prefix = testPrefix('conf');
const url = withParams(SQS_URL, { prefix });

describeConformance({ name: 'sqs', url, create: () => createBackend(url) });

afterAll(async () => {
  await deletePrefix(prefix);
}, 60_000);
