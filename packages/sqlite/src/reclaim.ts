import { leaseExpiredError } from '@ilkkun/core';
import { encodeError } from './row-mapping.js';
import type { Statements } from './statements.js';

/**
 * Jobs of `queue` whose lease ran out without ack or requeue become available again with the
 * attempt counted and `lastError` "lease expired" — or go to dead when their attempts are used
 * up, so a job that kills its worker cannot loop forever. Must run inside a write transaction.
 * Returns how many jobs it moved.
 */
export function reclaimExpired(stmts: Statements, queue: string, now: number): number {
  const rows = stmts.expired.all(queue, now);
  for (const row of rows) {
    const error = encodeError(leaseExpiredError(row.attempts_made, now));
    if (row.attempts_made >= row.max_attempts) {
      // run_at is kept: it is the dead job's history, not a schedule
      stmts.reclaim.run('dead', null, error, row.id);
    } else {
      stmts.reclaim.run('pending', now, error, row.id);
    }
  }
  return rows.length;
}
