import { BackendUnavailableError, LeaseLostError } from '@ilkkun/core';

/**
 * Errors for acks whose confirmation never came (see `ChannelSlot.confirmSent`): the channel or
 * the connection died after the ack was written, so whether the broker processed it is unknown.
 * Never a success: the broker may hand the job out again.
 */

/** ackMany: some acks of the batch were not confirmed. Retryable: sent again, each gets its true answer. */
export function unconfirmedAcksError(where: string, count: number, cause: unknown): BackendUnavailableError {
  return new BackendUnavailableError(
    `RabbitMQ at ${where}: the channel or connection was lost before the broker confirmed ${count} ack(s), so whether it processed them is unknown. Send them again: an ack the broker confirmed answers as acked, any other LEASE_LOST (if the broker did not process it, it hands that job out again, with the attempt counted)`,
    { cause },
  );
}

/** The answer to an ack sent again after its confirmation was lost with its channel. */
export function unconfirmedLeaseLost(jobId: string): LeaseLostError {
  return new LeaseLostError(
    jobId,
    'the channel was lost before RabbitMQ confirmed the ack; if the broker had not processed it, it hands the job out again (attempt counted)',
  );
}

/** requeue / release: the new copy is stored, the removal of the delivered one is not confirmed. */
export function unconfirmedMoveError(where: string, doing: string, cause: unknown): BackendUnavailableError {
  return new BackendUnavailableError(
    `RabbitMQ at ${where}: while ${doing}, the job's new copy was stored, but the channel was lost before the broker confirmed removing the delivered one. If it had not, that one comes back too (counted as an expired lease) and the job may run once more; nothing is lost and nothing needs doing`,
    { cause },
  );
}
