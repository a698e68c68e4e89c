import { afterAll, beforeAll, describe, it } from 'vitest';
import { redisImporter, redisUrl } from './helpers/backends.js';
import {
  checkBulk,
  checkCounts,
  checkReadOnly,
  checkRetry,
  checkXss,
  type Scenario,
  setUpScenario,
} from './helpers/e2e-scenario.js';

// The same browser checks against Redis (ILKKUN_REDIS_URL, default db 9 on 127.0.0.1:6379, a
// key prefix of this run's own). No server is a failure, never a skip: see docs/testing.md.
describe('dashboard in Chromium: redis', () => {
  let s: Scenario;
  beforeAll(async () => {
    s = await setUpScenario({ url: redisUrl(), importer: redisImporter });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('shows queued jobs with the backend’s counts', () => checkCounts(s));
  it('renders XSS attempts in payloads and errors as text', () => checkXss(s));
  it('retries a dead job from the page (with the token) and a runner completes it', () => checkRetry(s));
  it('retries selected dead jobs and deletes all of them from the page', () => checkBulk(s));
  it('read-only mode hides write actions and the API refuses them with 403', () => checkReadOnly(s));
});
