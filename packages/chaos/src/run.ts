import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backendScheme, openBackend, redactUrl } from '@ilkkun/core';
import { type ChaosOptions, resolveOptions } from './options.js';
import type { ChaosReport, ScenarioResult } from './report.js';
import { notRunnable, runScenario } from './run-scenario.js';

/**
 * Run the chaos scenarios against the store `url` names: for each, push jobs to a fresh queue
 * (`chaos-<scenario>-<random>`), start real worker pools in processes of their own, inject the
 * faults, wait for the drain, count from the ledgers and the store, and remove the queue.
 * Options are checked first (`ConfigError` for a bad one, naming the valid scenarios). Only
 * processes this run started are ever signalled; proxies listen on 127.0.0.1 only.
 */
export async function runChaos(url: string, options: ChaosOptions = {}): Promise<ChaosReport> {
  const resolved = resolveOptions(options);
  backendScheme(url); // a URL that is not one fails here, before anything starts
  const started = Date.now();
  const ledgerRoot = options.ledgerDir ?? mkdtempSync(join(tmpdir(), 'ilkkun-chaos-'));
  const backend = await openBackend(url, options.importer ? { importer: options.importer } : {});
  const scenarios: ScenarioResult[] = [];
  try {
    for (const name of resolved.scenarios) {
      const blocked = notRunnable(name, url, backend, resolved);
      if (blocked) {
        scenarios.push({ scenario: name, ...blocked });
        continue;
      }
      scenarios.push(
        await runScenario(name, {
          url,
          backend,
          options: resolved,
          ledgerRoot,
          ...(options.onProgress ? { onProgress: options.onProgress } : {}),
        }),
      );
    }
  } finally {
    await backend.close();
    if (!options.ledgerDir && !options.keepLedgers) rmSync(ledgerRoot, { recursive: true, force: true });
  }
  const { restartCmd, ...settings } = resolved;
  return {
    backend: backend.name,
    url: redactUrl(url),
    ok:
      scenarios.some((s) => s.status === 'passed') &&
      !scenarios.some((s) => s.status === 'failed' || s.status === 'error'),
    durationMs: Date.now() - started,
    settings: restartCmd ? { ...settings, restartCmd } : settings,
    scenarios,
    ...(options.ledgerDir || options.keepLedgers ? { ledgerDir: ledgerRoot } : {}),
  };
}
