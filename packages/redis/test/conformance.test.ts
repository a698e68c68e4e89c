import { describeConformance } from '@ilkkun/conformance';
import { afterAll } from 'vitest';
import { createBackend } from '../src/index.js';
import { deletePrefix, REDIS_URL, testPrefix, withParams } from './helpers.js';

// A prefix of this run's own: runs never collide, and everything is removed afterwards.
const prefix = testPrefix('conf');
const url = withParams(REDIS_URL, { prefix });

describeConformance({ name: 'redis', url, create: () => createBackend(url) });

afterAll(() => deletePrefix(REDIS_URL, prefix));
