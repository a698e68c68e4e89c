import { describeConformance } from '@ilkkun/conformance';
import { createBackend } from '../src/index.js';
import { runUrl } from './helpers.js';

// The whole contract against a real MariaDB, in this run's own database. `url` lets the suite
// open the same store from a second OS process (through core's openBackend).
describeConformance({ name: 'mysql', url: runUrl, create: () => createBackend(runUrl) });

// Once more with TheSchwartz's optimistic claim, the strategy for servers without SKIP LOCKED.
const optimistic = `${runUrl}?claim=optimistic`;
describeConformance({
  name: 'mysql (claim=optimistic)',
  url: optimistic,
  create: () => createBackend(optimistic),
  queuePrefix: 'confopt',
});
