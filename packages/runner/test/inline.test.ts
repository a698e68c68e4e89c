import type { Backend, LeasedJob } from '@ilkkun/core';
import { ConfigError, InvalidQueueNameError, LeaseLostError } from '@ilkkun/core';
import { describe, expect, it } from 'vitest';
import { createRunner, UnrecoverableError } from '../src/index.js';
import { backendCases, client, collect, delay, eventually, queueName, useBackendCase } from './helpers.js';

describe.each(backendCases)('inline runner on $name', (backendCase) => {
  let backend!: Backend;
  const { start } = useBackendCase(backendCase, (b) => {
    backend = b;
  });

  it('works every job once and acks it', async () => {
    const q = queueName('acks');
    const seen: unknown[] = [];
    const runner = createRunner({
      backend,
      handlers: { [q]: async (job: LeasedJob<{ n: number }>) => seen.push(job.payload.n) },
      global: { concurrency: 4, waitMs: 200 },
    });
    const completed = collect(runner, 'job:complete');
    await start(runner);
    await client(backend).addMany(Array.from({ length: 20 }, (_, n) => ({ queue: q, payload: { n } })));
    await eventually(() => completed.length === 20, undefined, '20 completions');
    expect([...seen].sort((a, b) => (a as number) - (b as number))).toEqual(
      Array.from({ length: 20 }, (_, n) => n),
    );
    const counts = await backend.inspector!.counts(q);
    expect(counts).toMatchObject({ waiting: 0, delayed: 0, active: 0, dead: 0 });
  });

  it('retries with backoff, then moves the job to dead with the error recorded', async () => {
    const q = queueName('retry');
    const runner = createRunner({
      backend,
      handlers: {
        [q]: async () => {
          throw new Error('boom');
        },
      },
      global: { waitMs: 100, idleDelayMs: 5 },
    });
    const retries = collect(runner, 'job:retry');
    const dead = collect(runner, 'job:dead');
    const fails = collect(runner, 'job:fail');
    await start(runner);
    const { id } = await client(backend).add(
      q,
      { x: 1 },
      { attempts: 3, backoff: { type: 'fixed', delayMs: 50 } },
    );
    await eventually(() => dead.length === 1, undefined, 'the job to die');
    expect(retries.map((r) => r.delayMs)).toEqual([50, 50]);
    expect(retries.map((r) => r.error.attempt)).toEqual([1, 2]);
    for (const r of retries) expect(r.runAt.getTime() - r.error.at.getTime()).toBeGreaterThanOrEqual(50);
    expect(fails.map((f) => f.willRetry)).toEqual([true, true, false]);
    expect(dead[0]!.reason).toBe('attempts-exhausted');
    const stored = await backend.inspector!.getJob(q, id);
    expect(stored?.state).toBe('dead');
    expect(stored?.attemptsMade).toBe(3);
    expect(stored?.lastError).toMatchObject({ message: 'boom', name: 'Error', attempt: 3 });
  });

  it('never starts the next attempt before the backoff runAt', async () => {
    const q = queueName('backoff-timing');
    const runner = createRunner({
      backend,
      handlers: {
        [q]: async (job) => {
          if (job.attemptsMade < 3) throw new Error(`attempt ${job.attemptsMade} fails`);
          return 'third time lucky';
        },
      },
      global: { waitMs: 100, idleDelayMs: 5 },
    });
    const startedAt: number[] = [];
    runner.on('job:start', () => startedAt.push(Date.now()));
    const retries = collect(runner, 'job:retry');
    const completed = collect(runner, 'job:complete');
    await start(runner);
    await client(backend).add(
      q,
      {},
      { attempts: 3, backoff: { type: 'exponential', delayMs: 300, jitter: 0 } },
    );
    await eventually(() => completed.length === 1, undefined, 'the third attempt to complete');
    expect(startedAt).toHaveLength(3);
    expect(retries.map((r) => r.delayMs)).toEqual([300, 600]);
    for (let i = 0; i < retries.length; i++) {
      // the job waited out its backoff: attempt i+2 began no earlier than the runAt of retry i
      expect(startedAt[i + 1]!).toBeGreaterThanOrEqual(retries[i]!.runAt.getTime());
      expect(retries[i]!.runAt.getTime() - retries[i]!.error.at.getTime()).toBeGreaterThanOrEqual(
        retries[i]!.delayMs,
      );
    }
    expect(completed[0]!.job.attemptsMade).toBe(3);
  });

  it('records message, name, stack and attempt of a thrown error', async () => {
    const q = queueName('throws');
    class PaymentDeclined extends Error {
      override name = 'PaymentDeclined';
    }
    const runner = createRunner({
      backend,
      handlers: {
        [q]: async function chargeCard() {
          throw new PaymentDeclined('card declined');
        },
      },
      global: { waitMs: 100 },
    });
    const dead = collect(runner, 'job:dead');
    await start(runner);
    const { id } = await client(backend).add(q, {}, { attempts: 1 });
    await eventually(() => dead.length === 1);
    const err = (await backend.inspector!.getJob(q, id))!.lastError!;
    expect(err.message).toBe('card declined');
    expect(err.name).toBe('PaymentDeclined');
    expect(err.attempt).toBe(1);
    expect(err.stack).toContain('chargeCard');
    expect(err.at).toBeInstanceOf(Date);
  });

  it('a custom backoff function wins over the job backoff; the queue backoff applies when the job has none', async () => {
    const custom = queueName('custom-backoff');
    const plain = queueName('queue-backoff');
    const calls: [number, string][] = [];
    const fail = async () => {
      throw new Error('nope');
    };
    const runner = createRunner({
      backend,
      handlers: {
        [custom]: {
          handler: fail,
          settings: {
            backoff: (attempts, error) => {
              calls.push([attempts, error.message]);
              return 7;
            },
          },
        },
        [plain]: { handler: fail, settings: { backoff: { type: 'fixed', delayMs: 33 } } },
      },
      global: { waitMs: 100 },
    });
    const retries = collect(runner, 'job:retry');
    await start(runner);
    await client(backend).add(custom, {}, { attempts: 2, backoff: 60_000 });
    await client(backend).add(plain, {}, { attempts: 2 });
    await eventually(() => retries.length >= 2);
    expect(retries.find((r) => r.job.queue === custom)?.delayMs).toBe(7);
    expect(retries.find((r) => r.job.queue === plain)?.delayMs).toBe(33);
    expect(calls).toEqual([[1, 'nope']]);
  });

  it('an UnrecoverableError goes straight to dead', async () => {
    const q = queueName('unrecoverable');
    const runner = createRunner({
      backend,
      handlers: {
        [q]: async () => {
          throw new UnrecoverableError('no such user');
        },
      },
      global: { waitMs: 100 },
    });
    const dead = collect(runner, 'job:dead');
    await start(runner);
    const { id } = await client(backend).add(q, {}, { attempts: 5 });
    await eventually(() => dead.length === 1);
    expect(dead[0]!.reason).toBe('unrecoverable');
    expect((await backend.inspector!.getJob(q, id))?.attemptsMade).toBe(1);
  });

  it('never runs more jobs at once than the concurrency setting, per group', async () => {
    const shared = queueName('conc-a');
    const own = queueName('conc-b');
    let running = 0;
    let max = 0;
    let runningOwn = 0;
    let maxOwn = 0;
    const runner = createRunner({
      backend,
      handlers: {
        [shared]: async () => {
          max = Math.max(max, ++running);
          await delay(5 + Math.random() * 20);
          running--;
        },
        [own]: {
          handler: async () => {
            maxOwn = Math.max(maxOwn, ++runningOwn);
            await delay(5 + Math.random() * 20);
            runningOwn--;
          },
          settings: { concurrency: 2 },
        },
      },
      global: { concurrency: 3, waitMs: 100 },
    });
    const completed = collect(runner, 'job:complete');
    await start(runner);
    expect(runner.size).toBe(5);
    const c = client(backend);
    await c.addMany(Array.from({ length: 30 }, () => ({ queue: shared, payload: {} })));
    await c.addMany(Array.from({ length: 20 }, () => ({ queue: own, payload: {} })));
    await eventually(() => completed.length === 50, undefined, '50 completions');
    expect(max).toBeLessThanOrEqual(3);
    expect(maxOwn).toBeLessThanOrEqual(2);
    expect(max).toBeGreaterThan(1);
  });

  it('drops a job whose lease was lost (ack refused) and never retries the ack', async () => {
    const q = queueName('lost-ack');
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const runner = createRunner({ backend, handlers: { [q]: () => gate }, global: { waitMs: 100 } });
    const lost = collect(runner, 'lease:lost');
    const completed = collect(runner, 'job:complete');
    const started = collect(runner, 'job:start');
    await start(runner);
    await client(backend).add(q, {});
    await eventually(() => started.length === 1);
    await backend.inspector!.purge(q); // the lease is gone with the job
    release();
    await eventually(() => lost.length === 1);
    expect(lost[0]!.during).toBe('ack');
    await delay(100);
    expect(completed).toHaveLength(0);
  });

  it('aborts the signal with LeaseLostError when the heartbeat finds the lease gone', async () => {
    const q = queueName('lost-extend');
    let reason: unknown;
    const runner = createRunner({
      backend,
      handlers: {
        [q]: (_job, { signal }) =>
          new Promise<void>((resolve) => {
            signal.addEventListener('abort', () => {
              reason = signal.reason;
              resolve();
            });
          }),
      },
      global: { waitMs: 100, leaseMs: 200 },
    });
    const lost = collect(runner, 'lease:lost');
    const started = collect(runner, 'job:start');
    await start(runner);
    await client(backend).add(q, {});
    await eventually(() => started.length === 1);
    await backend.inspector!.purge(q);
    await eventually(() => lost.length === 1);
    expect(lost[0]!.during).toBe('extend');
    await eventually(() => reason !== undefined);
    expect(reason).toBeInstanceOf(LeaseLostError);
    await eventually(() => runner.busy === 0);
  });

  it('buries a job whose stored payload is not JSON', async () => {
    const q = queueName('undecodable');
    const runner = createRunner({ backend, handlers: { [q]: async () => {} }, global: { waitMs: 100 } });
    const dead = collect(runner, 'job:dead');
    await start(runner);
    const [pushed] = await backend.push([
      { queue: q, payload: '{not json', priority: 0, runAt: new Date(), maxAttempts: 3 },
    ]);
    await eventually(() => dead.length === 1);
    expect(dead[0]!.reason).toBe('undecodable');
    expect((await backend.inspector!.getJob(q, pushed!.id))?.state).toBe('dead');
  });

  it('emits pool:drain once the queues are empty and every slot is idle', async () => {
    const q = queueName('drain');
    const runner = createRunner({
      backend,
      handlers: { [q]: async () => {} },
      global: { waitMs: 50, concurrency: 2 },
    });
    const drains = collect(runner, 'pool:drain');
    const completed = collect(runner, 'job:complete');
    await start(runner);
    await eventually(() => drains.length === 1, undefined, 'initial drain');
    await client(backend).addMany(Array.from({ length: 5 }, () => ({ queue: q, payload: {} })));
    await eventually(() => completed.length === 5 && drains.length === 2, undefined, 'second drain');
  });
});

describe('runner options', () => {
  it('refuses bad configuration before anything runs', () => {
    const backend = 'memory:';
    expect(() => createRunner({ backend, handlers: {} })).toThrow(ConfigError);
    expect(() => createRunner({ backend, handlers: { 'bad name!': async () => {} } })).toThrow(
      InvalidQueueNameError,
    );
    expect(() =>
      createRunner({ backend, handlers: { q: async () => {} }, global: { concurrency: 0 } }),
    ).toThrow(/global.concurrency/);
    expect(() =>
      createRunner({
        backend,
        handlers: { q: { handler: async () => {}, settings: { concurency: 2 } as never } },
      }),
    ).toThrow(/unknown setting "concurency"/);
    expect(() =>
      createRunner({ backend, handlers: { q: async () => {} }, global: { mode: 'process' } }),
    ).toThrow(/must be a module path/);
  });

  it('merges per-queue settings over global over the defaults', () => {
    const runner = createRunner({
      backend: 'memory:',
      handlers: {
        a: async () => {},
        b: { handler: async () => {}, settings: { timeoutMs: 5, concurrency: 7 } },
      },
      global: { leaseMs: 1234, concurrency: 2 },
    });
    expect(runner.settingsOf('a')).toMatchObject({ leaseMs: 1234, concurrency: 2, timeoutMs: 600_000 });
    expect(runner.settingsOf('b')).toMatchObject({ leaseMs: 1234, concurrency: 7, timeoutMs: 5 });
    expect(runner.size).toBe(9);
  });

  it('opens and closes a backend given as a URL', async () => {
    const runner = createRunner({ backend: 'memory:runner-url-test', handlers: { q: async () => 'ok' } });
    await runner.start();
    expect(runner.backend.name).toBe('memory');
    await runner.stop();
    await expect(runner.backend.pop(['q'])).rejects.toThrow(/closed/);
  });
});
