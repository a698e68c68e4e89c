import { PassThrough } from 'node:stream';
import { Client, createMemoryBackend } from '@ilkkun/core';
import { describe, expect, it } from 'vitest';
import { attachLiveView, attachLogReporter, createRunner } from '../src/index.js';
import { eventually, queueName } from './helpers.js';

function sink(): { stream: NodeJS.WriteStream; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (c: Buffer) => {
    text += c.toString();
  });
  return { stream: stream as unknown as NodeJS.WriteStream, text: () => text };
}

describe('reporters', () => {
  it('the live view redraws throughput, totals, the scoreboard and per-queue counts in place', async () => {
    const backend = createMemoryBackend();
    const q = queueName('live');
    const runner = createRunner({
      backend,
      handlers: { [q]: async () => {} },
      global: { concurrency: 2, waitMs: 50 },
    });
    const out = sink();
    await runner.start();
    const stop = attachLiveView(runner, { stream: out.stream, intervalMs: 20 });
    await new Client(backend).addMany(Array.from({ length: 5 }, () => ({ queue: q, payload: {} })));
    await eventually(() => out.text().includes('completed 5'));
    await eventually(() => out.text().includes(q));
    stop();
    await runner.stop();
    expect(out.text()).toContain('__ 0/2 busy');
    const ESC = String.fromCharCode(27);
    // cursor up N lines + clear below: redrawn in place
    expect(out.text()).toMatch(new RegExp(`${ESC}\\[\\d+F${ESC}\\[J`));
  });

  it('the log reporter writes one plain line per event', async () => {
    const backend = createMemoryBackend();
    const q = queueName('log');
    const runner = createRunner({
      backend,
      handlers: {
        [q]: async () => {
          throw new Error('nope');
        },
      },
      global: { waitMs: 50 },
    });
    const out = sink();
    const detach = attachLogReporter(runner, { stream: out.stream });
    await runner.start();
    await new Client(backend).add(q, {}, { attempts: 2, backoff: 0 });
    await eventually(() => out.text().includes('job:dead'));
    await runner.stop();
    detach();
    const lines = out.text().trim().split('\n');
    expect(lines.every((l) => /^\d{4}-\d\d-\d\dT[\d:.]+Z \S+/.test(l))).toBe(true);
    expect(out.text()).toMatch(/job:retry queue=\S+ id=\d+ attempt=1\/2 in=0ms error="nope"/);
    expect(out.text()).toMatch(/job:dead queue=\S+ id=\d+ attempt=2 reason=attempts-exhausted error="nope"/);
    expect(out.text()).not.toContain('\x1b[');
  });
});
