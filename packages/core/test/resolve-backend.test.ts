import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { ConfigError, MemoryBackend, openBackend, redactUrl } from '../src/index.js';

describe('openBackend', () => {
  test('memory: opens the in-memory backend', async () => {
    const backend = await openBackend('memory:');
    expect(backend).toBeInstanceOf(MemoryBackend);
    await backend.close();
  });

  test('a backend whose package is not installed names the package to install', () => {
    // A plain Node process outside the workspace, so only Node's own resolution applies (the test
    // runner resolves workspace packages more generously than an application would).
    const core = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const script = `const { openBackend } = await import(${JSON.stringify(core)});
      const err = await openBackend('amqp://guest:guest@127.0.0.1:5672').catch((e) => e);
      console.log(JSON.stringify({ code: err.code, packageName: err.packageName, message: err.message }));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: tmpdir(),
      env: { ...process.env, ILKKUN_RESOLVE_FROM: '', NODE_PATH: '' },
      timeout: 30_000,
      encoding: 'utf8',
    });
    const err = JSON.parse(out) as { code: string; packageName: string; message: string };
    expect(err.code).toBe('BACKEND_NOT_INSTALLED');
    expect(err.packageName).toBe('@ilkkun/amqp');
    expect(err.message).toContain('pnpm add @ilkkun/amqp');
    expect(err.message).not.toContain('guest:guest');
  });

  test('unknown schemes and non-URLs are CONFIG errors', async () => {
    await expect(openBackend('postgres://x')).rejects.toBeInstanceOf(ConfigError);
    await expect(openBackend('just-a-path.db')).rejects.toMatchObject({ code: 'CONFIG' });
  });
});

describe('redactUrl', () => {
  test('hides passwords in the authority and secret query parameters', () => {
    expect(redactUrl('redis://user:s3cret@127.0.0.1:6379/0')).toBe('redis://user:***@127.0.0.1:6379/0');
    expect(redactUrl('amqp://guest:guest@host')).toBe('amqp://guest:***@host');
    expect(redactUrl('sqs://h?region=x&secretAccessKey=abc&x=1')).toBe(
      'sqs://h?region=x&secretAccessKey=***&x=1',
    );
    expect(redactUrl('sqlite:./ilkkun.db')).toBe('sqlite:./ilkkun.db');
  });
});
