import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { eventually } from '@ilkkun/conformance';
import { type Backend, Client, type LeasedJobRecord } from '@ilkkun/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createBackend } from '../src/index.js';
import { fixture, scratchDatabase } from './helpers.js';

// Issue 13, item 2: one stalled worker must not stall the others. A worker process stopped
// (SIGSTOP) while its claim transaction was open used to keep row locks on jobs *another* worker
// held leases on: the claim's locking scan of the pop index locked every row it passed, and those
// locks lived until its COMMIT. The other worker's ack/extend/requeue then waited for the whole
// pause (up to innodb_lock_wait_timeout, 50 s, longer than a lease).
//
// Each case stops a real worker process at a known point: right after the first locking read of
// its claim transaction (test/fixtures/stalled-claimer.mjs blocks there and is SIGSTOPped), with
// the transaction open. Waits are bounded generously (a loaded 2-core machine); "promptly" means
// "while the stalled worker is still stopped", which holds by construction: it is only resumed
// after the checks.

/** Far longer than any of the checks below may take, far shorter than the 50 s server default. */
const PROMPT_MS = 20_000;

interface Stalled {
  child: ChildProcess;
  /** ids the statement it froze after returned (for a claim: the rows it had locked) */
  locked: string[];
  /** resume the process and let its call finish; resolves with what it popped (and acked) or pushed */
  resume(): Promise<string[]>;
}

const children = new Set<ChildProcess>();
const opened: Backend[] = [];
afterEach(async () => {
  for (const child of children) {
    child.kill('SIGCONT');
    child.kill('SIGKILL');
  }
  children.clear();
  for (const b of opened.splice(0)) await b.close();
});

async function open(url: string): Promise<Backend> {
  const b = await createBackend(url);
  opened.push(b);
  return b;
}

/**
 * Start a worker process that pops from (`pop`, arg = max) or pushes to (`push`, arg = unique
 * key) `queue`, and wait until it sits frozen inside that call's transaction.
 */
async function startStalled(url: string, mode: 'pop' | 'push', queue: string, arg: string): Promise<Stalled> {
  const child = spawn(process.execPath, [fixture('stalled-claimer.mjs'), url, mode, queue, arg], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.add(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const messages: Array<{ frozen?: string[]; popped?: string[]; pushed?: string[] }> = [];
  createInterface({ input: child.stdout! }).on('line', (line) => messages.push(JSON.parse(line)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const frozen = await eventually(
    () => {
      if (child.exitCode !== null) throw new Error(`stalled claimer exited early: ${stderr}`);
      return messages.find((m) => m.frozen)?.frozen;
    },
    30_000,
    'the worker to freeze inside its transaction',
  );
  // as the scenario: the worker process is stopped, not merely busy
  child.kill('SIGSTOP');
  return {
    child,
    locked: frozen,
    resume: async () => {
      child.kill('SIGCONT');
      child.stdin!.write('go\n');
      const done = await eventually(
        () => messages.find((m) => m.popped ?? m.pushed),
        60_000,
        'the resumed worker to finish its call',
      );
      expect(await exited).toBe(0);
      children.delete(child);
      return done.popped ?? done.pushed ?? [];
    },
  };
}

/** Resolves with the operation's result, or fails the test when it is still waiting after `ms`. */
async function within<T>(ms: number, what: string, op: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} still waiting after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([op, late]);
  } finally {
    clearTimeout(timer);
  }
}

describe('a worker stalled inside its transaction', () => {
  it("never holds up another worker's ack, extend, requeue or claim of its own jobs", async () => {
    // lockWaitTimeoutSeconds=60 for the stalled one: the server does not end its transaction
    // during the test, so this case checks what the claim locks, not the timeout
    const { url } = await scratchDatabase('stall');
    const queue = 'stall.q';
    const worker = await open(url);
    const client = new Client(worker);
    // the other worker's jobs come first in pop order, so a claim scanning the queue passes them
    await client.addMany([1, 2, 3, 4].map((n) => ({ queue, payload: { held: n }, priority: 5 })));
    const held = await worker.pop([queue], { max: 4, leaseMs: 60_000 });
    expect(held).toHaveLength(4);
    await client.addMany([1, 2, 3, 4, 5].map((n) => ({ queue, payload: { ready: n } })));

    const stalled = await startStalled(`${url}?lockWaitTimeoutSeconds=60`, 'pop', queue, '2');
    expect(stalled.locked.length).toBeGreaterThan(0);
    expect(stalled.locked.filter((id) => held.some((h) => h.id === id))).toEqual([]);

    const [toExtend, toAck, toRequeue, toAckMany] = held as [
      LeasedJobRecord,
      LeasedJobRecord,
      LeasedJobRecord,
      LeasedJobRecord,
    ];
    const started = Date.now();
    const extended = await within(PROMPT_MS, 'extend', worker.extend(toExtend, 60_000));
    expect(extended.getTime()).toBeGreaterThan(Date.now());
    await within(PROMPT_MS, 'ack', worker.ack(toAck));
    await within(PROMPT_MS, 'requeue', worker.requeue(toRequeue, { release: true }));
    expect(await within(PROMPT_MS, 'ackMany', worker.ackMany!([toAckMany, toExtend]))).toEqual([null, null]);
    // the claim skips what the stalled one holds and takes the rest, without waiting for it
    const claimed = await within(PROMPT_MS, 'pop', worker.pop([queue], { max: 10, leaseMs: 60_000 }));
    expect(claimed.map((j) => j.id).filter((id) => stalled.locked.includes(id))).toEqual([]);
    expect(claimed.map((j) => j.id)).toContain(toRequeue.id);
    expect(await within(PROMPT_MS, 'ackMany', worker.ackMany!(claimed))).toEqual(claimed.map(() => null));
    console.log(`[stalled-claimer] the other worker's 6 calls took ${Date.now() - started} ms in all`);

    // resumed, the stalled worker completes its claim: it gets exactly the rows it had locked,
    // nothing another worker held or finished
    const popped = await stalled.resume();
    expect(popped.sort()).toEqual([...stalled.locked].sort());
    expect(await worker.inspector!.counts(queue)).toMatchObject({
      waiting: 0,
      active: 0,
      delayed: 0,
      dead: 0,
    });
  }, 120_000);

  it('is cut off by the server after lockWaitTimeoutSeconds, freeing the jobs it was claiming', async () => {
    // A frozen claimer holds the rows it is claiming; nobody else holds a lease on them, but
    // they are out of reach until its transaction ends. With lockWaitTimeoutSeconds the server
    // ends it (MariaDB's idle_transaction_timeout) while the process is still stopped.
    const { url } = await scratchDatabase('stallcut');
    const queue = 'stallcut.q';
    const worker = await open(url);
    await new Client(worker).addMany([1, 2].map((n) => ({ queue, payload: { n } })));
    const stalled = await startStalled(`${url}?lockWaitTimeoutSeconds=1`, 'pop', queue, '2');
    expect(stalled.locked).toHaveLength(2);
    const started = Date.now();
    const taken = await eventually(
      async () => {
        const jobs = await worker.pop([queue], { max: 2, leaseMs: 60_000 });
        if (jobs.length > 0) await worker.ackMany!(jobs);
        return jobs.length > 0 ? jobs : undefined;
      },
      PROMPT_MS,
      "the stalled claimer's jobs to be freed while it is still stopped",
    );
    expect(taken.map((j) => j.id).sort()).toEqual([...stalled.locked].sort());
    console.log(`[stalled-claimer] freed ${Date.now() - started} ms after the freeze`);
    // resumed, it finds its connection gone, claims again and gets nothing: no job runs twice
    expect(await stalled.resume()).toEqual([]);
  }, 120_000);

  it('a producer stalled after pushing a duplicate unique key never holds up the ack of the job holding the key', async () => {
    // An INSERT that hits a unique key takes a shared lock on the holder's index entry until its
    // transaction ends; the holder here is a job another worker has leased and wants to ack.
    const { url } = await scratchDatabase('stallpush');
    const queue = 'stallpush.q';
    const worker = await open(url);
    await new Client(worker).add(queue, 'holder', { uniqueKey: 'the-key' });
    const [holder] = await worker.pop([queue], { max: 1, leaseMs: 60_000 });
    expect(holder).toBeDefined();
    const stalled = await startStalled(`${url}?lockWaitTimeoutSeconds=60`, 'push', queue, 'the-key');
    await within(PROMPT_MS, 'ack', worker.ack(holder!));
    const pushed = await stalled.resume();
    // the holder finished while the push was stopped, so the key was free again: both jobs are new
    expect(pushed).toHaveLength(2);
    expect(pushed).not.toContain(holder!.id);
    expect(await worker.inspector!.counts(queue)).toMatchObject({ waiting: 2, active: 0 });
  }, 120_000);
});
