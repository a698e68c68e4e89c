import { randomBytes } from 'node:crypto';
import { DeleteQueueCommand, ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { parseSqsUrl } from '../src/parse-url.js';

/** The shared emulator the tests use; never AWS (see `assertLoopback`). */
export const SQS_URL = process.env['ILKKUN_SQS_URL'] ?? 'sqs://127.0.0.1:4566?region=us-east-1&tls=false';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** Refuse to run against anything but a loopback endpoint: no test may reach real AWS. */
export function assertLoopback(url: string): string {
  const target = parseSqsUrl(url);
  if (!target.endpoint || !LOOPBACK.has(target.host)) {
    throw new Error(`tests run only against a loopback SQS emulator, not ${target.endpoint ?? 'AWS'}`);
  }
  return target.endpoint;
}

export const ENDPOINT = assertLoopback(SQS_URL);

/** A prefix no other run uses (1–20 of [A-Za-z0-9_]). */
export function testPrefix(label = 't'): string {
  return `ilk${label}${randomBytes(4).toString('hex')}`;
}

export function withParams(url: string, params: Record<string, string | number | boolean>): string {
  const u = new URL(url);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, String(v));
  return u.toString();
}

/** A plain SDK client on the emulator, for assertions the backend API does not offer. */
export function rawClient(): SQSClient {
  return new SQSClient({
    endpoint: ENDPOINT,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    useQueueUrlAsEndpoint: false,
  });
}

/** Delete every SQS queue of a prefix (cleanup after a run). */
export async function deletePrefix(prefix: string): Promise<number> {
  const client = rawClient();
  try {
    const urls = (
      await client.send(new ListQueuesCommand({ QueueNamePrefix: `${prefix}-`, MaxResults: 1000 }))
    ).QueueUrls;
    for (const url of urls ?? []) await client.send(new DeleteQueueCommand({ QueueUrl: url }));
    return urls?.length ?? 0;
  } finally {
    client.destroy();
  }
}

export const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export { eventually } from '@ilkkun/conformance';
