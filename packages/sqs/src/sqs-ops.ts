import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  type DeleteMessageBatchCommandOutput,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  ListQueueTagsCommand,
  type Message,
  type MessageAttributeValue,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SendMessageBatchCommandOutput,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { MESSAGE_ATTRIBUTE_NAMES } from './attributes.js';
import type { ItemOutcome } from './batcher.js';
import { classifyError, isQueueNameTaken } from './classify-error.js';

export interface Received {
  messages: Message[];
  /** before the request left / after the answer came: brackets SQS's visibility timer start */
  sentAt: number;
  recvAt: number;
  visibilitySeconds: number;
}

/** One message to send, without the batch entry id. */
export type OutgoingMessage = Omit<SendMessageBatchRequestEntry, 'Id'> & {
  MessageBody: string;
  MessageAttributes: Record<string, MessageAttributeValue>;
};

export interface QueueCounts {
  visible: number;
  inFlight: number;
  delayed: number;
}

/** A per-entry failure SQS reported in a batch reply. */
export class BatchEntryError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly senderFault: boolean,
  ) {
    super(`${code}: ${message}`);
    this.name = code;
  }
}

const MAX_ENTRY_RETRIES = 2;

/**
 * Every SQS call the backend makes, in one place: each error classified (`classifyError`),
 * batch replies turned into one outcome per entry, transient per-entry send failures retried.
 */
export class SqsOps {
  constructor(
    readonly client: SQSClient,
    readonly where: string,
  ) {}

  private fail(err: unknown, action: string): never {
    throw classifyError(err, action, this.where);
  }

  async receive(
    url: string,
    max: number,
    visibilitySeconds: number,
    waitSeconds: number,
    extraAttributes: string[] = [],
  ): Promise<Received> {
    const sentAt = Date.now();
    try {
      const out = await this.client.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MaxNumberOfMessages: Math.min(10, Math.max(1, max)),
          VisibilityTimeout: visibilitySeconds,
          WaitTimeSeconds: waitSeconds,
          MessageAttributeNames: MESSAGE_ATTRIBUTE_NAMES,
          MessageSystemAttributeNames: [
            'ApproximateReceiveCount',
            'SentTimestamp',
            ...extraAttributes,
          ] as never,
        }),
      );
      return { messages: out.Messages ?? [], sentAt, recvAt: Date.now(), visibilitySeconds };
    } catch (err) {
      this.fail(err, 'ReceiveMessage');
    }
  }

  async sendBatch(url: string, items: OutgoingMessage[]): Promise<Array<ItemOutcome<string>>> {
    const outcomes: Array<ItemOutcome<string> | undefined> = new Array(items.length);
    let todo = items.map((_, i) => i);
    for (let round = 0; todo.length > 0; round++) {
      let reply: SendMessageBatchCommandOutput;
      try {
        reply = await this.client.send(
          new SendMessageBatchCommand({
            QueueUrl: url,
            Entries: todo.map((i) => ({ ...items[i]!, Id: String(i) })),
          }),
        );
      } catch (err) {
        this.fail(err, 'SendMessageBatch');
      }
      for (const ok of reply.Successful ?? []) {
        outcomes[Number(ok.Id)] = { ok: true, value: ok.MessageId ?? '' };
      }
      const retry: number[] = [];
      for (const bad of reply.Failed ?? []) {
        const i = Number(bad.Id);
        // SenderFault=false: SQS's own trouble (throttling, internal error); worth another go
        if (!bad.SenderFault && round < MAX_ENTRY_RETRIES) retry.push(i);
        else {
          outcomes[i] = {
            ok: false,
            error: classifyError(
              new BatchEntryError(bad.Code ?? 'Unknown', bad.Message ?? '', bad.SenderFault ?? true),
              'SendMessageBatch',
              this.where,
            ),
          };
        }
      }
      todo = retry;
      if (retry.length > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** round));
    }
    return outcomes.map(
      (o) => o ?? { ok: false, error: new Error('SendMessageBatch reply is missing an entry') },
    );
  }

  async deleteBatch(url: string, handles: string[]): Promise<Array<ItemOutcome<void>>> {
    let reply: DeleteMessageBatchCommandOutput;
    try {
      reply = await this.client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: url,
          Entries: handles.map((h, i) => ({ Id: String(i), ReceiptHandle: h })),
        }),
      );
    } catch (err) {
      this.fail(err, 'DeleteMessageBatch');
    }
    const outcomes: Array<ItemOutcome<void>> = handles.map(() => ({ ok: true, value: undefined }));
    for (const bad of reply.Failed ?? []) {
      outcomes[Number(bad.Id)] = {
        ok: false,
        error: new BatchEntryError(bad.Code ?? 'Unknown', bad.Message ?? '', bad.SenderFault ?? true),
      };
    }
    return outcomes;
  }

  async changeVisibility(
    url: string,
    handle: string,
    seconds: number,
  ): Promise<{ sentAt: number; recvAt: number }> {
    const sentAt = Date.now();
    try {
      await this.client.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: url,
          ReceiptHandle: handle,
          VisibilityTimeout: seconds,
        }),
      );
    } catch (err) {
      this.fail(err, 'ChangeMessageVisibility');
    }
    return { sentAt, recvAt: Date.now() };
  }

  /** Best effort: hand messages back at once (inspection scans). Entries that fail simply time out. */
  async releaseBatch(url: string, handles: string[]): Promise<void> {
    for (let i = 0; i < handles.length; i += 10) {
      const chunk = handles.slice(i, i + 10);
      try {
        await this.client.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: url,
            Entries: chunk.map((h, k) => ({ Id: String(k), ReceiptHandle: h, VisibilityTimeout: 0 })),
          }),
        );
      } catch (err) {
        this.fail(err, 'ChangeMessageVisibilityBatch');
      }
    }
  }

  /** Create (idempotent) or look up a queue; an existing queue with other attributes is used as it is. */
  async ensureQueue(
    name: string,
    attributes: Record<string, string>,
    tags: Record<string, string>,
  ): Promise<string> {
    try {
      const out = await this.client.send(
        new CreateQueueCommand({ QueueName: name, Attributes: attributes, tags }),
      );
      if (out.QueueUrl) return out.QueueUrl;
    } catch (err) {
      if (!isQueueNameTaken(err)) this.fail(err, 'CreateQueue');
    }
    try {
      const out = await this.client.send(new GetQueueUrlCommand({ QueueName: name }));
      if (out.QueueUrl) return out.QueueUrl;
    } catch (err) {
      this.fail(err, 'GetQueueUrl');
    }
    throw classifyError(new Error(`no URL for queue ${name}`), 'GetQueueUrl', this.where);
  }

  /** Every queue URL whose name starts with `prefix` (all pages; bounded). */
  async listQueues(prefix: string): Promise<string[]> {
    const urls: string[] = [];
    let token: string | undefined;
    for (let page = 0; page < 100; page++) {
      try {
        const out = await this.client.send(
          new ListQueuesCommand({ QueueNamePrefix: prefix, MaxResults: 1000, NextToken: token }),
        );
        urls.push(...(out.QueueUrls ?? []));
        token = out.NextToken;
      } catch (err) {
        this.fail(err, 'ListQueues');
      }
      if (!token) break;
    }
    return urls;
  }

  async tags(url: string): Promise<Record<string, string>> {
    try {
      return (await this.client.send(new ListQueueTagsCommand({ QueueUrl: url }))).Tags ?? {};
    } catch (err) {
      this.fail(err, 'ListQueueTags');
    }
  }

  /** SQS's approximate counts (exact on fauxqs, eventually consistent on AWS). */
  async counts(url: string): Promise<QueueCounts> {
    try {
      const out = await this.client.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: [
            'ApproximateNumberOfMessages',
            'ApproximateNumberOfMessagesNotVisible',
            'ApproximateNumberOfMessagesDelayed',
          ],
        }),
      );
      const a = out.Attributes ?? {};
      return {
        visible: Number(a.ApproximateNumberOfMessages ?? 0),
        inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
        delayed: Number(a.ApproximateNumberOfMessagesDelayed ?? 0),
      };
    } catch (err) {
      this.fail(err, 'GetQueueAttributes');
    }
  }

  async purge(url: string): Promise<void> {
    try {
      await this.client.send(new PurgeQueueCommand({ QueueUrl: url }));
    } catch (err) {
      this.fail(err, 'PurgeQueue');
    }
  }

  async deleteQueue(url: string): Promise<void> {
    try {
      await this.client.send(new DeleteQueueCommand({ QueueUrl: url }));
    } catch (err) {
      this.fail(err, 'DeleteQueue');
    }
  }
}
