// Sum the vitest JSON reports of every package whose `test` task turbo ran, and print
// "N passed, N failed" as the last line. A task that exited non-zero without a failing test
// in its report (no test files, an unhandled error, a crash, a missing report) counts as one
// failure, so nothing that broke can add up to "0 failed".
// Usage: node scripts/test-summary.mjs <report path relative to each package>
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const reportPath = process.argv[2] ?? '.turbo/vitest-report.json';
const runsDir = '.turbo/runs';

/** turbo's --summarize file for the `test` run: which packages ran and how they exited */
function turboTasks() {
  if (!existsSync(runsDir)) return undefined;
  const files = readdirSync(runsDir).filter((f) => f.endsWith('.json'));
  for (const file of files.sort().reverse()) {
    const summary = JSON.parse(readFileSync(join(runsDir, file), 'utf8'));
    const tasks = (summary.tasks ?? []).filter((t) => t.task === 'test');
    if (tasks.length > 0) return tasks;
  }
  return undefined;
}

function readReport(dir) {
  const file = join(dir, reportPath);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

const tasks = turboTasks();
const rows = [];
let passed = 0;
let failed = 0;
let skipped = 0;

if (!tasks) {
  console.log('  no turbo run summary found: the test step did not run');
  failed += 1;
}
for (const task of tasks ?? []) {
  const name = task.package;
  const exitCode = task.execution?.exitCode ?? null;
  const report = readReport(task.directory);
  let p = 0;
  let f = 0;
  let s = 0;
  const notes = [];
  if (report) {
    p = report.numPassedTests ?? 0;
    f = report.numFailedTests ?? 0;
    s = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
    // a test file that failed before any test ran (import error, syntax error) has no failing test
    const brokenFiles = (report.testResults ?? []).filter(
      (r) => r.status === 'failed' && !(r.assertionResults ?? []).some((a) => a.status === 'failed'),
    ).length;
    if (brokenFiles > 0) notes.push(`${brokenFiles} test file(s) failed to load`);
    f += brokenFiles;
  } else {
    notes.push('no vitest report');
  }
  if (exitCode !== 0 && f === 0) {
    notes.push(
      exitCode === null ? 'did not run (a dependency failed?)' : `exited ${exitCode} with no failing test`,
    );
    f += 1;
  }
  passed += p;
  failed += f;
  skipped += s;
  rows.push({ name, p, f, s, notes });
}

if (rows.length > 0) {
  const width = Math.max(...rows.map((r) => r.name.length));
  console.log('tests per package:');
  for (const r of rows) {
    const extra = [r.s ? `${r.s} skipped` : '', ...r.notes].filter(Boolean).join('; ');
    console.log(
      `  ${r.name.padEnd(width)}  ${String(r.p).padStart(4)} passed  ${String(r.f).padStart(3)} failed${extra ? `  (${extra})` : ''}`,
    );
  }
}
if (skipped > 0) console.log(`${skipped} skipped`);
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;
