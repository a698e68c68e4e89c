// The suite proves itself on core's in-memory backend (the reference implementation).
import { createMemoryBackend } from '@ilkkun/core';
import { describeConformance } from '../src/index.js';

describeConformance({
  name: 'memory',
  create: async () => createMemoryBackend('memory:conformance-self-test'),
});
