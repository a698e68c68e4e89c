import { hasErrorCode } from '@ilkkun/core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createBackend } from '../src/index.js';
import { parseRedisUrl } from '../src/parse-url.js';
import { startRedisServer, type TestServer } from './helpers.js';

/**
 * Issue 13: a Redis that refuses the credentials came out as CONFIG with the generic "a backend
 * URL looks like…" hint, and `?password=` (documented as redacted) was refused as unknown. A
 * redis-server of the test's own with `requirepass` (the shared one has no password set).
 */
const PASSWORD = 'right-pw-4f1c';
let server: TestServer;

beforeAll(async () => {
  server = await startRedisServer();
  await server.client().config('SET', 'requirepass', PASSWORD);
});
afterAll(async () => {
  await server?.stop();
});

const url = (auth: string, query = '') => `redis://${auth}127.0.0.1:${server.port}/0${query}`;

/** What opening the backend throws (undefined when it opens). */
async function openError(target: string): Promise<unknown> {
  try {
    const backend = await createBackend(target);
    await backend.close();
    return undefined;
  } catch (err) {
    return err;
  }
}

describe('refused credentials', () => {
  test('a wrong password (WRONGPASS) is BACKEND_AUTH_FAILED, not retryable, and never shows the password', async () => {
    const err = await openError(url(':wrong-pw-9d2e@'));
    expect(hasErrorCode(err, 'BACKEND_AUTH_FAILED')).toBe(true);
    expect(err).toMatchObject({ name: 'BackendAuthError', retryable: false });
    const message = (err as Error).message;
    expect(message).toContain(`redis at 127.0.0.1:${server.port}/0 refused the user name or password`);
    expect(message).toContain('WRONGPASS');
    expect(message).not.toContain('wrong-pw-9d2e');
  });

  test('no password where one is needed (NOAUTH) is BACKEND_AUTH_FAILED and says how to give one', async () => {
    const err = await openError(url(''));
    expect(hasErrorCode(err, 'BACKEND_AUTH_FAILED')).toBe(true);
    expect((err as Error).message).toMatch(/needs a password and the URL gives none.*NOAUTH/);
  });

  test('an unknown user is BACKEND_AUTH_FAILED too', async () => {
    const err = await openError(url(`nobody-here:${PASSWORD}@`));
    expect(hasErrorCode(err, 'BACKEND_AUTH_FAILED')).toBe(true);
    expect((err as Error).message).not.toContain(PASSWORD);
  });
});

describe('the password as ?password=', () => {
  test('opens the server, like the same password before the @', async () => {
    expect(await openError(url(`:${PASSWORD}@`))).toBeUndefined();
    expect(await openError(url('', `?password=${PASSWORD}&prefix=auth-test`))).toBeUndefined();
    // percent-encoded like any query value
    expect(parseRedisUrl('redis://h?password=p%40ss%26').password).toBe('p@ss&');
    const wrong = await openError(url('', '?password=wrong-pw-9d2e'));
    expect(hasErrorCode(wrong, 'BACKEND_AUTH_FAILED')).toBe(true);
    expect((wrong as Error).message).not.toContain('wrong-pw-9d2e');
  });

  test('given both ways, or twice, is a CONFIG error that never shows it', () => {
    for (const bad of ['redis://:pw-xyz@h?password=pw-xyz', 'redis://h?password=pw-xyz&password=pw-xyz']) {
      expect(() => parseRedisUrl(bad)).toThrow(expect.objectContaining({ code: 'CONFIG' }));
      expect(() => parseRedisUrl(bad)).not.toThrow(/pw-xyz/);
    }
  });
});
