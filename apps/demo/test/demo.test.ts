import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Client, createMemoryBackend } from '@ilkkun/core';
import { afterAll, describe, expect, it } from 'vitest';
// the built dist: its handler modules are what the child processes load
import { ALL_QUEUES, formatSummary, QUEUES, runDemo, uploadFor } from '../dist/demo.js';
import { startPhotoApp, validateUpload } from '../dist/photos.js';

const dir = mkdtempSync(join(tmpdir(), 'ilkkun-demo-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the photo app', () => {
  it('validates an upload before anything is stored or enqueued', async () => {
    const backend = createMemoryBackend();
    const app = await startPhotoApp({ client: new Client(backend) });
    try {
      const post = (body: string, type = 'application/json') =>
        fetch(`${app.url}/photos`, { method: 'POST', headers: { 'content-type': type }, body });
      expect((await post('{"user":"ada"}')).status).toBe(400);
      expect((await post('not json')).status).toBe(400);
      expect((await post('{}', 'text/plain')).status).toBe(415);
      expect((await post(JSON.stringify({ user: 'ada', filename: 'a.jpg', width: 99_999 }))).status).toBe(
        400,
      );
      expect((await fetch(`${app.url}/photos`)).status).toBe(405);
      expect(app.photos.size).toBe(0);
      for (const q of ALL_QUEUES) expect((await backend.inspector!.counts(q)).waiting).toBe(0);

      const res = await post(JSON.stringify({ user: 'ada', filename: 'cat.jpg', device: 'phone-1' }));
      expect(res.status).toBe(201);
      const { id, jobs } = (await res.json()) as { id: string; jobs: Record<string, string> };
      expect(Object.keys(jobs).sort()).toEqual([...ALL_QUEUES].sort());
      const photo = await (await fetch(`${app.url}/photos/${id}`)).json();
      expect(photo).toMatchObject({ id, user: 'ada', width: 640, height: 480 });
      expect(await backend.inspector!.counts(QUEUES.thumbnail)).toMatchObject({ waiting: 1 });
    } finally {
      await app.close();
      await backend.close();
    }
    expect(() => validateUpload({ user: 'ada', filename: 'x.gif' })).toThrow(/filename/);
  });

  it('sends a revoked push token now and then (the poison jobs)', () => {
    const poison = Array.from({ length: 100 }, (_, i) => uploadFor(i, 50)).filter((u) =>
      u.device?.startsWith('revoked-'),
    );
    expect(poison).toHaveLength(2);
  });
});

describe('the demo end to end (embedded SQLite, a small load)', () => {
  it('answers every upload 201, completes every non-poison job exactly once, buries the poison ones', async () => {
    const stream = new PassThrough();
    let text = '';
    stream.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    const summary = await runDemo({
      url: `sqlite:${join(dir, 'demo.db')}`,
      requests: 40,
      concurrency: 4,
      poisonEvery: 20,
      reporter: 'log',
      stream,
      deadlineMs: 60_000,
      maxJobsPerWorker: 5,
    });
    expect(summary.problems).toEqual([]);
    expect(summary.ok).toBe(true);
    expect(summary.requests.statuses).toEqual({ 201: 40 });
    expect(summary.requests.total).toBe(40);
    // 40 uploads × 3 jobs; requests 6 and 26 carry revoked tokens
    expect(summary.jobs.enqueued).toBe(120);
    expect(summary.poisonJobIds).toHaveLength(2);
    expect(summary.duplicates).toEqual([]);
    expect(summary.missing).toEqual([]);
    expect(summary.unexpectedDead).toEqual([]);
    expect(summary.perQueue[QUEUES.crop]).toMatchObject({ enqueued: 40, completed: 40, dead: 0 });
    expect(summary.perQueue[QUEUES.thumbnail]).toMatchObject({ enqueued: 40, completed: 40, dead: 0 });
    expect(summary.perQueue[QUEUES.notify]).toMatchObject({ enqueued: 40, completed: 38, dead: 2 });
    // retried with backoff: the poison jobs used all 4 attempts (3 retries each)
    expect(summary.perQueue[QUEUES.notify].retried).toBeGreaterThanOrEqual(6);
    for (const q of ALL_QUEUES) {
      expect(summary.store[q]).toMatchObject({ waiting: 0, delayed: 0, active: 0 });
    }
    expect(summary.store[QUEUES.notify]?.dead).toBe(2);
    // CPU work ran in child processes, each recycled after 5 jobs: 80 jobs need at least 16 children
    expect(summary.workers.started).toBeGreaterThanOrEqual(16);
    expect(summary.workers.recycled).toBeGreaterThanOrEqual(10);
    expect(summary.workers.mostAlive).toBeLessThanOrEqual(3);
    expect(summary.status.totals.completed).toBe(118);
    expect(summary.scoreboard).toMatch(/ 0\/19 busy$/);
    expect(text).toContain('job:dead queue=push.notify');
    expect(formatSummary(summary)).toContain('OK: all 40 uploads answered 201');
  });
});
