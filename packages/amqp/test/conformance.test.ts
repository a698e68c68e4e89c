import { describeConformance } from '@ilkkun/conformance';
import { afterAll } from 'vitest';
import { AMQP_URL, deleteTestQueues, openTracked, testPrefix, withParams } from './helpers.js';

// A prefix of this run's own: runs never collide, and every queue is deleted afterwards.
const url = withParams(AMQP_URL, { prefix: testPrefix('conf') });

describeConformance({ name: 'amqp', url, create: () => openTracked(url) });

afterAll(() => deleteTestQueues(), 60_000);
