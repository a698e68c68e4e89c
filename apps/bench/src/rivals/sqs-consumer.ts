import type { Message } from '@aws-sdk/client-sqs';
import { Consumer } from 'sqs-consumer';
import type { RivalPlugin } from '../system.js';
import { parseSqsTarget, SQS_DEFAULT_URL, SqsRivalSystem, type StartConsumer } from './sqs-rival.js';

/** The version perf-measured.md's figures are for (pinned in package.json). */
const VERSION = '14.2.8';

/**
 * sqs-consumer as its README shows it: `handleMessage`, `batchSize: 10`, one consumer per 10
 * slots (its concurrency is the batch it receives), no wait between polls.
 */
const consumers: StartConsumer = (sqs, queueUrl, concurrency, events) => {
  const all = Array.from({ length: Math.ceil(concurrency / 10) }, () => {
    const consumer = Consumer.create({
      queueUrl,
      sqs,
      batchSize: 10,
      waitTimeSeconds: 1,
      pollingWaitTimeMs: 0,
      handleMessage: async (m: Message) => {
        JSON.parse(m.Body ?? 'null');
        events.started(m.Body ?? 'null');
        return m;
      },
    });
    // deleted: the same point ilkkun's job:complete marks (after the ack)
    consumer.on('message_processed', () => events.done());
    consumer.on('error', () => undefined);
    consumer.start();
    return consumer;
  });
  return {
    stop: async () => {
      await Promise.all(
        all.map(
          (c) =>
            new Promise<void>((resolve) => {
              c.once('stopped', () => resolve());
              c.stop({ abort: true });
            }),
        ),
      );
    },
  };
};

export const sqsConsumer: RivalPlugin = {
  name: 'sqs-consumer',
  description: `sqs-consumer ${VERSION} (handleMessage, batchSize 10, one consumer per 10 slots)`,
  defaultUrl: SQS_DEFAULT_URL,
  async open(url, options) {
    return new SqsRivalSystem(`sqs-consumer ${VERSION}`, parseSqsTarget(url), consumers, options.timeoutMs);
  },
};
