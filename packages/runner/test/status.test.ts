import type { Backend } from '@ilkkun/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRunner, type Runner, type StatusSnapshot } from '../src/index.js';
import { backendCases, client, collect, eventually, queueName } from './helpers.js';

describe.each(backendCases)('status server on $name', (backendCase) => {
  let backend: Backend;
  let cleanup: () => Promise<void>;
  let runner: Runner | undefined;
  beforeEach(async () => {
    ({ backend, cleanup } = await backendCase.open());
  });
  afterEach(async () => {
    await runner?.stop({ graceMs: 0 });
    runner = undefined;
    await cleanup();
  });

  it('serves /status JSON, /metrics Prometheus text, /healthz and a one-line /scoreboard on 127.0.0.1', async () => {
    const q = queueName('status');
    const failing = queueName('status-fail');
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    runner = createRunner({
      backend,
      handlers: {
        [q]: async (job) => {
          if ((job.payload as { hold?: boolean }).hold) await gate;
        },
        [failing]: async () => {
          throw new Error('x');
        },
      },
      global: { concurrency: 4, waitMs: 100 },
      status: { port: 0 },
    });
    const completed = collect(runner, 'job:complete');
    const dead = collect(runner, 'job:dead');
    await runner.start();
    const base = runner.statusUrl!;
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const c = client(backend);
    await c.addMany(Array.from({ length: 3 }, () => ({ queue: q, payload: {} })));
    await c.add(failing, {}, { attempts: 1 });
    await eventually(() => completed.length === 3 && dead.length === 1);
    const { id: held } = await c.add(q, { hold: true });
    await eventually(() => runner!.busy === 1);

    const status = (await (await fetch(`${base}/status`)).json()) as StatusSnapshot;
    expect(status.pid).toBe(process.pid);
    expect(status.state).toBe('running');
    expect(status.size).toBe(4);
    expect(status.busy).toBe(1);
    expect(status.totals).toMatchObject({ completed: 3, failed: 1, dead: 1 });
    const busy = status.groups[0]!.slots.find((s) => s.state === 'busy')!;
    expect(busy).toMatchObject({ queue: q, jobId: held, pid: process.pid });
    expect(new Date(busy.since).getTime()).not.toBeNaN();
    expect(status.groups[0]!.slots.reduce((n, s) => n + s.jobsDone, 0)).toBe(4);
    expect(status.groups[0]!.workers[0]).toMatchObject({ pid: process.pid, jobsDone: 4 });
    expect(status.groups[0]!.workers[0]!.rssBytes).toBeGreaterThan(0);

    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    const text = await metrics.text();
    expect(text).toContain(`ilkkun_jobs_completed_total{queue="${q}"} 3`);
    expect(text).toContain(`ilkkun_jobs_failed_total{queue="${failing}"} 1`);
    expect(text).toContain(`ilkkun_jobs_dead_total{queue="${failing}"} 1`);
    expect(text).toContain('ilkkun_busy_slots 1');
    expect(text).toContain(`ilkkun_queue_depth{queue="${q}",state="active"} 1`);
    expect(text).toContain(`ilkkun_job_duration_seconds_count{queue="${q}",outcome="completed"} 3`);
    expect(text).toContain(`ilkkun_job_pickup_latency_seconds_count{queue="${q}"} 4`);

    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true, state: 'running' });

    const line = await (await fetch(`${base}/scoreboard`)).text();
    expect(line.trim()).toMatch(/^[_W]{4} 1\/4 busy$/);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    release();
  });

  it('has no server unless a port is given', async () => {
    runner = createRunner({ backend, handlers: { [queueName('no-status')]: async () => {} } });
    await runner.start();
    expect(runner.statusUrl).toBeUndefined();
    expect(runner.scoreboard()).toBe('_ 0/1 busy');
  });
});
