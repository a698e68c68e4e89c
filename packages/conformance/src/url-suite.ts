/**
 * The vitest entry `runConformance(url)` runs: the whole suite against the store a URL names,
 * opened through core's `openBackend` exactly as an application would.
 */
import { randomBytes } from 'node:crypto';
import { backendScheme, openBackend } from '@ilkkun/core';
import { inject } from 'vitest';
import { describeConformance } from './describe-conformance.js';

declare module 'vitest' {
  export interface ProvidedContext {
    ilkkunConformanceUrl: string;
    ilkkunConformanceTimeScale: number;
  }
}

let url = inject('ilkkunConformanceUrl');
// `memory:` opens a fresh store per call; the suite needs every open to reach one store
if (url === 'memory:') url = `memory:conformance-${randomBytes(4).toString('hex')}`;
const scheme = backendScheme(url);
describeConformance({
  name: scheme,
  create: () => openBackend(url),
  timeScale: inject('ilkkunConformanceTimeScale'),
  ...(scheme === 'memory' ? {} : { url }),
});
