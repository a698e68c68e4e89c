import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openBackend } from '@ilkkun/core';
import { afterAll, describe, expect, it } from 'vitest';
import { runChaos } from '../dist/index.js';
import { BOUNDED, chaos, expectClean, FULL } from './chaos-case.js';

const dir = mkdtempSync(join(tmpdir(), 'ilkkun-chaos-sqlite-'));
const url = `sqlite:${join(dir, 'chaos.db')}`;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ilkkun chaos on sqlite (embedded, a temp file)', () => {
  it('loses nothing, completes nothing twice and leaves nothing stuck under kills and stops', async () => {
    const report = await chaos(url, [
      'kill-children',
      'kill-workers-inline',
      'stop-worker',
      'cut-connections',
    ]);
    expectClean(
      report,
      FULL
        ? ['kill-children', 'kill-workers-process', 'kill-workers-inline', 'stop-worker']
        : ['kill-children', 'kill-workers-inline', 'stop-worker'],
    );
    // a file has no connection to cut: never reported as passed
    const cut = report.scenarios.find((s) => s.scenario === 'cut-connections');
    expect(cut?.status).toBe('not-applicable');
    expect(report.ok).toBe(true);
  });

  it('counts jobs removed behind its back as lost, and fails', async () => {
    // the counting itself is under test: delete 5 waiting jobs while the workers start
    const saboteur = await openBackend(url);
    let deleted = 0;
    let busy = false;
    try {
      const report = await runChaos(url, {
        ...BOUNDED,
        scenarios: ['kill-workers-inline'],
        faults: 1,
        onProgress: (p) => {
          if (busy || deleted > 0 || p.submitted === 0) return;
          busy = true;
          void saboteur
            .inspector!.list(p.queue, 'waiting', { offset: 100, limit: 5 })
            .then((jobs) =>
              saboteur.inspector!.deleteJobs(
                p.queue,
                'waiting',
                jobs.map((j) => j.id),
              ),
            )
            .then((n) => {
              deleted = n;
            });
        },
      });
      const r = report.scenarios[0]!;
      expect(deleted).toBe(5);
      expect({ status: r.status, lost: r.lost, ok: report.ok }).toEqual({
        status: 'failed',
        lost: 5,
        ok: false,
      });
      expect(r.lostSeqs).toHaveLength(5);
    } finally {
      await saboteur.close();
    }
  });
});
