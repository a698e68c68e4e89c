import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, createMemoryBackend } from '@ilkkun/core';
import { createRunner } from '@ilkkun/runner';
import { describe, expect, it } from 'vitest';
import type { HistoryResponse, PoolsResponse } from '../src/index.js';
import { startApi } from './helpers/api.js';

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A port nothing listens on: bound, then closed. */
async function deadPort(): Promise<string> {
  const server = createServer();
  const url = await listen(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return url;
}

describe('worker pool scoreboards', () => {
  it('shows a real runner’s slots and totals, and its per-queue completions in the history', async () => {
    const backend = createMemoryBackend();
    const client = new Client(backend);
    const done: string[] = [];
    const runner = createRunner({
      backend,
      handlers: { 'pool.jobs': async (job) => void done.push(job.id) },
      global: { concurrency: 3, waitMs: 200 },
      status: { port: 0 },
    });
    await runner.start();
    const api = await startApi({ backend, pools: [`${runner.statusUrl}/status`] });
    try {
      await client.addMany([1, 2, 3, 4].map((n) => ({ queue: 'pool.jobs', payload: { n } })));
      // bounded wait for the runner to finish them (no fixed sleep)
      for (let i = 0; i < 200 && done.length < 4; i++) await new Promise((r) => setTimeout(r, 50));
      expect(done.length).toBe(4);
      await api.dashboard.refresh();

      const { body } = await api.get<PoolsResponse>('/api/pools');
      expect(body.pools).toHaveLength(1);
      const pool = body.pools[0]!;
      expect(pool.ok).toBe(true);
      expect(pool.url).toBe(runner.statusUrl);
      expect(pool.status?.pid).toBe(process.pid);
      expect(pool.status?.size).toBe(3);
      expect(pool.status?.scoreboard).toMatch(/^[W_.]{3} \d\/3 busy$/);
      expect(pool.status?.totals['completed']).toBe(4);
      expect(pool.status?.groups[0]?.slots).toHaveLength(3);
      expect(pool.status?.groups[0]?.queues).toEqual(['pool.jobs']);

      const history = await api.get<HistoryResponse>('/api/history');
      const last = history.body.samples.at(-1)!;
      expect(last.pools['0']).toMatchObject({
        ok: true,
        completed: 4,
        byQueue: { 'pool.jobs': { completed: 4 } },
      });
    } finally {
      await api.close();
      await runner.stop();
      await backend.close();
    }
  });

  it('shows an unreachable pool or a foreign server as such, not as an error of the dashboard', async () => {
    const backend = createMemoryBackend();
    const foreign = createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html>hi</html>'),
    );
    const foreignUrl = await listen(foreign);
    const api = await startApi({ backend, pools: [await deadPort(), foreignUrl] });
    try {
      const res = await api.get<PoolsResponse>('/api/pools');
      expect(res.status).toBe(200);
      const [down, other] = res.body.pools;
      expect(down).toMatchObject({ ok: false, error: expect.stringContaining('connection refused') });
      expect(other).toMatchObject({ ok: false, error: '/status did not answer JSON' });
    } finally {
      await api.close();
      await new Promise<void>((resolve) => foreign.close(() => resolve()));
      await backend.close();
    }
  });
});
