import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

/** Debian's Chromium (scripts/services/chromium.sh installs it); never a browser download. */
export const CHROMIUM = '/usr/bin/chromium';

/** Flags that keep Chromium off the network (this machine has none) and quiet on a shared 2-core box. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Headless Chromium with a fresh, empty profile that is removed afterwards. */
export async function launchBrowser(viewport = { width: 1280, height: 900 }): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: install Debian's Chromium with: bash scripts/services/start.sh chromium`,
    );
  }
  const profile = mkdtempSync(join(tmpdir(), 'ilkkun-dashboard-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Chromium logs every 4xx answer; the tests cause some on purpose (401 locked, 403 read-only, 404 job gone). */
const EXPECTED_HTTP_REFUSAL = /^Failed to load resource: the server responded with a status of 4\d\d/;

/**
 * A page whose uncaught script errors and console errors are collected for the test to assert
 * on: a CSP or Trusted Types violation ("Refused to …") shows up here.
 */
export async function openPage(browser: Browser, errors: string[]): Promise<Page> {
  const page = await browser.context.newPage();
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !EXPECTED_HTTP_REFUSAL.test(msg.text())) errors.push(msg.text());
  });
  return page;
}

/** Wait until the element's trimmed text is exactly `text` (the page updates live; no fixed sleeps). */
export async function waitForText(
  page: Page,
  selector: string,
  text: string,
  timeout = 30_000,
): Promise<void> {
  await page.waitForFunction(
    ([sel, want]) => document.querySelector(sel)?.textContent?.trim() === want,
    [selector, text] as const,
    { timeout },
  );
}
