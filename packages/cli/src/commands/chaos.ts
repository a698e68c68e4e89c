import {
  createProgressPrinter,
  formatChaosReport,
  resolveOptions,
  runChaos,
  SCENARIO_NAMES,
} from '@ilkkun/chaos';
import { openBackend } from '@ilkkun/core';
import type { Command } from 'commander';
import { displayUrl, importer, session, writeErr, writeOut } from '../context.js';
import { EXIT_FAILURE, UsageError } from '../errors.js';
import { CLI_PACKAGE_DIR } from '../paths.js';

interface ChaosCommandOptions {
  jobs?: string;
  workers?: string;
  concurrency?: string;
  leaseMs?: string;
  scenarios?: string;
  duration?: string;
  faults?: string;
  drainTimeout?: string;
  restartCmd?: string;
  keepLedgers?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('chaos')
    .description(
      'start worker pools against a backend, inject faults (SIGKILL, SIGSTOP, connection cuts, a silent link, a server restart) and count lost, duplicated and twice-completed jobs',
    )
    .argument('<url>', 'backend URL, e.g. redis://127.0.0.1:6379/9 (writes only to queues named chaos-…)')
    .option('--jobs <n>', 'jobs per scenario', '1000')
    .option('--workers <n>', 'worker processes per scenario', '3')
    .option('--concurrency <n>', 'slots per worker', '4')
    .option('--lease-ms <ms>', 'lease length', '2000')
    .option('--scenarios <list>', `comma-separated, default all: ${SCENARIO_NAMES.join(', ')}`)
    .option('--duration <ms>', 'fault window per scenario; job work is sized to last about this long', '8000')
    .option('--faults <n>', 'faults per scenario', '4')
    .option('--drain-timeout <ms>', 'how long the store may take to drain after the last fault')
    .option('--restart-cmd <command>', 'shell command that restarts the server (enables server-restart)')
    .option('--keep-ledgers', 'keep the ledger files (their directory is printed)')
    .option('--json', 'print the report as JSON')
    .action(async (url: string, options: ChaosCommandOptions) => {
      // Worker processes resolve backend packages from the CLI's install too.
      const resolveFrom = process.env['ILKKUN_RESOLVE_FROM'];
      process.env['ILKKUN_RESOLVE_FROM'] = resolveFrom
        ? `${CLI_PACKAGE_DIR}:${resolveFrom}`
        : CLI_PACKAGE_DIR;
      session.url = url;
      const chaosOptions = {
        jobs: int(options.jobs, '--jobs'),
        workers: int(options.workers, '--workers'),
        concurrency: int(options.concurrency, '--concurrency'),
        leaseMs: int(options.leaseMs, '--lease-ms'),
        durationMs: int(options.duration, '--duration'),
        faults: int(options.faults, '--faults'),
        drainTimeoutMs: int(options.drainTimeout, '--drain-timeout'),
        ...(options.scenarios !== undefined ? { scenarios: list(options.scenarios) } : {}),
        ...(options.restartCmd !== undefined ? { restartCmd: options.restartCmd } : {}),
        ...(options.keepLedgers ? { keepLedgers: true } : {}),
        importer,
      };
      // Checked before anything connects: a typo in --scenarios is a usage error, not a run.
      try {
        resolveOptions(chaosOptions);
      } catch (err) {
        throw new UsageError(
          (err as Error).message,
          'see `ilkkun chaos --help` for the options and their ranges',
        );
      }
      // Pre-flight: a URL that cannot be opened is reported like in every other command.
      const probe = await openBackend(url, { importer });
      await probe.close();
      writeErr(`ilkkun chaos against ${displayUrl(url)} …`);
      const printer = createProgressPrinter(process.stderr);
      const report = await runChaos(url, { ...chaosOptions, onProgress: (p) => printer.update(p) });
      printer.done();
      writeOut(options.json ? JSON.stringify(report, null, 2) : formatChaosReport(report));
      if (report.ledgerDir) writeErr(`ledgers kept in ${report.ledgerDir}`);
      if (!report.ok) process.exitCode = EXIT_FAILURE;
    });
}

function int(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n)) {
    throw new UsageError(
      `${flag} must be a whole number, not ${JSON.stringify(text)}`,
      'see `ilkkun chaos --help`',
    );
  }
  return n;
}

function list(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
