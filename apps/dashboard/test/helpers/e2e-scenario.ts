import { randomUUID } from 'node:crypto';
import { type Backend, Client, openBackend } from '@ilkkun/core';
import { createRunner, type Runner } from '@ilkkun/runner';
import { expect } from 'vitest';
import { addDeadJob, fakeStack, XSS_ERROR, XSS_PAYLOAD, XSS_UNIQUE_KEY } from '../../scripts/seed.js';
import { type Dashboard, startDashboard } from '../../src/index.js';
import { type Browser, launchBrowser, openPage, waitForText } from './browser.js';

export const TOKEN = 'e2e-token-1234';

export interface ScenarioBackend {
  url: string;
  importer: (specifier: string) => Promise<unknown>;
}

/** Everything one backend's browser tests share: seeded data, a runner with a status port, two dashboards. */
export interface Scenario {
  backend: Backend;
  browser: Browser;
  dashboard: Dashboard;
  readOnly: Dashboard;
  runner: Runner;
  completed: string[];
  queues: { mail: string; retry: string; xss: string };
  ids: { retry: string; xss: string };
  close(): Promise<void>;
}

/** Queue names of this run only, so backends shared with other suites (Redis) never mix data. */
function names(): Scenario['queues'] {
  const tag = randomUUID().slice(0, 6);
  // `::` as in Perl-style names: it must survive the page's URLs (#/queues/E2E%3A%3A…)
  return { mail: `E2E::${tag}::Mail`, retry: `e2e.${tag}.retry`, xss: `e2e.${tag}.xss` };
}

export async function setUpScenario(target: ScenarioBackend): Promise<Scenario> {
  const queues = names();
  const backend = await openBackend(target.url, { importer: target.importer });
  const cleanups: Array<() => Promise<unknown>> = [];
  try {
    const client = new Client(backend);
    await client.addMany(
      [1, 2, 3].map((n) => ({ queue: queues.mail, payload: { to: `user${n}@example.com` } })),
    );
    await client.add(queues.mail, { to: 'later@example.com' }, { delay: 3_600_000 });
    const retry = await addDeadJob(
      backend,
      queues.retry,
      { task: 'resize', width: 640 },
      { name: 'Error', message: 'out of memory', stack: fakeStack('out of memory', 'resize') },
    );
    const xss = await addDeadJob(
      backend,
      queues.xss,
      XSS_PAYLOAD,
      { name: 'Error', message: XSS_ERROR, stack: fakeStack(XSS_ERROR, 'render') },
      { uniqueKey: XSS_UNIQUE_KEY },
    );

    // A real pool on the retry queue only: the other queues keep their jobs for the count checks.
    const completed: string[] = [];
    const runner = createRunner({
      backend: target.url,
      openBackend: { importer: target.importer },
      handlers: {
        [queues.retry]: async (job) => {
          completed.push(job.id);
        },
      },
      global: { concurrency: 2, waitMs: 500 },
      status: { port: 0 },
    });
    await runner.start();
    cleanups.push(() => runner.stop({ graceMs: 1_000 }));
    const statusUrl = runner.statusUrl;
    if (!statusUrl) throw new Error('the runner started without a status server');

    const common = {
      backend: target.url,
      port: 0,
      sampleIntervalMs: 250,
      importer: target.importer,
      pools: [statusUrl],
    };
    const dashboard = await startDashboard({ ...common, token: TOKEN });
    cleanups.push(() => dashboard.close());
    const readOnly = await startDashboard({ ...common, readOnly: true });
    cleanups.push(() => readOnly.close());
    const browser = await launchBrowser();
    cleanups.push(() => browser.close());

    return {
      backend,
      browser,
      dashboard,
      readOnly,
      runner,
      completed,
      queues,
      ids: { retry, xss },
      close: async () => {
        for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
        for (const q of Object.values(queues)) await backend.inspector?.purge(q).catch(() => 0);
        await backend.close();
      },
    };
  } catch (err) {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
    await backend.close();
    throw err;
  }
}

const cell = (queue: string, state: string) => `td[data-queue="${queue}"][data-state="${state}"]`;

/** The page shows every queue with the counts the backend holds. */
export async function checkCounts(s: Scenario): Promise<void> {
  const errors: string[] = [];
  const page = await openPage(s.browser, errors);
  await page.goto(`${s.dashboard.url}/`);
  await waitForText(page, cell(s.queues.mail, 'waiting'), '3');
  await waitForText(page, cell(s.queues.mail, 'delayed'), '1');
  await waitForText(page, cell(s.queues.mail, 'dead'), '0');
  await waitForText(page, cell(s.queues.retry, 'dead'), '1');
  await waitForText(page, cell(s.queues.xss, 'dead'), '1');
  // the chart is drawn as SVG, with the sampled history
  expect(await page.locator('figure.chart svg').count()).toBe(2);

  // the queue's own page lists its waiting jobs
  await page.goto(`${s.dashboard.url}/#/queues/${encodeURIComponent(s.queues.mail)}?state=waiting`);
  await page.locator('table.jobs tbody tr').nth(2).waitFor({ timeout: 30_000 });
  expect(await page.locator('table.jobs tbody tr').count()).toBe(3);
  await waitForText(page, '.tab[data-state="delayed"] .tab-count', '1');
  expect(errors).toEqual([]);
  await page.close();
}

/** Payloads and error messages holding markup render as text and run nothing. */
export async function checkXss(s: Scenario): Promise<void> {
  const errors: string[] = [];
  const page = await openPage(s.browser, errors);
  await page.goto(`${s.dashboard.url}/#/queues/${encodeURIComponent(s.queues.xss)}?state=dead`);
  const row = page.locator(`tr[data-job="${s.ids.xss}"]`);
  await row.waitFor({ timeout: 30_000 });
  expect(await row.locator('td.payload').textContent()).toContain('<img src=x onerror=');
  expect(await row.locator('td.err').textContent()).toContain('<img src=x onerror="window.__xss=3">');

  await page.goto(
    `${s.dashboard.url}/#/queues/${encodeURIComponent(s.queues.xss)}/jobs/${encodeURIComponent(s.ids.xss)}`,
  );
  const payload = page.locator('[data-test="payload"]');
  await payload.waitFor({ timeout: 30_000 });
  const text = (await payload.textContent()) ?? '';
  expect(JSON.parse(text)).toEqual(XSS_PAYLOAD);
  expect(text).toContain('<script>window.__xss=2</script>');
  expect(await page.locator('[data-test="error-message"]').textContent()).toBe(XSS_ERROR);
  expect(await page.locator('[data-test="stack"]').textContent()).toContain(XSS_ERROR);
  expect(await page.locator('dl.facts').textContent()).toContain(XSS_UNIQUE_KEY);
  // nothing from the data became an element: no <img>, <svg> outside the charts, <b> or <script>
  expect(await page.locator('#app img, #app b, #app script, #app dl svg, #app pre svg').count()).toBe(0);
  expect(await page.evaluate(() => (window as { __xss?: unknown }).__xss)).toBeUndefined();
  // the CSP's Trusted Types are live: even the page's own code could not assign HTML as a string
  const assigned = await page.evaluate(() => {
    try {
      document.createElement('div').innerHTML = '<img src=x onerror="window.__xss=9">';
      return 'assigned';
    } catch (err) {
      return (err as Error).name;
    }
  });
  expect(assigned).toBe('TypeError');
  errors.splice(0, errors.length, ...errors.filter((e) => !/TrustedHTML/.test(e)));
  expect(errors).toEqual([]);
  await page.close();
}

/** A dead job is retried from its page (token typed into the unlock form) and the runner completes it. */
export async function checkRetry(s: Scenario): Promise<void> {
  const errors: string[] = [];
  const page = await openPage(s.browser, errors);
  await page.goto(
    `${s.dashboard.url}/#/queues/${encodeURIComponent(s.queues.retry)}/jobs/${encodeURIComponent(s.ids.retry)}`,
  );
  await waitForText(page, '[data-test="job-state"]', 'dead');
  expect(s.completed).toEqual([]);

  // locked: the click is refused (401) and the token form opens
  await page.locator('[data-test="retry-job"]').click();
  const input = page.locator('input[name="token"]');
  await input.waitFor({ state: 'visible', timeout: 30_000 });
  await input.fill(TOKEN);
  await page.locator('.unlock-form button[type="submit"]').click();
  await page.locator('.badge-ok').waitFor({ timeout: 30_000 });

  await page.locator('[data-test="retry-job"]').click();
  // the runner pops it and completes it; the backend then no longer has it
  await page.locator('[data-test="job-gone"]').waitFor({ timeout: 60_000 });
  expect(s.completed).toEqual([s.ids.retry]);
  expect(await s.backend.inspector?.counts(s.queues.retry)).toMatchObject({ dead: 0, waiting: 0, active: 0 });

  // the pool's scoreboard shows the completion
  await page.goto(`${s.dashboard.url}/#/pools`);
  await page.locator('[data-test="scoreboard"]').waitFor({ timeout: 30_000 });
  await waitForText(page, 'dd[data-total="completed"]', '1');
  expect(errors).toEqual([]);
  await page.close();
}

/** Read-only: no write controls in the page, and the API refuses writes with 403 whatever the token. */
export async function checkReadOnly(s: Scenario): Promise<void> {
  const errors: string[] = [];
  const page = await openPage(s.browser, errors);
  await page.goto(`${s.readOnly.url}/#/queues/${encodeURIComponent(s.queues.xss)}?state=dead`);
  await page.locator(`tr[data-job="${s.ids.xss}"]`).waitFor({ timeout: 30_000 });
  await page.locator('.badge-ro').waitFor();
  expect(
    await page
      .locator('button')
      .filter({ hasText: /Retry|Delete|Purge/ })
      .count(),
  ).toBe(0);
  await page.goto(
    `${s.readOnly.url}/#/queues/${encodeURIComponent(s.queues.xss)}/jobs/${encodeURIComponent(s.ids.xss)}`,
  );
  await page.locator('[data-test="payload"]').waitFor({ timeout: 30_000 });
  expect(await page.locator('[data-test="retry-job"], [data-test="delete-job"]').count()).toBe(0);

  // the page's own origin, with a token: still 403
  const status = await page.evaluate(
    async ([queue, id, token]) => {
      const res = await fetch(`/api/queues/${encodeURIComponent(queue)}/retry`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ ids: [id] }),
      });
      return { status: res.status, body: (await res.json()) as { error: { code: string } } };
    },
    [s.queues.xss, s.ids.xss, TOKEN] as const,
  );
  expect(status.status).toBe(403);
  expect(status.body.error.code).toBe('READ_ONLY');
  expect(await s.backend.inspector?.counts(s.queues.xss)).toMatchObject({ dead: 1 });
  expect(errors).toEqual([]);
  await page.close();
}

/** Selected dead jobs are retried, then "Delete all" (confirmed) removes the rest; the page unlocks from #token=. */
export async function checkBulk(s: Scenario): Promise<void> {
  const queue = `${s.queues.retry}.bulk`;
  const ids: string[] = [];
  for (let i = 0; i < 3; i++)
    ids.push(await addDeadJob(s.backend, queue, { i }, { message: `bulk failure ${i}` }));
  const errors: string[] = [];
  const page = await openPage(s.browser, errors);
  page.on('dialog', (dialog) => void dialog.accept());
  await page.goto(`${s.dashboard.url}/#token=${encodeURIComponent(TOKEN)}`);
  await page.locator('.badge-ok').waitFor({ timeout: 30_000 });
  // the token left the address bar at once
  expect(page.url()).not.toContain(TOKEN);

  await page.goto(`${s.dashboard.url}/#/queues/${encodeURIComponent(queue)}?state=dead`);
  await page.locator('table.jobs tbody tr').nth(2).waitFor({ timeout: 30_000 });
  await page.locator(`tr[data-job="${ids[0]}"] input[type="checkbox"]`).check();
  await page.locator(`tr[data-job="${ids[2]}"] input[type="checkbox"]`).check();
  await waitForText(page, '[data-test="retry-selected"]', 'Retry selected (2)');
  await page.locator('[data-test="retry-selected"]').click();
  await waitForText(page, '.tab[data-state="dead"] .tab-count', '1');
  await waitForText(page, '.tab[data-state="waiting"] .tab-count', '2');
  expect(await s.backend.inspector?.counts(queue)).toMatchObject({ dead: 1, waiting: 2 });
  const left = await s.backend.inspector?.list(queue, 'dead');
  expect(left?.map((j) => j.id)).toEqual([ids[1]]);

  await page.locator('[data-test="delete-all"]').click();
  await waitForText(page, '.tab[data-state="dead"] .tab-count', '0');
  expect(await s.backend.inspector?.counts(queue)).toMatchObject({ dead: 0, waiting: 2 });
  await s.backend.inspector?.purge(queue);
  expect(errors).toEqual([]);
  await page.close();
}
