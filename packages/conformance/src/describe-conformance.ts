import { afterAll, beforeAll, describe } from 'vitest';
import { createSuiteContext } from './context.js';
import type { ConformanceOptions } from './options.js';
import { closeSuite } from './suites/close.js';
import { exclusivitySuite } from './suites/exclusivity.js';
import { inspectionSuite } from './suites/inspection.js';
import { leaseSuite } from './suites/leases.js';
import { orderingSuite } from './suites/ordering.js';
import { requeueSuite } from './suites/requeue.js';
import { roundTripSuite } from './suites/round-trip.js';
import { uniqueKeySuite } from './suites/unique-keys.js';
import { validationSuite } from './suites/validation.js';
import { waitSuite } from './suites/wait.js';

/** Every contract area, in report order. */
const SUITES = [
  roundTripSuite,
  validationSuite,
  orderingSuite,
  exclusivitySuite,
  leaseSuite,
  requeueSuite,
  uniqueKeySuite,
  waitSuite,
  inspectionSuite,
  closeSuite,
];

/**
 * Register the whole conformance suite with the calling vitest file:
 * ```ts
 * describeConformance({ name: 'sqlite', url, create: () => createBackend(url) });
 * ```
 * Cases the backend's `capabilities` rule out are skipped with an "unsupported: …" note,
 * never counted as passed. Cases run one after another (they share one backend).
 */
export function describeConformance(options: ConformanceOptions): void {
  const ctx = createSuiteContext(options);
  describe(`conformance: ${options.name}`, () => {
    beforeAll(() => ctx.setup(), 60_000);
    afterAll(() => ctx.teardown(), 60_000);
    for (const suite of SUITES) suite(ctx);
  });
}
