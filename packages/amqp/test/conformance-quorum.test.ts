import { describeConformance } from '@ilkkun/conformance';
import { afterAll } from 'vitest';
import { AMQP_URL, deleteTestQueues, openTracked, testPrefix, withParams } from './helpers.js';

// The same suite on quorum queues (replicated, delivery limit; no priorities in RabbitMQ 3.10,
// so those cases are reported unsupported).
const url = withParams(AMQP_URL, { prefix: testPrefix('confq'), queueType: 'quorum' });

describeConformance({ name: 'amqp (quorum)', url, create: () => openTracked(url) });

afterAll(() => deleteTestQueues(), 60_000);
