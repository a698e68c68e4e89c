import { eventually } from '@ilkkun/conformance';
import { type Backend, Client, type LeasedJobRecord, LeaseLostError } from '@ilkkun/core';
import { createPool, type Pool, type PoolConnection } from 'mysql2/promise';
import { afterEach, describe, expect, it } from 'vitest';
import { Database } from '../src/db.js';
import { THESCHWARTZ } from '../src/flavors/index.js';
import { createBackend } from '../src/index.js';
import { parseMysqlUrl } from '../src/parse-url.js';
import { ackJobs } from '../src/queries/ack.js';
import { sqlKit } from '../src/sql.js';
import { scratchDatabase } from './helpers.js';

// Issue 13, item 1: an ack answers per lease (job id + token), never per job. A stale handle (its
// lease ran out, the job was popped again) and the current handle of the same job in one ackMany
// must answer [LEASE_LOST, acked]; MySQL used to answer [acked, acked] because it kept acked job
// ids. The conformance suite checks the plain case on every backend; this file checks the paths
// only MySQL has: the exit-status path (keepExitStatusFor) and the retry after a COMMIT whose
// answer was lost.

const opened: Backend[] = [];
const pools: Pool[] = [];
afterEach(async () => {
  for (const b of opened.splice(0)) await b.close();
  for (const p of pools.splice(0)) await p.end().catch(() => undefined);
});

/** A job leased twice: `stale` from a pop whose short lease ran out, `current` from the pop after. */
async function leasedTwice(url: string): Promise<{ stale: LeasedJobRecord; current: LeasedJobRecord }> {
  const backend = await createBackend(url);
  opened.push(backend);
  const queue = 'per-lease.q';
  await new Client(backend).add(queue, 'x', { attempts: 5 });
  const [stale] = await backend.pop([queue], { max: 1, leaseMs: 300 });
  // the job coming back is the sign the short lease ran out (no fixed sleep)
  const current = await eventually(
    async () => (await backend.pop([queue], { max: 1, leaseMs: 60_000 }))[0],
    20_000,
    'the job to come back after its short lease',
  );
  expect(current.id).toBe(stale!.id);
  return { stale: stale!, current };
}

/**
 * A pool on the real server whose first COMMIT goes through and then loses its answer, as when the
 * connection breaks right after the server committed: the backend sees a lost connection while
 * committing and runs the transaction again, not knowing whether the first run's work is in.
 */
function poolLosingFirstCommitAnswer(url: string): { pool: Pool; lost: () => number } {
  const target = parseMysqlUrl(url);
  const pool = createPool({
    host: target.host,
    port: target.port,
    database: target.database,
    ...(target.user === undefined ? {} : { user: target.user }),
    ...(target.password === undefined ? {} : { password: target.password }),
    supportBigNumbers: true,
    bigNumberStrings: true,
  });
  pools.push(pool);
  let lostAnswers = 0;
  const getConnection = pool.getConnection.bind(pool);
  pool.getConnection = async () => {
    const conn = await getConnection();
    const query = conn.query.bind(conn) as (sql: string, values?: unknown) => Promise<unknown>;
    const faulty = async (sql: string, values?: unknown) => {
      const result = await query(sql, values);
      if (sql === 'COMMIT' && lostAnswers === 0) {
        lostAnswers++;
        conn.destroy();
        throw Object.assign(new Error('Connection lost: The server closed the connection.'), {
          code: 'PROTOCOL_CONNECTION_LOST',
          fatal: true,
        });
      }
      return result;
    };
    conn.query = faulty as unknown as PoolConnection['query'];
    return conn;
  };
  return { pool, lost: () => lostAnswers };
}

describe('ackMany answers per lease, not per job', () => {
  it.each([0, 60])(
    'a stale and the current handle of one job: [LEASE_LOST, acked] (keepExitStatusFor=%i)',
    async (keepExitStatusFor) => {
      const { url } = await scratchDatabase(`perlease${keepExitStatusFor}`);
      const { stale, current } = await leasedTwice(url);
      const backend = await createBackend(url, { keepExitStatusFor });
      opened.push(backend);
      const outcome = await backend.ackMany!([stale, current]);
      expect(outcome[0]).toBeInstanceOf(LeaseLostError);
      expect(outcome[1]).toBeNull();
      // the other order answers the same, per handle
      const again = await leasedTwice(url);
      const reversed = await backend.ackMany!([again.current, again.stale]);
      expect(reversed[0]).toBeNull();
      expect(reversed[1]).toBeInstanceOf(LeaseLostError);
    },
  );

  it.each([0, 60])(
    'after a COMMIT whose answer was lost, only the lease that run deleted counts as acked (keepExitStatusFor=%i)',
    async (keepExitStatusFor) => {
      const { url } = await scratchDatabase(`lostcommit${keepExitStatusFor}`);
      const { stale, current } = await leasedTwice(url);
      const { pool, lost } = poolLosingFirstCommitAnswer(url);
      const db = new Database(pool, 'test', { lockWaitTimeoutSeconds: 3 });
      const outcome = await ackJobs(db, sqlKit(THESCHWARTZ), [stale, current], keepExitStatusFor);
      expect(lost()).toBe(1);
      // the job is gone (the first run's commit went through); the re-run found nothing to
      // delete, yet only the lease the first run matched is reported acked
      expect(outcome[0]).toBeInstanceOf(LeaseLostError);
      expect(outcome[1]).toBeNull();
    },
  );
});
