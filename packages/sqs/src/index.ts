import type { Backend } from '@ilkkun/core';
import { classifyError } from './classify-error.js';
import { SqsInspector } from './inspector.js';
import { resolveOptions, type SqsBackendOptions } from './options.js';
import { parseSqsUrl } from './parse-url.js';
import { QueueRegistry } from './queue-registry.js';
import { SqsBackend } from './sqs-backend.js';
import { createSqsClient, describeEndpoint } from './sqs-client.js';
import { SqsOps } from './sqs-ops.js';

export type { FifoGroupMode, SqsBackendOptions } from './options.js';
export { parseSqsUrl } from './parse-url.js';
export { levelOf, parsePriorityRange } from './priority-levels.js';
export { baseName, deadQueueName, levelQueueName, parseSqsName } from './queue-names.js';
export { SqsBackend, sqsCapabilities } from './sqs-backend.js';

/**
 * Open the SQS backend an `sqs:` URL names (core's `openBackend` calls this).
 *
 * ```ts
 * await createBackend('sqs://127.0.0.1:4566?region=us-east-1&tls=false'); // a local emulator
 * await createBackend('sqs://?region=eu-west-1&prefix=myapp');             // AWS, credentials from the AWS chain
 * ```
 * Checks the endpoint and credentials with one ListQueues call before resolving, so a bad setup
 * fails here and not on the first job. Queues are created lazily.
 */
export async function createBackend(url: string, options: SqsBackendOptions = {}): Promise<Backend> {
  const target = parseSqsUrl(url);
  const resolved = resolveOptions(target.params, options as Record<string, unknown>);
  const where = describeEndpoint(target, resolved);
  const client = createSqsClient(target, resolved);
  const ops = new SqsOps(client, where);
  try {
    await ops.listQueues(`${resolved.prefix}-`);
  } catch (err) {
    client.destroy();
    throw classifyError(err, 'connect', where);
  }
  const backend = new SqsBackend(ops, new QueueRegistry(ops, resolved), resolved);
  backend.inspector = new SqsInspector(backend);
  return backend;
}
