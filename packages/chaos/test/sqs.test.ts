import { describe, inject, it } from 'vitest';
import { SCENARIO_NAMES } from '../dist/index.js';
import { chaos, expectClean, FULL } from './chaos-case.js';

const urls = inject('chaosUrls');
const ALL = SCENARIO_NAMES.filter((s) => s !== 'server-restart');

describe('ilkkun chaos on sqs (fauxqs)', () => {
  it('child kills, a stopped worker and a silent link lose nothing and complete nothing twice', async () => {
    const mine = ['kill-children', 'stop-worker', 'silent-connection'] as const;
    expectClean(await chaos(urls.sqs, mine), FULL ? ALL : mine);
  });
});
