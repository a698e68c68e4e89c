/**
 * Screenshots of the dashboard's main views for docs/images, taken in Debian's headless
 * Chromium against a seeded SQLite file with a real runner working it, so the charts and the
 * scoreboard show live data. Run: pnpm --filter @ilkkun/dashboard screenshots
 * (about a minute: the charts need a history to show).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, openBackend } from '@ilkkun/core';
import { startDashboard } from '@ilkkun/dashboard';
import { createRunner } from '@ilkkun/runner';
import { chromium, type Page } from 'playwright-core';
import { seedDemo } from './seed.js';

const OUT = fileURLToPath(new URL('../../../../docs/images/', import.meta.url));
const TOKEN = 'screenshot-token';
const WARM_UP_MS = Number(process.env['SCREENSHOT_WARM_UP_MS'] ?? 55_000);
const TICK_MS = 250;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const importer = (specifier: string): Promise<unknown> => import(specifier);

/** A child-process handler (process mode needs a module path): resizes nothing, slowly. */
const THUMBNAIL_HANDLER = `
export default async function thumbnail(job, { signal }) {
  const buf = Buffer.alloc(2_000_000 + Math.floor(Math.random() * 6_000_000), 1);
  await new Promise((resolve) => setTimeout(resolve, 300 + Math.random() * 700));
  if (Math.random() < 0.12) throw new Error('unsupported colour profile: CMYK');
  return { bytes: buf.length, width: job.payload.width };
}
`;

async function shot(page: Page, name: string, ready: string): Promise<void> {
  await page.locator(ready).first().waitFor({ timeout: 30_000 });
  // let the next live sample land so counts and charts are current
  await sleep(1_200);
  const path = join(OUT, `dashboard-${name}.png`);
  await page.screenshot({ path, fullPage: name !== 'phone' });
  console.log(`wrote ${path}`);
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'ilkkun-screenshots-'));
  const url = `sqlite:${join(work, 'demo.db')}`;
  writeFileSync(join(work, 'thumbnail.mjs'), THUMBNAIL_HANDLER);
  const backend = await openBackend(url, { importer });
  await seedDemo(backend);

  const runner = createRunner({
    backend: url,
    openBackend: { importer },
    baseDir: work,
    handlers: {
      emails: async (job) => {
        await sleep(150 + Math.random() * 500);
        const to = (job.payload as { to?: string }).to ?? '';
        if (to.startsWith('bounce')) throw new Error(`550 5.1.1 <${to}>: Recipient address rejected`);
      },
      'MyApp::Worker::Notify': async () => sleep(50 + Math.random() * 150),
      'image.thumbnail': {
        handler: './thumbnail.mjs',
        settings: { mode: 'process', concurrency: 2, minWorkers: 2 },
      },
    },
    global: { concurrency: 4, waitMs: 1_000, backoff: { type: 'fixed', delayMs: 1_500 } },
    status: { port: 0 },
  });
  await runner.start();
  const dashboard = await startDashboard({
    backend: url,
    importer,
    port: 0,
    token: TOKEN,
    sampleIntervalMs: 1_000,
    historySize: 60,
    pools: [runner.statusUrl ?? ''],
  });

  // A producer in waves, so the charts have a shape: bounded by time, not by a condition.
  const client = new Client(backend);
  let producing = true;
  let seq = 0;
  const producer = (async () => {
    for (let tick = 0; producing && tick < 2_000; tick++) {
      const wave = 1 + Math.sin(tick / 18);
      const n = Math.round(wave * 2.2);
      const items = Array.from({ length: n }, () => {
        const k = seq++;
        if (k % 5 === 0)
          return { queue: 'image.thumbnail', payload: { src: `s3://photos/${k}.jpg`, width: 320 } };
        if (k % 3 === 0)
          return { queue: 'MyApp::Worker::Notify', payload: { event: 'order.paid', orderId: k } };
        const to = k % 13 === 0 ? `bounce${k}@example.net` : `user${k}@example.com`;
        return { queue: 'emails', payload: { to, template: 'digest' }, attempts: 2 };
      });
      if (items.length > 0) await client.addMany(items);
      await sleep(TICK_MS);
    }
  })();

  const profile = mkdtempSync(join(tmpdir(), 'ilkkun-screenshots-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1280, height: 860 },
    colorScheme: 'light',
  });
  try {
    mkdirSync(OUT, { recursive: true });
    console.log(`warming up for ${Math.round(WARM_UP_MS / 1000)} s so the charts have a history…`);
    await sleep(WARM_UP_MS);
    const page = await context.newPage();
    await page.goto(`${dashboard.url}/#token=${TOKEN}`);
    await shot(page, 'overview', 'table.queues tbody tr');

    await page.goto(`${dashboard.url}/#/queues/emails?state=dead`);
    await page.locator('table.jobs tbody tr').first().waitFor({ timeout: 30_000 });
    // two selected rows show the bulk actions at work
    const boxes = page.locator('table.jobs tbody input[type="checkbox"]');
    for (let i = 0; i < Math.min(2, await boxes.count()); i++) await boxes.nth(i).check();
    await shot(page, 'jobs', 'table.jobs tbody tr');

    const invoice = await backend.inspector?.list('emails', 'dead', { limit: 1000 });
    const detailId = invoice?.find((j) => j.payload.includes('INV-2026-0042'))?.id ?? invoice?.[0]?.id ?? '1';
    await page.goto(`${dashboard.url}/#/queues/emails/jobs/${encodeURIComponent(detailId)}`);
    await shot(page, 'job', '[data-test="payload"]');

    const xss = (await backend.inspector?.list('image.thumbnail', 'dead', { limit: 1000 }))?.find((j) =>
      j.payload.includes('onerror'),
    );
    if (xss) {
      await page.goto(`${dashboard.url}/#/queues/image.thumbnail/jobs/${encodeURIComponent(xss.id)}`);
      await shot(page, 'xss', '[data-test="payload"]');
    }

    await page.goto(`${dashboard.url}/#/pools`);
    await shot(page, 'pools', '[data-test="scoreboard"]');

    const phone = await context.newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(`${dashboard.url}/#/`);
    await shot(phone, 'phone', 'table.queues tbody tr');
  } finally {
    producing = false;
    await producer;
    await context.close();
    await dashboard.close();
    await runner.stop({ graceMs: 2_000 });
    await backend.close();
    rmSync(profile, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
