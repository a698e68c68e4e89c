import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '@ilkkun/core';
import { CONFIG_FILE_NAMES, runFromConfig } from '@ilkkun/runner';
import type { Command } from 'commander';
import { globalOptions, importer } from '../context.js';

interface WorkOptions {
  config?: string;
  statusPort?: string;
  live: boolean;
}

/** `ilkkun work`: run a worker pool from a config file until SIGINT/SIGTERM. */
export function register(program: Command): void {
  program
    .command('work')
    .description(
      'run workers for the queues in a config file until Ctrl-C (graceful: in-flight jobs finish or are released)',
    )
    .option(
      '-c, --config <path>',
      `config file (default: ${CONFIG_FILE_NAMES.join(', ')} in the current directory)`,
    )
    .option('--status-port <port>', 'serve /status, /metrics, /healthz and /scoreboard on 127.0.0.1:<port>')
    .option('--no-live', 'plain log lines even on a terminal')
    .action(async (options: WorkOptions, command: Command) => {
      const path = options.config ?? findConfig();
      const runOptions: Parameters<typeof runFromConfig>[1] = {
        importer,
        reporter: options.live ? 'auto' : 'log',
        handleSignals: true,
      };
      const url = globalOptions(command).url;
      if (url) runOptions.url = url;
      if (options.statusPort !== undefined) runOptions.statusPort = parsePort(options.statusPort);
      const runner = await runFromConfig(path, runOptions);
      if (runner.statusUrl) process.stderr.write(`status: ${runner.statusUrl}/status\n`);
      // Signals stop the runner and exit the process; this only returns if something else stops it.
      await runner.stopped;
    });
}

function findConfig(): string {
  for (const name of CONFIG_FILE_NAMES) {
    const path = resolve(name);
    if (existsSync(path)) return path;
  }
  throw new ConfigError(
    `no config file found: create one of ${CONFIG_FILE_NAMES.join(', ')} or pass --config <path>`,
  );
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new ConfigError(
      `--status-port must be an integer between 0 and 65535, not ${JSON.stringify(text)}`,
    );
  }
  return port;
}
