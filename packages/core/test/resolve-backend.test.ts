import { describe, expect, test } from 'vitest';
import {
  BackendNotInstalledError,
  ConfigError,
  MemoryBackend,
  openBackend,
  redactUrl,
} from '../src/index.js';

describe('openBackend', () => {
  test('memory: opens the in-memory backend', async () => {
    const backend = await openBackend('memory:');
    expect(backend).toBeInstanceOf(MemoryBackend);
    await backend.close();
  });

  test('a backend whose package is not installed names the package to install', async () => {
    // core has no dependency on @ilkkun/amqp, so from here it is "not installed"
    const err = await openBackend('amqp://guest:guest@127.0.0.1:5672').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendNotInstalledError);
    expect((err as BackendNotInstalledError).code).toBe('BACKEND_NOT_INSTALLED');
    expect((err as BackendNotInstalledError).packageName).toBe('@ilkkun/amqp');
    expect(String((err as Error).message)).not.toContain('guest:guest');
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
