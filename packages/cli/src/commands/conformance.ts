import { openBackend } from '@ilkkun/core';
import type { Command } from 'commander';
import pc from 'picocolors';
import { displayUrl, importer, session, writeErr, writeOut } from '../context.js';
import { EXIT_FAILURE } from '../errors.js';
import { CLI_PACKAGE_DIR } from '../paths.js';

interface ConformanceOptions {
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('conformance')
    .description('run the shared conformance suite against a backend and print a feature × result table')
    .argument(
      '<url>',
      'backend URL to test, e.g. redis://127.0.0.1:6379 (the suite writes and removes test jobs)',
    )
    .option('--json', 'print the report as JSON')
    .action(async (url: string, options: ConformanceOptions) => {
      // Child processes the suite spawns resolve backend packages from the CLI's install too.
      const resolveFrom = process.env['ILKKUN_RESOLVE_FROM'];
      process.env['ILKKUN_RESOLVE_FROM'] = resolveFrom
        ? `${CLI_PACKAGE_DIR}:${resolveFrom}`
        : CLI_PACKAGE_DIR;
      // Pre-flight: a URL that cannot even be opened (unknown scheme, package missing, server down)
      // is reported like in every other command, with its code, hint and exit status.
      session.url = url;
      const probe = await openBackend(url, { importer });
      await probe.close();
      // Loaded on demand: the suite pulls in a test runner that other commands do not need.
      const { runConformance, formatReport } = await import('@ilkkun/conformance/run');
      writeErr(`running the conformance suite against ${displayUrl(url)} …`);
      const live = process.stderr.isTTY;
      const runOptions = {
        onCase: (c: { feature: string; name: string; status: string }) => {
          if (live) writeErr(pc.dim(`  ${c.status === 'fail' ? pc.red('✗') : '·'} ${c.feature}: ${c.name}`));
        },
      };
      const report = await runConformance(url, runOptions);
      writeOut(options.json ? JSON.stringify(report, null, 2) : formatReport(report));
      if (!report.ok) process.exitCode = EXIT_FAILURE;
    });
}
