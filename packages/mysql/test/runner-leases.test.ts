import { eventually } from '@ilkkun/conformance';
import { type Backend, Client } from '@ilkkun/core';
import { createRunner, type Runner } from '@ilkkun/runner';
import { type Connection, createConnection } from 'mysql2/promise';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createBackend } from '../src/index.js';
import { parseMysqlUrl } from '../src/parse-url.js';
import { delay, runUrl } from './helpers.js';

// The runner's lease keeping on MySQL, where every job of one claim shares the claim's token.
//
// Issue 13, item 3: an ack that waits on the store (here: a row lock another session holds, as a
// stalled worker's open transaction did) must never let the leases of the jobs queued behind it
// lapse. Before the runner kept renewing until the store confirmed, the jobs whose acks waited
// behind the blocked one lost their leases and ran again on another worker.

const LEASE_MS = 2_000;
/** longer than a lease, so a lease nobody renews runs out while the lock is held */
const LOCK_HOLD_MS = 3 * LEASE_MS;

let backend: Backend;
let thief: Backend;
const runners: Runner[] = [];
let locker: Connection | undefined;

async function openLocker(): Promise<Connection> {
  const u = parseMysqlUrl(runUrl);
  return createConnection({
    host: u.host,
    port: u.port,
    database: u.database,
    ...(u.user === undefined ? {} : { user: u.user }),
    ...(u.password === undefined ? {} : { password: u.password }),
  });
}

beforeAll(async () => {
  backend = await createBackend(runUrl);
  thief = await createBackend(runUrl);
  return async () => {
    await backend.close();
    await thief.close();
  };
});

afterEach(async () => {
  await locker?.end().catch(() => undefined);
  locker = undefined;
  await Promise.all(runners.splice(0).map((r) => r.stop({ graceMs: 0 })));
});

describe('runner on mysql: leases are kept until the store confirms', () => {
  it('renews every job of one claim, though they share its lease token', async () => {
    const q = `test.sharedtoken.${process.pid}`;
    const runner = createRunner({
      backend,
      // outlive the lease 2.5 times over: only heartbeats keep these jobs
      handlers: { [q]: async () => delay(2.5 * LEASE_MS) },
      global: { concurrency: 4, leaseMs: LEASE_MS, waitMs: 100 },
    });
    runners.push(runner);
    const completed: string[] = [];
    const lost: string[] = [];
    const started: string[] = [];
    runner.on('job:start', ({ job }) => started.push(job.id));
    runner.on('job:complete', ({ job }) => completed.push(job.id));
    runner.on('lease:lost', ({ job }) => lost.push(job.id));
    const ids = (
      await new Client(backend).addMany([1, 2, 3, 4].map((n) => ({ queue: q, payload: { n } })))
    ).map((r) => r.id);
    await runner.start();
    await eventually(() => started.length === 4, 15_000, 'all four jobs to start');
    const stolen: string[] = [];
    while (completed.length < 4 && lost.length === 0) {
      for (const j of await thief.pop([q], { leaseMs: LEASE_MS })) {
        stolen.push(j.id);
        await thief.requeue(j, { release: true });
      }
      await delay(100);
    }
    expect(stolen).toEqual([]);
    expect(lost).toEqual([]);
    expect([...completed].sort()).toEqual([...ids].sort());
  });

  it('jobs whose acks queue behind a lock-waiting ack are renewed, never taken by another worker', async () => {
    const q = `test.ackwait.${process.pid}`;
    let lockedId: string | undefined;
    let lockTaken = false;
    const runner = createRunner({
      backend,
      handlers: {
        [q]: async (job) => {
          const { lock } = job.payload as { lock?: boolean };
          if (lock && !lockTaken) {
            lockTaken = true;
            // another session locks this job's row and sits on it: the ack's DELETE waits
            locker = await openLocker();
            await locker.query('START TRANSACTION');
            await locker.query('SELECT `jobid` FROM `job` WHERE `jobid` = ? FOR UPDATE', [job.id]);
            lockedId = job.id;
            return 'locked';
          }
          // finish while the locked job's ack is still waiting: these acks queue behind it
          await eventually(() => lockedId !== undefined, 10_000, 'the lock to be taken');
          await delay(300);
          return 'ok';
        },
      },
      global: { concurrency: 4, leaseMs: LEASE_MS, waitMs: 100 },
    });
    runners.push(runner);
    const completed: string[] = [];
    const lost: string[] = [];
    runner.on('job:complete', ({ job }) => completed.push(job.id));
    runner.on('lease:lost', ({ job }) => lost.push(job.id));
    const client = new Client(backend);
    await client.add(q, { lock: true });
    const others = await client.addMany([1, 2, 3].map((n) => ({ queue: q, payload: { n } })));
    const otherIds = others.map((o) => o.id);
    await runner.start();
    await eventually(() => lockedId !== undefined, 15_000, 'the first job to lock its row');

    // A second worker tries to take the jobs all the while the lock is held.
    const stolen: string[] = [];
    const until = Date.now() + LOCK_HOLD_MS;
    while (Date.now() < until) {
      for (const j of await thief.pop([q], { leaseMs: LEASE_MS })) {
        stolen.push(j.id);
        await thief.requeue(j, { release: true });
      }
      await delay(100);
    }
    await locker?.query('ROLLBACK');

    await eventually(
      () => otherIds.every((id) => completed.includes(id)),
      30_000,
      'the queued acks to be confirmed',
    );
    expect(stolen.filter((id) => otherIds.includes(id))).toEqual([]);
    expect(lost.filter((id) => otherIds.includes(id))).toEqual([]);
    for (const id of otherIds) expect(completed.filter((c) => c === id)).toHaveLength(1);
  });
});
