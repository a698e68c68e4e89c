import { afterAll, beforeAll, describe, it } from 'vitest';
import { importer, sqliteUrl } from './helpers/backends.js';
import {
  checkBulk,
  checkCounts,
  checkReadOnly,
  checkRetry,
  checkXss,
  type Scenario,
  setUpScenario,
} from './helpers/e2e-scenario.js';

// Headless Debian Chromium against a dashboard on a SQLite file, with a real runner.
describe('dashboard in Chromium: sqlite', () => {
  const db = sqliteUrl('e2e');
  let s: Scenario;
  beforeAll(async () => {
    s = await setUpScenario({ url: db.url, importer });
  });
  afterAll(async () => {
    await s?.close();
    db.cleanup();
  });

  it('shows queued jobs with the backend’s counts', () => checkCounts(s));
  it('renders XSS attempts in payloads and errors as text', () => checkXss(s));
  it('retries a dead job from the page (with the token) and a runner completes it', () => checkRetry(s));
  it('retries selected dead jobs and deletes all of them from the page', () => checkBulk(s));
  it('read-only mode hides write actions and the API refuses them with 403', () => checkReadOnly(s));
});
