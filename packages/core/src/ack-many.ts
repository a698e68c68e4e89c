import type { Backend } from './backend.js';
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
