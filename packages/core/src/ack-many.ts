import type { AckAndPopOptions, AckAndPopResult, Backend } from './backend.js';
import { LeaseLostError } from './errors.js';
import type { LeaseHandle } from './job.js';

/**
 * Ack many jobs in one round trip where the backend offers `ackMany`, else one by one
 * (concurrently). Entry i is `null` when job i was acked, or its `LeaseLostError`; any other
 * failure rejects the whole call.
 */
export async function ackMany(
  backend: Backend,
  jobs: readonly LeaseHandle[],
): Promise<Array<LeaseLostError | null>> {
  if (jobs.length === 0) return [];
  if (backend.ackMany) return backend.ackMany(jobs);
  return Promise.all(
    jobs.map((job) =>
      backend.ack(job).then(
        () => null,
        (err: unknown) => {
          if (err instanceof LeaseLostError) return err;
          throw err;
        },
      ),
    ),
  );
}

/**
 * Ack `jobs` and lease up to `options.max` ready jobs of `queues` in one round trip where the
 * backend offers `ackAndPop`; otherwise the ack batch and a non-waiting pop go out side by side.
 */
export async function ackAndPop(
  backend: Backend,
  jobs: readonly LeaseHandle[],
  queues: readonly string[],
  options: AckAndPopOptions,
): Promise<AckAndPopResult> {
  if (backend.ackAndPop) return backend.ackAndPop(jobs, queues, options);
  const [acked, popped] = await Promise.all([
    ackMany(backend, jobs),
    backend.pop(queues, { max: options.max, leaseMs: options.leaseMs, waitMs: 0 }),
  ]);
  return { acked, jobs: popped };
}
