import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Client, ConfigError, createMemoryBackend } from '@ilkkun/core';
import { describe, expect, it } from 'vitest';
import { createRunner, defaultSettings, loadConfig, runFromConfig } from '../src/index.js';
import { collect, eventually, fixture } from './helpers.js';

describe('defaultSettings()', () => {
  it('matches the defaults table in docs/runner.md', () => {
    const doc = readFileSync(fileURLToPath(new URL('../../../docs/runner.md', import.meta.url)), 'utf8');
    const rows = new Map<string, string>();
    for (const m of doc.matchAll(/^\| `(\w+)` \| `([^`]*)` \|/gm)) rows.set(m[1]!, m[2]!);
    const { queue, runner } = defaultSettings();
    for (const [key, value] of Object.entries({ ...queue, ...runner })) {
      expect(rows.has(key), `docs/runner.md lists ${key}`).toBe(true);
      const documented = rows.get(key)!;
      expect(documented === 'undefined' ? undefined : JSON.parse(documented), key).toEqual(value);
    }
  });

  it('returns a fresh object each time', () => {
    const a = defaultSettings();
    a.queue.concurrency = 99;
    expect(defaultSettings().queue.concurrency).toBe(1);
  });
});

describe('runFromConfig', () => {
  it('starts a runner from a JSON config with module paths relative to the file', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => {
      text += c.toString();
    });
    const runner = await runFromConfig(fixture('config.json'), {
      handleSignals: false,
      reporter: 'log',
      stream: out as unknown as NodeJS.WriteStream,
    });
    try {
      const completed = collect(runner, 'job:complete');
      expect(runner.queues.sort()).toEqual(['cfg.echo', 'cfg.proc']);
      expect(runner.statusUrl).toMatch(/^http:\/\/127\.0\.0\.1:/);
      expect(runner.status().groups.map((g) => [g.name, g.mode, g.slots.length])).toEqual([
        ['default', 'inline', 2],
        ['cfg.proc', 'process', 1],
      ]);
      const c = new Client(createMemoryBackend('memory:config-json-test'));
      await c.add('cfg.echo', { a: 1 });
      await c.add('cfg.proc', { b: 2 });
      await eventually(() => completed.length === 2);
      const pids = completed.map((e) => (e.result as { pid: number }).pid);
      expect(pids).toContain(process.pid);
      expect(pids.some((p) => p !== process.pid)).toBe(true);
    } finally {
      await runner.stop();
    }
    expect(text).toMatch(/pool:start slots=3/);
    expect(text).toMatch(/job:complete queue=cfg\.echo id=\d+ attempt=1/);
    expect(text).toMatch(/pool:stop released=0/);
  });

  it('loads a JS config with function handlers and hooks', async () => {
    const runner = await runFromConfig(fixture('ilkkun.config.mjs'), {
      handleSignals: false,
      reporter: 'none',
    });
    try {
      const completed = collect(runner, 'job:complete');
      const c = new Client(createMemoryBackend('memory:config-mjs-test'));
      await c.add('cfg.fn', { n: 21 });
      await c.add('cfg.mod', {});
      await eventually(() => completed.length === 2);
      expect(completed.find((e) => e.job.queue === 'cfg.fn')?.result).toEqual({ doubled: 42 });
    } finally {
      await runner.stop();
    }
  });

  it('loads a TypeScript config whose handlers are TypeScript modules, in child processes too', async () => {
    const runner = await runFromConfig(fixture('ilkkun.config.ts'), {
      handleSignals: false,
      reporter: 'none',
    });
    try {
      const completed = collect(runner, 'job:complete');
      const c = new Client(createMemoryBackend('memory:config-ts-test'));
      await c.add('cfgts.inline', { n: 7 });
      await c.add('cfgts.child', { name: 'ilkkun' });
      await eventually(() => completed.length === 2);
      expect(completed.find((e) => e.job.queue === 'cfgts.inline')?.result).toEqual({ tripled: 21 });
      const child = completed.find((e) => e.job.queue === 'cfgts.child')?.result as {
        greeting: string;
        pid: number;
      };
      expect(child.greeting).toBe('hello ilkkun');
      expect(child.pid).not.toBe(process.pid);
    } finally {
      await runner.stop();
    }
  });

  it('refuses configs it cannot use, naming the problem', async () => {
    await expect(loadConfig(fixture('missing.json'))).rejects.toThrow(ConfigError);
    await expect(loadConfig(fixture('echo.mjs'))).rejects.toThrow(/must export an object/);
    await expect(loadConfig(fixture('sleep.mjs'))).rejects.toThrow(/must export an object/);
    await expect(loadConfig(fixture('bad-config.json'))).rejects.toThrow(/unknown key "queus"/);
    expect(() =>
      createRunner({
        backend: 'memory:',
        handlers: { q: { handler: async () => 1, mode: 'process' } as never },
      }),
    ).toThrow(/unknown key "mode".*under "settings"/);
  });
});
