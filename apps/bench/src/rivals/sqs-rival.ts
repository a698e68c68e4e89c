import {
  CreateQueueCommand,
  DeleteQueueCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { parseSqsUrl } from '@ilkkun/sqs';
import { Completion, fill, SteadyLatency, timeBulk, timeOneByOne, withCleanup } from '../measure.js';
import { type BenchPayload, benchPayload } from '../payload.js';
import type { BenchSystem, Measured, Tick } from '../system.js';

/** Where an SQS rival runs: an emulator on loopback only (a benchmark never loads real AWS). */
export interface SqsTarget {
  endpoint: string;
  region: string;
}

export const SQS_DEFAULT_URL = 'sqs://127.0.0.1:4566?region=us-east-1&tls=false';

export function parseSqsTarget(url: string): SqsTarget {
  const parsed = parseSqsUrl(url);
  if (!parsed.endpoint || !['127.0.0.1', 'localhost', '::1', '[::1]'].includes(parsed.host)) {
    throw new Error(`an SQS rival runs against a loopback emulator only, not ${parsed.endpoint ?? 'AWS'}`);
  }
  return { endpoint: parsed.endpoint, region: parsed.params['region'] ?? 'us-east-1' };
}

/** What a consumer under test reports: a handler began on a message, a message was deleted (done). */
export interface ConsumerEvents {
  started(body: string): void;
  done(): void;
}

/** A consumer under test: starts consuming `queueUrl` at `concurrency`; `stop` ends it. */
export type StartConsumer = (
  client: SQSClient,
  queueUrl: string,
  concurrency: number,
  events: ConsumerEvents,
) => { stop(): Promise<void> };

const ignore = () => {};

let seq = 0;

/**
 * What the SQS rivals share: the AWS SDK client the way their users set it up (keep-alive
 * sockets, an emulator endpoint), a queue of their own per measurement (deleted after), and the
 * producer side — SendMessage one by one, SendMessageBatch of 10 in bulk (16 calls in flight, as
 * a bulk producer would). Only the consumer differs between rivals.
 */
export class SqsRivalSystem implements BenchSystem {
  readonly url: string;
  private readonly client: SQSClient;
  private readonly prefix = `ilkbench-${process.pid}-${Date.now().toString(36)}`;

  constructor(
    readonly system: string,
    target: SqsTarget,
    private readonly startConsumer: StartConsumer,
    private readonly timeoutMs: number,
  ) {
    this.url = `${target.endpoint} (${target.region})`;
    this.client = new SQSClient({
      endpoint: target.endpoint,
      region: target.region,
      // an emulator accepts any key; these never leave loopback (parseSqsTarget)
      credentials: { accessKeyId: 'local-emulator', secretAccessKey: 'local-emulator' },
      useQueueUrlAsEndpoint: false,
      requestHandler: { httpAgent: { keepAlive: true, maxSockets: 256 } },
    });
  }

  private async queue(what: string): Promise<{ url: string; cleanup: () => Promise<void> }> {
    const name = `${this.prefix}-${what}-${++seq}`;
    const out = await this.client.send(new CreateQueueCommand({ QueueName: name }));
    const url = out.QueueUrl!;
    return {
      url,
      cleanup: async () => {
        await this.client.send(new DeleteQueueCommand({ QueueUrl: url }));
      },
    };
  }

  private sendOne(queueUrl: string, i: number): Promise<unknown> {
    return this.client.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(benchPayload(i)) }),
    );
  }

  /** `n` messages from `from` on: batches of 10, 16 batch calls in flight at a time */
  private sendMany(queueUrl: string) {
    return async (from: number, n: number): Promise<void> => {
      const calls: Array<Promise<unknown>> = [];
      for (let k = 0; k < n; k += 10) {
        const entries = Array.from({ length: Math.min(10, n - k) }, (_, j) => ({
          Id: String(j),
          MessageBody: JSON.stringify(benchPayload(from + k + j)),
        }));
        calls.push(this.client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries })));
        if (calls.length >= 16) await Promise.all(calls.splice(0));
      }
      await Promise.all(calls);
    };
  }

  async enqueueOne(count: number, tick: Tick): Promise<Measured> {
    const { url, cleanup } = await this.queue('enqueue');
    return withCleanup(() => timeOneByOne(count, (i) => this.sendOne(url, i), tick), cleanup);
  }

  async enqueueBulk(count: number, batch: number, tick: Tick): Promise<Measured> {
    const { url, cleanup } = await this.queue('bulk');
    return withCleanup(() => timeBulk(count, batch, this.sendMany(url), tick), cleanup);
  }

  async process(count: number, concurrency: number, tick: Tick): Promise<Measured> {
    const { url, cleanup } = await this.queue(`c${concurrency}`);
    const completion = new Completion(count, tick, this.timeoutMs, `${this.system} process c=${concurrency}`);
    let consumer: { stop(): Promise<void> } | undefined;
    return withCleanup(
      async () => {
        await fill(count, this.sendMany(url));
        const t0 = performance.now();
        consumer = this.startConsumer(this.client, url, concurrency, {
          started: ignore,
          done: () => completion.one(),
        });
        await completion.done;
        return { jobs: count, seconds: (performance.now() - t0) / 1000, latenciesMs: [] };
      },
      async () => {
        completion.cancel();
        await consumer?.stop();
        await cleanup();
      },
    );
  }

  async latency(count: number, ratePerSec: number, concurrency: number, tick: Tick): Promise<Measured> {
    const { url, cleanup } = await this.queue('latency');
    const steady = new SteadyLatency(count, ratePerSec, tick, this.timeoutMs, `${this.system} latency`);
    const consumer = this.startConsumer(this.client, url, concurrency, {
      started: (body) => steady.started((JSON.parse(body) as BenchPayload).i),
      done: ignore,
    });
    return withCleanup(
      async () => {
        await new Promise((r) => setTimeout(r, 200));
        return steady.run((i) => this.sendOne(url, i));
      },
      async () => {
        steady.completion.cancel();
        await consumer.stop();
        await cleanup();
      },
    );
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
