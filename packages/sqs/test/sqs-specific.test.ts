import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import {
  type Backend,
  Client,
  hasErrorCode,
  LEASE_EXPIRED_MESSAGE,
  type LeasedJobRecord,
} from '@ilkkun/core';
import { createRunner } from '@ilkkun/runner';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createBackend, type SqsBackend } from '../src/index.js';
import { baseName, levelQueueName } from '../src/queue-names.js';
import { delay, deletePrefix, eventually, rawClient, SQS_URL, testPrefix, withParams } from './helpers.js';

const prefix = testPrefix('spec');
const url = withParams(SQS_URL, { prefix });
const opened: Backend[] = [];
let seq = 0;
let recorders = 0;
const queue = (label: string) => `spec.${label}.${process.pid}.${++seq}`;

async function open(params: Record<string, string | number | boolean> = {}): Promise<SqsBackend> {
  const backend = await createBackend(withParams(url, params));
  opened.push(backend);
  return backend as SqsBackend;
}

/** Every SQS request the backend makes: command name and how many entries/messages it carried. */
function recordRequests(backend: SqsBackend): Array<{ command: string; entries: number; max?: number }> {
  const seen: Array<{ command: string; entries: number; max?: number }> = [];
  backend.ops.client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { Entries?: unknown[]; MaxNumberOfMessages?: number };
      const item: { command: string; entries: number; max?: number } = {
        command: String(context.commandName).replace(/Command$/, ''),
        entries: input.Entries?.length ?? 0,
      };
      if (input.MaxNumberOfMessages !== undefined) item.max = input.MaxNumberOfMessages;
      seen.push(item);
      return next(args);
    },
    { step: 'initialize', name: `ilkkunTestRecorder${++recorders}` },
  );
  return seen;
}

async function popAll(
  backend: Backend,
  q: string,
  count: number,
  waitMs = 10_000,
): Promise<LeasedJobRecord[]> {
  const deadline = Date.now() + waitMs;
  const got: LeasedJobRecord[] = [];
  while (got.length < count && Date.now() < deadline) {
    got.push(...(await backend.pop([q], { max: count - got.length, leaseMs: 60_000, waitMs: 1000 })));
  }
  return got;
}

afterAll(async () => {
  for (const b of opened) await b.close().catch(() => undefined);
  await deletePrefix(prefix);
}, 60_000);

describe('batches of 10 and concurrent receivers', () => {
  let backend: SqsBackend;
  beforeAll(async () => {
    backend = await open();
  });

  test('push(25) = SendMessageBatch 10+10+5; pop(max 25) = concurrent receives of ≤10; 25 acks = DeleteMessageBatch 10+10+5', async () => {
    const q = queue('batches');
    await new Client(backend).add(q, 'warm-up'); // creates the queue, so only data calls are counted below
    await backend.ack((await popAll(backend, q, 1))[0]!);
    const seen = recordRequests(backend);
    await new Client(backend).addMany(Array.from({ length: 25 }, (_, i) => ({ queue: q, payload: i })));
    expect(seen.filter((r) => r.command === 'SendMessageBatch').map((r) => r.entries)).toEqual([10, 10, 5]);
    seen.length = 0;
    const jobs = await backend.pop([q], { max: 25, leaseMs: 60_000 });
    expect(jobs).toHaveLength(25);
    const receives = seen.filter((r) => r.command === 'ReceiveMessage');
    expect(receives.length).toBeGreaterThanOrEqual(3);
    expect(receives.every((r) => (r.max ?? 0) <= 10)).toBe(true);
    seen.length = 0;
    await Promise.all(jobs.map((j) => backend.ack(j)));
    expect(seen.filter((r) => r.command === 'DeleteMessageBatch').map((r) => r.entries)).toEqual([10, 10, 5]);
    expect(seen.filter((r) => r.command !== 'DeleteMessageBatch')).toEqual([]);
  });

  test('a payload over the limit is refused before anything is sent', async () => {
    const q = queue('toolarge');
    const seen = recordRequests(backend);
    const limit = backend.capabilities.maxPayloadBytes!;
    const err = await backend
      .push([
        { queue: q, payload: '"ok"', priority: 0, runAt: new Date(), maxAttempts: 1 },
        {
          queue: q,
          payload: JSON.stringify('x'.repeat(limit)),
          priority: 0,
          runAt: new Date(),
          maxAttempts: 1,
        },
      ])
      .catch((e: unknown) => e);
    expect(hasErrorCode(err, 'PAYLOAD_TOO_LARGE')).toBe(true);
    expect(seen).toEqual([]);
  });
});

describe('priority levels', () => {
  test('one SQS queue per level, created on first use; out-of-range priorities clamp to the end levels', async () => {
    const backend = await open({ priorities: '-2..2' });
    const q = queue('levels');
    await new Client(backend).addMany([
      { queue: q, payload: 'low', priority: -50 },
      { queue: q, payload: 'top-a', priority: 100 },
      { queue: q, payload: 'mid', priority: 1 },
      { queue: q, payload: 'top-b', priority: 2 },
    ]);
    const base = baseName(prefix, q);
    const { levels } = await backend.registry.queuesOf(q);
    expect(levels.map((l) => l.level)).toEqual([2, 1, -2]);
    expect(levels[0]!.url.endsWith(`/${levelQueueName(base, 2, false)}`)).toBe(true);
    const order: string[] = [];
    for (let i = 0; i < 4; i++) {
      const [job] = await backend.pop([q], { max: 1, leaseMs: 60_000, waitMs: 2000 });
      order.push(JSON.parse(job!.payload) as string);
      await backend.ack(job!);
    }
    // top-a (100) and top-b (2) share level 2: arrival order decides between them
    expect(order).toEqual(['top-a', 'top-b', 'mid', 'low']);
  });

  test('a level created by another process is found by a pop (ListQueues refresh)', async () => {
    const consumer = await open({ levelRefreshMs: 0 });
    const producer = await open();
    const q = queue('discover');
    expect(await consumer.pop([q], { max: 1 })).toEqual([]);
    await new Client(producer).add(q, 'urgent', { priority: 7 });
    const [job] = await popAll(consumer, q, 1, 5000);
    expect(job?.priority).toBe(7);
    await consumer.ack(job!);
  });
});

describe('delays beyond the per-message limit', () => {
  test('a job due after several hops (maxDelaySeconds=1 stands in for SQS’s 900) runs once, on time, unattempted before', async () => {
    const backend = await open({ maxDelaySeconds: 1 });
    const q = queue('longdelay');
    const seen = recordRequests(backend);
    const added = Date.now();
    const { id } = await new Client(backend).add(q, 'later', { delay: 3500 });
    const jobs: LeasedJobRecord[] = [];
    while (jobs.length === 0 && Date.now() - added < 15_000) {
      jobs.push(...(await backend.pop([q], { max: 5, leaseMs: 60_000, waitMs: 1000 })));
    }
    expect(jobs.map((j) => j.id)).toEqual([id]);
    expect(Date.now()).toBeGreaterThanOrEqual(added + 3500);
    expect(jobs[0]!.attemptsMade).toBe(1);
    expect(jobs[0]!.lastError).toBeUndefined();
    // each early receive re-sent the job with the remaining delay (at least two hops for 3.5 s)
    const resends = seen.filter((r) => r.command === 'SendMessageBatch').length;
    expect(resends).toBeGreaterThanOrEqual(3);
    await backend.ack(jobs[0]!);
    expect(await backend.pop([q], { max: 5, waitMs: 1500 })).toEqual([]);
  });
});

describe('FIFO queues', () => {
  test('uniqueKey → deduplication id: a second send within SQS’s 5-minute window is dropped', async () => {
    const backend = await open({ fifo: true });
    const q = queue('fifo-dedup');
    const client = new Client(backend);
    const [a, b] = await client.addMany([
      { queue: q, payload: 'one', uniqueKey: 'user:1' },
      { queue: q, payload: 'two', uniqueKey: 'user:1' },
    ]);
    expect(b).toEqual({ id: a!.id, queue: q, duplicate: true });
    await client.add(q, 'three', { uniqueKey: 'user:1' }); // another push: SQS drops it
    await client.add(q, 'four', { uniqueKey: 'user:2' });
    const jobs = await popAll(backend, q, 3, 3000);
    expect(jobs.map((j) => JSON.parse(j.payload)).sort()).toEqual(['four', 'one']);
    await Promise.all(jobs.map((j) => backend.ack(j)));
    const err = await client.add(q, 'later', { delay: 60_000 }).catch((e: unknown) => e);
    expect(hasErrorCode(err, 'UNSUPPORTED_FEATURE')).toBe(true);
  });

  test('fifoGroup=queue: strict order, one job in flight at a time; a requeue keeps its place in the group', async () => {
    const backend = await open({ fifo: true, fifoGroup: 'queue' });
    const q = queue('fifo-order');
    await new Client(backend).addMany(['a', 'b', 'c'].map((payload) => ({ queue: q, payload })));
    const [first] = await backend.pop([q], { max: 3, leaseMs: 60_000 });
    expect(JSON.parse(first!.payload)).toBe('a');
    expect(await backend.pop([q], { max: 3, leaseMs: 60_000 })).toEqual([]); // group locked
    await backend.ack(first!);
    const order: string[] = [];
    for (let i = 0; i < 2; i++) {
      const [job] = await popAll(backend, q, 1, 3000);
      order.push(JSON.parse(job!.payload) as string);
      await backend.ack(job!);
    }
    expect(order).toEqual(['b', 'c']);
  });

  test('standard queues refuse uniqueKey (no de-duplication there)', async () => {
    const backend = await open();
    const err = await new Client(backend)
      .add(queue('std-unique'), 1, { uniqueKey: 'k' })
      .catch((e: unknown) => e);
    expect(hasErrorCode(err, 'UNSUPPORTED_FEATURE')).toBe(true);
  });
});

describe('lease fencing and what fauxqs does with stale receipt handles', () => {
  test('fauxqs: DeleteMessage with a stale handle "succeeds" and deletes nothing; ChangeMessageVisibility refuses it', async () => {
    // Why the backend never relies on SQS to reject a stale ack (AWS documents the same silent success).
    const backend = await open();
    const q = queue('stale-raw');
    await new Client(backend).add(q, 'x');
    const qUrl = await backend.registry.levelUrl(q, 0);
    const raw = rawClient();
    try {
      const first = await raw.send(new ReceiveMessageCommand({ QueueUrl: qUrl, VisibilityTimeout: 1 }));
      const stale = first.Messages![0]!.ReceiptHandle!;
      await delay(1100);
      const again = await raw.send(new ReceiveMessageCommand({ QueueUrl: qUrl, VisibilityTimeout: 30 }));
      expect(again.Messages).toHaveLength(1);
      await raw.send(new DeleteMessageCommand({ QueueUrl: qUrl, ReceiptHandle: stale })); // no error…
      const attrs = await raw.send(
        new GetQueueAttributesCommand({
          QueueUrl: qUrl,
          AttributeNames: ['ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      expect(attrs.Attributes?.ApproximateNumberOfMessagesNotVisible).toBe('1'); // …and nothing deleted
      const cmv = await raw
        .send(
          new ChangeMessageVisibilityCommand({ QueueUrl: qUrl, ReceiptHandle: stale, VisibilityTimeout: 5 }),
        )
        .catch((e: unknown) => e);
      expect((cmv as Error).name).toBe('MessageNotInflight');
      await raw.send(
        new DeleteMessageCommand({ QueueUrl: qUrl, ReceiptHandle: again.Messages![0]!.ReceiptHandle! }),
      );
    } finally {
      raw.destroy();
    }
  });

  test('a lease is only good on the instance that popped it; a purge here voids leases on the queue', async () => {
    const a = await open();
    const b = await open();
    const q = queue('instances');
    await new Client(a).addMany([1, 2].map((payload) => ({ queue: q, payload })));
    const jobs = await popAll(a, q, 2);
    const err = await b.ack(jobs[0]!).catch((e: unknown) => e);
    expect(hasErrorCode(err, 'LEASE_LOST')).toBe(true);
    await a.ack(jobs[0]!);
    expect(await a.inspector!.purge(q)).toBe(1);
    expect(hasErrorCode(await a.ack(jobs[1]!).catch((e: unknown) => e), 'LEASE_LOST')).toBe(true);
  });

  test('a pop that gave up (abort) hands back what its long poll brought later, attempt not counted', async () => {
    const backend = await open();
    const q = queue('orphan');
    const controller = new AbortController();
    const waiting = backend.pop([q], { max: 1, leaseMs: 60_000, waitMs: 5000, signal: controller.signal });
    await delay(200);
    controller.abort();
    expect(await waiting).toEqual([]);
    const { id } = await new Client(backend).add(q, 'late'); // the still-open long poll receives it
    const popped = await eventually(
      async () => (await backend.pop([q], { max: 1, leaseMs: 60_000 }))[0],
      15_000,
    );
    const job = popped!;
    expect(job.id).toBe(id);
    expect(job.attemptsMade).toBe(1);
    expect(job.lastError).toBeUndefined();
    await backend.ack(job);
  });
});

describe('dead jobs (the backend’s own dead queue)', () => {
  test('list/getJob/deleteJobs/retryDead work on dead jobs; other states are unsupported', async () => {
    const backend = await open();
    const q = queue('dead');
    const inspector = backend.inspector!;
    const ids = (await new Client(backend).addMany([1, 2, 3].map((payload) => ({ queue: q, payload })))).map(
      (r) => r.id,
    );
    for (const job of await popAll(backend, q, 3)) {
      await backend.requeue(job, {
        dead: true,
        error: { message: `no ${job.payload}`, attempt: 1, at: new Date() },
      });
      await delay(5); // distinct deadAt: the listing is newest first
    }
    const dead = await inspector.list(q, 'dead');
    expect(dead.map((j) => j.id)).toEqual([...ids].reverse());
    expect(dead[0]).toMatchObject({ state: 'dead', attemptsMade: 1, lastError: { message: 'no 3' } });
    expect((await inspector.getJob(q, ids[1]!))?.payload).toBe('2');
    expect(await inspector.deleteJobs(q, 'dead', [ids[0]!])).toBe(1);
    expect((await inspector.counts(q)).dead).toBe(2);
    expect(await inspector.retryDead(q, [ids[1]!])).toBe(1);
    const [back] = await popAll(backend, q, 1);
    expect(back).toMatchObject({ id: ids[1], attemptsMade: 1, lastError: { message: 'no 2' } });
    await backend.ack(back!);
    expect((await inspector.counts(q)).dead).toBe(1);
    for (const state of ['waiting', 'delayed', 'active'] as const) {
      expect(
        hasErrorCode(await inspector.list(q, state).catch((e: unknown) => e), 'UNSUPPORTED_FEATURE'),
      ).toBe(true);
    }
    expect(
      hasErrorCode(await inspector.deleteJobs(q, 'waiting').catch((e: unknown) => e), 'UNSUPPORTED_FEATURE'),
    ).toBe(true);
    expect(await inspector.queues()).toContain(q);
  });

  test('a message from a plain SQS producer (no ilkkun attributes) is a job: popped, acked', async () => {
    const backend = await open();
    const q = queue('foreign');
    const qUrl = await backend.registry.levelUrl(q, 0);
    const raw = rawClient();
    try {
      const sent = await raw.send(
        new SendMessageCommand({ QueueUrl: qUrl, MessageBody: '{"from":"elsewhere"}' }),
      );
      const [job] = await popAll(backend, q, 1);
      expect(job).toMatchObject({ id: sent.MessageId, queue: q, attemptsMade: 1, maxAttempts: 3 });
      await backend.ack(job!);
    } finally {
      raw.destroy();
    }
  });
});

describe('runner on SQS', () => {
  test('graceful shutdown releases in-flight jobs exactly once: back at once, attempt given back, no duplicates', async () => {
    const backend = await open();
    const q = queue('release');
    const runner = createRunner({
      backend,
      handlers: { [q]: () => delay(3000) },
      global: { concurrency: 4, leaseMs: 30_000, waitMs: 1000 },
    });
    const started: string[] = [];
    const released: string[] = [];
    runner.on('job:start', ({ job }) => started.push(job.id));
    runner.on('job:release', ({ job }) => released.push(job.id));
    await runner.start();
    const ids = (
      await new Client(backend).addMany([1, 2, 3, 4].map((payload) => ({ queue: q, payload })))
    ).map((r) => r.id);
    await eventually(() => started.length === 4, 15_000, 'four jobs started');
    await runner.stop({ graceMs: 100 });
    expect(released.sort()).toEqual([...ids].sort());
    // visibility-0 semantics: available at once, not after the 30 s lease
    const t0 = Date.now();
    const back = await popAll(backend, q, 4, 5000);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(back.map((j) => j.id).sort()).toEqual([...ids].sort());
    expect(back.every((j) => j.attemptsMade === 1 && j.lastError === undefined)).toBe(true);
    await Promise.all(back.map((j) => backend.ack(j)));
    // nothing else comes back: exactly one copy per job
    expect(await backend.pop([q], { max: 10, waitMs: 2000 })).toEqual([]);
    expect(await backend.inspector!.counts(q)).toMatchObject({ waiting: 0, active: 0, delayed: 0 });
  });

  test('a failing handler is retried with backoff (re-sent with the error), then completes', async () => {
    const backend = await open();
    const q = queue('retry');
    let calls = 0;
    const runner = createRunner({
      backend,
      handlers: {
        [q]: () => {
          calls++;
          if (calls === 1) throw new Error('transient');
        },
      },
      global: { concurrency: 2, waitMs: 1000, backoff: { type: 'fixed', delayMs: 500 } },
    });
    const done: Array<{ attemptsMade: number; lastError?: string }> = [];
    runner.on('job:complete', ({ job }) => {
      const d: { attemptsMade: number; lastError?: string } = { attemptsMade: job.attemptsMade };
      if (job.lastError) d.lastError = job.lastError.message;
      done.push(d);
    });
    await runner.start();
    await new Client(backend).add(q, 'x', { attempts: 3 });
    await eventually(() => done.length === 1, 15_000, 'completion');
    await runner.stop();
    expect(done).toEqual([{ attemptsMade: 2, lastError: 'transient' }]);
  });

  test('a runner process killed mid-job (SIGKILL): the job comes back after its lease, attempt counted', async () => {
    const backend = await open();
    const q = queue('crash');
    const { id } = await new Client(backend).add(q, 'doomed', { attempts: 3 });
    const fixture = fileURLToPath(new URL('./fixtures/crash-runner.mjs', import.meta.url));
    const child = spawn(process.execPath, [fixture, url, q, '2000'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const started = await new Promise<{ started?: string }>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout });
      lines.on('line', (line) => {
        const msg = JSON.parse(line) as { started?: string };
        if (msg.started) resolve(msg);
      });
      child.once('exit', () => reject(new Error(`runner exited early: ${stderr}`)));
    });
    expect(started.started).toBe(id);
    child.kill('SIGKILL');
    await exited;
    const [again] = await popAll(backend, q, 1, 15_000);
    expect(again).toMatchObject({ id, attemptsMade: 2, lastError: { message: LEASE_EXPIRED_MESSAGE } });
    await backend.ack(again!);
  });
});

describe('close', () => {
  test('close() ends a waiting pop and waits for its open long poll; calls after it are BACKEND_CLOSED', async () => {
    const backend = await open({ longPollSeconds: 2 });
    const q = queue('close');
    const waiting = backend.pop([q], { max: 1, waitMs: 30_000 });
    await delay(100);
    await backend.close();
    expect(await waiting).toEqual([]);
    expect(hasErrorCode(await backend.pop([q]).catch((e: unknown) => e), 'BACKEND_CLOSED')).toBe(true);
  });
});
