import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OwnRedis, startRedisWithPassword } from './own-redis.js';
import { assertBuilt, ilkkun } from './run-cli.js';

/**
 * Issue 13, "error texts found wrong": each case as a user meets it on the command line, against
 * a real file or server. The generic CONFIG hint ("a backend URL looks like…") must not be what
 * a wrong password or a file that is not a database gets.
 */
const GENERIC_URL_HINT = 'a backend URL looks like';
const PASSWORD = 'right-pw-c41e';

let dir: string;
let redis: OwnRedis;
beforeAll(async () => {
  assertBuilt();
  dir = mkdtempSync(join(tmpdir(), 'ilkkun-cli-errors-'));
  redis = await startRedisWithPassword(PASSWORD);
});
afterAll(async () => {
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a Redis that refuses the credentials', () => {
  it('a wrong password: exit 2, BACKEND_AUTH_FAILED, a hint about the password, never the password', () => {
    const r = ilkkun(['--url', `redis://:wrong-pw-5e0d@127.0.0.1:${redis.port}/0`, 'stats'], dir);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('error [BACKEND_AUTH_FAILED]: redis at 127.0.0.1');
    expect(r.stderr).toContain('WRONGPASS');
    expect(r.stderr).toMatch(
      /hint: the server behind redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/0 refused the credentials/,
    );
    expect(r.stderr).not.toContain(GENERIC_URL_HINT);
    expect(r.stdout + r.stderr).not.toContain('wrong-pw-5e0d');
  });

  it('no password given (NOAUTH): exit 2, BACKEND_AUTH_FAILED', () => {
    const r = ilkkun(['--url', `redis://127.0.0.1:${redis.port}/0`, 'stats'], dir);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('error [BACKEND_AUTH_FAILED]');
    expect(r.stderr).toContain('NOAUTH');
  });

  it('?password= in the query is accepted, and redacted when it is wrong', () => {
    const ok = ilkkun(['--url', `redis://127.0.0.1:${redis.port}/0?password=${PASSWORD}`, 'stats'], dir);
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    const bad = ilkkun(['--url', `redis://127.0.0.1:${redis.port}/0?password=wrong-pw-5e0d`, 'stats'], dir);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('error [BACKEND_AUTH_FAILED]');
    expect(bad.stderr).toContain('?password=***');
    expect(bad.stdout + bad.stderr).not.toContain('wrong-pw-5e0d');
  });
});

describe('a file that is not an SQLite database', () => {
  it('exit 2, CONFIG naming the file, with a hint to point the URL at another file', () => {
    const file = join(dir, 'notes.txt');
    writeFileSync(file, 'some notes, not a database; long enough to fill an SQLite header. '.repeat(20));
    const r = ilkkun(['--url', `sqlite:${file}`, 'stats'], dir);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`error [CONFIG]: the file at ${file} is not an SQLite database`);
    expect(r.stderr).toContain('hint: point the URL at another file');
    expect(r.stderr).not.toContain(GENERIC_URL_HINT);
  });
});

describe('a RabbitMQ that is not there', () => {
  it('exit 1, BACKEND_UNAVAILABLE "is unavailable while connecting"', () => {
    // nothing listens on 127.0.0.1:1
    const r = ilkkun(['--url', 'amqp://guest:guest@127.0.0.1:1', 'stats'], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /error \[BACKEND_UNAVAILABLE\]: RabbitMQ at 127\.0\.0\.1:1\S* is unavailable while connecting: .*ECONNREFUSED/,
    );
    expect(r.stderr).not.toContain('while the connection');
  });
});
