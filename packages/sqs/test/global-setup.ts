import { ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { redactUrl } from '@ilkkun/core';
import { parseSqsUrl } from '../src/parse-url.js';

/**
 * The tests need a real SQS emulator (fauxqs), never a mock. When it is not there the run fails
 * loudly with how to start it, instead of skipping and looking green. Only loopback endpoints are
 * accepted: a test must never reach real AWS.
 */
export default async function setup(): Promise<void> {
  const url = process.env['ILKKUN_SQS_URL'] ?? 'sqs://127.0.0.1:4566?region=us-east-1&tls=false';
  const target = parseSqsUrl(url);
  if (!target.endpoint || !['127.0.0.1', 'localhost', '::1'].includes(target.host)) {
    throw new Error(
      `ILKKUN_SQS_URL must name a loopback emulator (tests never talk to AWS), got ${redactUrl(url)}`,
    );
  }
  const client = new SQSClient({
    endpoint: target.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    useQueueUrlAsEndpoint: false,
    maxAttempts: 1,
    requestHandler: { requestTimeout: 2000, connectionTimeout: 2000 },
  });
  try {
    await client.send(new ListQueuesCommand({ MaxResults: 1 }), { abortSignal: AbortSignal.timeout(2500) });
  } catch {
    throw new Error(
      `SQS emulator not reachable at ${url}; start it with: bash scripts/services/start.sh fauxqs`,
    );
  } finally {
    client.destroy();
  }
}
