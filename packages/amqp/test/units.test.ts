import { hasErrorCode, LeaseLostError } from '@ilkkun/core';
import { describe, expect, it } from 'vitest';
import { BUCKETS, MAX_BUCKET_MS, MIN_BUCKET_MS, maxLatenessMs, planHop } from '../src/delay-buckets.js';
import { type LeaseEntry, LeaseTable } from '../src/lease-table.js';
import { queueNames, waitQueueName } from '../src/names.js';
import { resolveOptions } from '../src/options.js';
import { parseAmqpUrl } from '../src/parse-url.js';
import { exactPriorityRange, priorityLevel } from '../src/priority-map.js';
import { triage } from '../src/triage.js';

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(hasErrorCode(err, 'CONFIG'), String(err)).toBe(true);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('URL and options', () => {
  it('parses host, port, vhost and credentials the way RabbitMQ URIs mean them', () => {
    expect(parseAmqpUrl('amqp://u:p%40ss@example.org:5673/my%2Fvhost?prefix=x')).toMatchObject({
      protocol: 'amqp',
      hostname: 'example.org',
      port: 5673,
      username: 'u',
      password: 'p@ss',
      vhost: 'my/vhost',
      params: { prefix: 'x' },
    });
    expect(parseAmqpUrl('amqps://h')).toMatchObject({ port: 5671, vhost: '/', username: 'guest' });
    expect(parseAmqpUrl('amqp://[::1]:5672').hostname).toBe('::1');
  });

  it('refuses unknown or bad parameters with CONFIG, never printing the password', () => {
    const url = 'amqp://user:s3cret@127.0.0.1:5672/?maxPriorty=5';
    const msg = configError(() => resolveOptions(parseAmqpUrl(url).params));
    expect(msg).toContain('maxPriorty');
    expect(configError(() => parseAmqpUrl('amqp://user:s3cret@h:99999'))).not.toContain('s3cret');
    expect(configError(() => parseAmqpUrl('redis://user:s3cret@h'))).not.toContain('s3cret');
    expect(configError(() => parseAmqpUrl('amqp://h/a/b'))).toContain('%2F');
    configError(() => resolveOptions({ queueType: 'stream' }));
    configError(() => resolveOptions({ maxPriority: '256' }));
    configError(() => resolveOptions({ maxPriority: '1.5' }));
    configError(() => resolveOptions({ deliveryLimit: '5' })); // classic queues have no delivery count
    configError(() => resolveOptions({ queueType: 'quorum', maxPriority: '5' })); // no priorities in 3.10 quorum
    configError(() => resolveOptions({ prefix: 'amq.x' }));
    configError(() => resolveOptions({ prefix: 'has/slash' }));
    configError(() => resolveOptions({ prefix: 'x'.repeat(33) }));
    configError(() => resolveOptions({}, { heartbeat: -1 }));
  });

  it('merges URL parameters with the options object (the object wins)', () => {
    expect(resolveOptions({ prefix: 'a', maxPriority: '4' }, { prefix: 'b' })).toMatchObject({
      prefix: 'b',
      maxPriority: 4,
      queueType: 'classic',
    });
    expect(resolveOptions({ queueType: 'quorum', deliveryLimit: '7' })).toMatchObject({
      queueType: 'quorum',
      maxPriority: 0,
      deliveryLimit: 7,
    });
  });
});

describe('queue names', () => {
  it("are injective: no queue can collide with another queue's dead or wait queue", () => {
    const a = queueNames('app', 'a');
    const aDead = queueNames('app', 'a.dead');
    expect(new Set([a.work, a.dead, aDead.work, aDead.dead, waitQueueName(a, 1024)]).size).toBe(5);
    expect(a).toEqual({ queue: 'a', work: 'app/a', dead: 'app/a/dead' });
  });

  it("fit AMQP's 255 bytes for the longest prefix, queue name and bucket", () => {
    const n = queueNames('p'.repeat(32), 'q'.repeat(200));
    expect(Buffer.byteLength(waitQueueName(n, MAX_BUCKET_MS))).toBeLessThanOrEqual(255);
  });
});

describe('priority mapping', () => {
  it('maps 0 to the middle level and −10…+10 one-to-one with the default maxPriority 20', () => {
    expect(priorityLevel(0, 20)).toBe(10);
    expect(exactPriorityRange(20)).toEqual({ min: -10, max: 10 });
    const levels = Array.from({ length: 21 }, (_, i) => priorityLevel(i - 10, 20));
    expect(levels).toEqual(Array.from({ length: 21 }, (_, i) => i));
  });

  it('clamps beyond the ends, keeping negatives below the default', () => {
    expect(priorityLevel(11, 20)).toBe(20);
    expect(priorityLevel(2_147_483_647, 20)).toBe(20);
    expect(priorityLevel(-2_147_483_648, 20)).toBe(0);
    expect(priorityLevel(-1, 4)).toBeLessThan(priorityLevel(0, 4));
    expect(priorityLevel(5, 0)).toBe(0);
  });
});

describe('delay buckets', () => {
  it('are a bounded set of powers of two', () => {
    expect(BUCKETS.length).toBe(28);
    expect(BUCKETS[0]).toBe(MIN_BUCKET_MS);
    expect(BUCKETS.at(-1)).toBe(MAX_BUCKET_MS);
  });

  it('never plan a job early: a hop is either a bucket below the remaining delay, or at most 1/8 (≥16 ms) late', () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < 20_000; i++) {
      const remaining = Math.floor(random() ** 3 * 40 * 24 * 3_600_000) + 1;
      const hop = planHop(remaining);
      expect(BUCKETS).toContain(hop);
      if (hop >= remaining) expect(hop - remaining).toBeLessThanOrEqual(maxLatenessMs(remaining));
      else expect(hop).toBeGreaterThan(remaining / 2 - 1); // progress: at least half of it per hop
    }
  });

  it('needs few hops for common delays', () => {
    const hops = (delay: number) => {
      let remaining = delay;
      let n = 0;
      while (remaining > 0) {
        remaining -= planHop(remaining);
        n++;
      }
      return n;
    };
    expect(hops(1000)).toBe(1);
    expect(hops(500)).toBe(1);
    expect(hops(60_000)).toBeLessThanOrEqual(3);
    expect(hops(3_600_000)).toBeLessThanOrEqual(8);
  });
});

describe('delivery triage', () => {
  const meta = { id: 'j', queue: 'q', priority: 0, runAt: 1000, attempts: 1, maxAttempts: 3, createdAt: 0 };

  it('hands out a due, first-time delivery', () => {
    expect(triage(meta, 0, 1000)).toEqual({ kind: 'hand-out' });
  });

  it('sends an early one on its next hop without counting, even when redelivered', () => {
    expect(triage(meta, 1, 999)).toMatchObject({ kind: 'move', dest: 'ready', meta: { attempts: 1 } });
  });

  it('counts a redelivery as an expired lease, and buries the job when attempts are used up', () => {
    expect(triage(meta, 1, 2000)).toMatchObject({
      kind: 'move',
      dest: 'ready',
      meta: { attempts: 2, runAt: 2000, lastError: { message: 'lease expired', attempt: 2 } },
    });
    // quorum queues count every return: two crashes at once use up the budget
    expect(triage(meta, 2, 2000)).toMatchObject({ kind: 'move', dest: 'dead', meta: { attempts: 3 } });
  });
});

describe('lease table: a lease whose ack is under way', () => {
  const handle = (token: string) => ({ id: 'j', queue: 'q', lease: { token, expiresAt: new Date() } });

  it('is not given back when its deadline passes, can still be extended, and cannot be settled twice', async () => {
    const expired: string[] = [];
    const table = new LeaseTable<LeaseEntry>((lease) => expired.push(lease.token));
    table.add({ token: 't1', jobId: 'j', queue: 'q', expiresAt: Date.now() + 20 });
    const lease = table.claim(handle('t1'));
    await new Promise((r) => setTimeout(r, 80));
    expect(expired).toEqual([]); // its ack may already be with the broker: no copy is published
    expect(table.peek(handle('t1'))).toBe(lease); // the runner renews until the broker confirms
    expect(() => table.claim(handle('t1'))).toThrow(/already under way/);
    table.release(lease);
    expect(() => table.peek(handle('t1'))).toThrow(LeaseLostError);
    table.stop();
  });

  it('runs its course again when the settlement failed before the broker got anything', async () => {
    const expired: string[] = [];
    const table = new LeaseTable<LeaseEntry>((lease) => expired.push(lease.token));
    table.add({ token: 't2', jobId: 'j', queue: 'q', expiresAt: Date.now() + 20 });
    table.unclaim(table.claim(handle('t2')));
    await new Promise((r) => setTimeout(r, 80));
    expect(expired).toEqual(['t2']);
    table.stop();
  });
});
