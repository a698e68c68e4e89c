import { describe, inject, it } from 'vitest';
import { SCENARIO_NAMES } from '../dist/index.js';
import { chaos, expectClean, FULL } from './chaos-case.js';

const urls = inject('chaosUrls');
const ALL = SCENARIO_NAMES.filter((s) => s !== 'server-restart');

describe('ilkkun chaos on mysql (MariaDB, databases of its own)', () => {
  it('ilkkun flavour: a stopped worker stalls nobody; kills and a silent link lose nothing', async () => {
    const mine = ['stop-worker', 'kill-workers-inline', 'silent-connection'] as const;
    expectClean(await chaos(urls.mysql, mine), FULL ? ALL : mine, { unhitWorkersKeepLeases: true });
  });

  it('qudo flavour: the same under a stopped worker, child kills and connection cuts', async () => {
    const mine = ['stop-worker', 'kill-children', 'cut-connections'] as const;
    expectClean(await chaos(urls.mysqlQudo, mine), FULL ? ALL : mine, { unhitWorkersKeepLeases: true });
  });
});
