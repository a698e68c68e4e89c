import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { backendScheme, redactUrl } from '@ilkkun/core';
import type { Reporter, TestCase, TestModule } from 'vitest/node';
import { startVitest } from 'vitest/node';
import { UNSUPPORTED_PREFIX } from './contract-test.js';
import type { ConformanceCase, ConformanceReport } from './report.js';

export type { ConformanceCase, ConformanceReport } from './report.js';
export { formatMatrix, formatReport } from './report.js';

export interface RunConformanceOptions {
  /** multiply leases and delays (for stores with coarse clocks); default 1 */
  timeScale?: number;
  /** called as each case finishes, for a progress display */
  onCase?: (c: ConformanceCase) => void;
}

/**
 * Run the conformance suite against the store `url` names and return the feature × result
 * table. This is what `ilkkun conformance <url>` prints. Backend packages are loaded the way
 * core's `openBackend` loads them (set `ILKKUN_RESOLVE_FROM` to add a place to look).
 */
export async function runConformance(
  url: string,
  options: RunConformanceOptions = {},
): Promise<ConformanceReport> {
  const backend = backendScheme(url);
  const distDir = dirname(fileURLToPath(import.meta.url));
  const root = dirname(distDir);
  const started = Date.now();
  const cases: ConformanceCase[] = [];
  const progress: Reporter = {
    onTestCaseResult(testCase: TestCase) {
      const c = toCase(testCase);
      if (c) options.onCase?.(c);
    },
  };
  const vitest = await startVitest(
    'test',
    [],
    {
      watch: false,
      config: false,
      root,
      dir: root,
      include: [join(distDir, 'url-suite.js').slice(root.length + 1)],
      exclude: [],
      reporters: [progress],
      provide: { ilkkunConformanceUrl: url, ilkkunConformanceTimeScale: options.timeScale ?? 1 },
      passWithNoTests: false,
      // one worker: the suite's cases share one backend and must not interleave
      fileParallelism: false,
    },
    { logLevel: 'silent' },
  );
  const errors: string[] = [];
  try {
    for (const mod of vitest.state.getTestModules()) {
      for (const testCase of mod.children.allTests()) {
        const c = toCase(testCase);
        if (c) cases.push(c);
      }
      errors.push(...moduleErrors(mod));
    }
    for (const e of vitest.state.getUnhandledErrors()) errors.push(errorText(e));
  } finally {
    await vitest.close();
  }
  const ok =
    errors.length === 0 && cases.some((c) => c.status === 'pass') && !cases.some((c) => c.status === 'fail');
  return { backend, url: redactUrl(url), ok, durationMs: Date.now() - started, cases, errors };
}

function toCase(testCase: TestCase): ConformanceCase | undefined {
  const result = testCase.result();
  if (result.state === 'pending') return undefined;
  const feature = testCase.parent.type === 'suite' ? testCase.parent.name : '';
  const durationMs = Math.round(testCase.diagnostic()?.duration ?? 0);
  const detail = (testCase.meta() as Record<string, unknown>)['detail'];
  const base: ConformanceCase = { feature, name: testCase.name, status: 'pass', durationMs };
  if (typeof detail === 'string') base.detail = detail;
  if (result.state === 'passed') return base;
  if (result.state === 'failed') {
    return { ...base, status: 'fail', reason: result.errors.map((e) => e.message).join('; ') };
  }
  const note = result.note ?? '';
  if (note.startsWith(UNSUPPORTED_PREFIX)) {
    return { ...base, status: 'unsupported', reason: note.slice(UNSUPPORTED_PREFIX.length) };
  }
  return { ...base, status: 'skipped', reason: note || 'skipped' };
}

function moduleErrors(mod: TestModule): string[] {
  const out = mod.errors().map((e) => e.message);
  for (const suite of mod.children.allSuites()) out.push(...suite.errors().map((e) => e.message));
  return out;
}

function errorText(e: unknown): string {
  return e instanceof Error
    ? e.message
    : typeof e === 'object' && e && 'message' in e
      ? String(e.message)
      : String(e);
}
