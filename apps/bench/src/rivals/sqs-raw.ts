import { DeleteMessageBatchCommand, type Message, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { RivalPlugin } from '../system.js';
import { parseSqsTarget, SQS_DEFAULT_URL, SqsRivalSystem, type StartConsumer } from './sqs-rival.js';

/**
 * The raw limit on SQS: what a hand-written loop does with nothing but the SDK — one loop per 10
 * slots of ReceiveMessage(10, long poll 1 s) → parse each body → DeleteMessageBatch. No retries,
 * no dead letters, no heartbeats, no priorities: the floor every queue library pays on top of.
 */
const rawLoops: StartConsumer = (client, queueUrl, concurrency, events) => {
  let running = true;
  const loop = async () => {
    while (running) {
      let messages: Message[];
      try {
        const r = await client.send(
          new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
        );
        messages = r.Messages ?? [];
      } catch (err) {
        if (!running) return; // the queue went away at cleanup
        throw err;
      }
      if (messages.length === 0) continue;
      for (const m of messages) {
        JSON.parse(m.Body ?? 'null');
        events.started(m.Body ?? 'null');
      }
      await client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
        }),
      );
      for (const _ of messages) events.done();
    }
  };
  const loops = Array.from({ length: Math.ceil(concurrency / 10) }, loop);
  return {
    stop: async () => {
      running = false;
      await Promise.allSettled(loops);
    },
  };
};

export const sqsRaw: RivalPlugin = {
  name: 'sqs-raw',
  description: 'a raw Receive(10, long poll)/DeleteMessageBatch loop per 10 slots (AWS SDK v3)',
  defaultUrl: SQS_DEFAULT_URL,
  async open(url, options) {
    return new SqsRivalSystem('raw SQS loop', parseSqsTarget(url), rawLoops, options.timeoutMs);
  },
};
