import type { JobError } from './job.js';

/** The `lastError.message` every backend records when a lease ran out without ack or requeue. */
export const LEASE_EXPIRED_MESSAGE = 'lease expired';

export function leaseExpiredError(attempt: number, at: number = Date.now()): JobError {
  return { message: LEASE_EXPIRED_MESSAGE, name: 'LeaseExpired', attempt, at: new Date(at) };
}
