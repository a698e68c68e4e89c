import { describeConformance } from '@ilkkun/conformance';
import { createBackend } from '../src/index.js';
import { scratchDatabase } from './helpers.js';

// The whole contract once more on Qudo's tables, in a database of its own (created empty here,
// dropped with the run's databases at the end; see global-setup.ts).
const { url } = await scratchDatabase('qudo_conf');
const qudo = `${url}?flavor=qudo`;
describeConformance({ name: 'mysql (flavor=qudo)', url: qudo, create: () => createBackend(qudo) });

const qudoOptimistic = `${qudo}&claim=optimistic`;
describeConformance({
  name: 'mysql (flavor=qudo, claim=optimistic)',
  url: qudoOptimistic,
  create: () => createBackend(qudoOptimistic),
  queuePrefix: 'qconfopt',
});
