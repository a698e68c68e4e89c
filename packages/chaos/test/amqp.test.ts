import { describe, inject, it } from 'vitest';
import { SCENARIO_NAMES } from '../dist/index.js';
import { chaos, expectClean, FULL } from './chaos-case.js';

const urls = inject('chaosUrls');
const ALL = SCENARIO_NAMES.filter((s) => s !== 'server-restart');

describe('ilkkun chaos on amqp (RabbitMQ)', () => {
  it('classic queues: pool kills, a stopped worker and connection cuts lose nothing', async () => {
    const mine = ['kill-workers-process', 'stop-worker', 'cut-connections'] as const;
    expectClean(await chaos(urls.amqp, mine), FULL ? ALL : mine);
  });

  it('quorum queues: inline pool kills and a silent link lose nothing', async () => {
    const mine = ['kill-workers-inline', 'silent-connection'] as const;
    expectClean(await chaos(urls.amqpQuorum, mine), FULL ? ALL : mine);
  });
});
