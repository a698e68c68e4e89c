import { InvalidQueueNameError } from './errors.js';

export const QUEUE_NAME_MAX_LENGTH = 200;
const QUEUE_NAME_PATTERN = /^[A-Za-z0-9_.:-]+$/;

/**
 * A queue name is 1–200 characters of `[A-Za-z0-9_.:-]` (so Perl-style `MyApp::Worker::Notify`
 * is valid). The narrow alphabet is what lets every backend map names to its own identifiers
 * without quoting, and makes injection-shaped names impossible by construction.
 */
export function assertQueueName(name: unknown): asserts name is string {
  if (typeof name !== 'string') {
    throw new InvalidQueueNameError(String(name), 'must be a string');
  }
  if (name.length === 0) throw new InvalidQueueNameError(name, 'must not be empty');
  if (name.length > QUEUE_NAME_MAX_LENGTH) {
    throw new InvalidQueueNameError(
      name,
      `must be at most ${QUEUE_NAME_MAX_LENGTH} characters (got ${name.length})`,
    );
  }
  if (!QUEUE_NAME_PATTERN.test(name)) {
    throw new InvalidQueueNameError(name, 'may contain only letters, digits and _ . : -');
  }
}

export function isValidQueueName(name: unknown): name is string {
  try {
    assertQueueName(name);
    return true;
  } catch {
    return false;
  }
}
