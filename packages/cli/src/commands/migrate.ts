import { backendScheme } from '@ilkkun/core';
import type { Command } from 'commander';
import pc from 'picocolors';
import { displayUrl, resolveUrl, writeOut } from '../context.js';
import { EXIT_FAILURE, UsageError } from '../errors.js';

interface MigrateOptions {
  verify?: boolean;
  json?: boolean;
}

/** Backends whose schema is managed by this command (the others create theirs when opened). */
const MIGRATABLE = new Set(['mysql', 'mariadb']);

export function register(program: Command): void {
  program
    .command('migrate')
    .description(
      'create the MySQL/MariaDB schema (TheSchwartz tables + ilkkun columns), or add what an existing TheSchwartz database lacks; never touches rows',
    )
    .option('--verify', 'only check the schema and report; change nothing (exit 1 when it is not ready)')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ ilkkun migrate --url mysql://app:secret@127.0.0.1:3306/jobs
  $ ilkkun migrate --url mysql://app@db.internal/theschwartz --verify`,
    )
    .action(async (options: MigrateOptions, command: Command) => {
      const url = resolveUrl(command);
      if (!MIGRATABLE.has(backendScheme(url))) {
        throw new UsageError(
          `migrate works on mysql: and mariadb: URLs, not ${displayUrl(url)}`,
          'the other backends create their storage when they are opened',
        );
      }
      // Loaded on demand: other commands need no MySQL driver.
      const { migrateSchema } = await import('@ilkkun/mysql');
      const result = await migrateSchema(url, { verifyOnly: options.verify === true });
      const { report } = result;
      if (options.json) {
        writeOut(JSON.stringify({ url: displayUrl(url), applied: result.applied, ...report }, null, 2));
      } else {
        writeOut(pc.dim(`mysql · ${displayUrl(url)}`));
        if (!options.verify) {
          writeOut(
            result.applied.length === 0
              ? 'schema already complete: nothing to do'
              : `applied ${result.applied.length} change(s):\n${result.applied.map((s) => `  ${firstLine(s)}`).join('\n')}`,
          );
        }
        for (const problem of report.problems) writeOut(pc.red(`problem: ${problem}`));
        for (const warning of report.warnings) writeOut(pc.yellow(`warning: ${warning}`));
        writeOut(report.ok ? pc.green('schema ok') : pc.red('schema NOT ready'));
      }
      if (!report.ok) process.exitCode = EXIT_FAILURE;
    });
}

const firstLine = (sql: string): string => {
  const line = sql.trim().split('\n')[0] ?? '';
  return line.length > 100 ? `${line.slice(0, 97)}...` : line;
};
