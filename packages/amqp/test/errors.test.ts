import { hasErrorCode } from '@ilkkun/core';
import { describe, expect, it } from 'vitest';
import { createBackend } from '../src/index.js';
import { AMQP_URL } from './helpers.js';

/** What opening the backend throws (undefined when it opens). */
async function openError(url: string): Promise<unknown> {
  try {
    const backend = await createBackend(url);
    await backend.close();
    return undefined;
  } catch (err) {
    return err;
  }
}

/** The shared broker's URL with another user name and password. */
function withCredentials(user: string, password: string): string {
  const u = new URL(AMQP_URL);
  u.username = user;
  u.password = password;
  return u.toString();
}

// Issue 13: a broker that was down printed "unavailable while the connection: connect ECONNREFUSED".
describe('error texts', () => {
  it('a broker that is not there: BACKEND_UNAVAILABLE "is unavailable while connecting"', async () => {
    // nothing listens on 127.0.0.1:1
    const err = await openError('amqp://guest:guest@127.0.0.1:1');
    expect(hasErrorCode(err, 'BACKEND_UNAVAILABLE')).toBe(true);
    const message = (err as Error).message;
    expect(message).toMatch(/^RabbitMQ at 127\.0\.0\.1:1\S* is unavailable while connecting: .*ECONNREFUSED/);
    expect(message).not.toContain('while the connection');
  });

  it('a wrong password: BACKEND_AUTH_FAILED (not retryable), the password never shown', async () => {
    const err = await openError(withCredentials('guest', 'wrong-pw-7a1b'));
    expect(hasErrorCode(err, 'BACKEND_AUTH_FAILED'), String(err)).toBe(true);
    expect(err).toMatchObject({ retryable: false });
    const message = (err as Error).message;
    expect(message).toContain('refused the user name or password in the URL while connecting');
    expect(message).not.toContain('wrong-pw-7a1b');
  });
});
