import { ConfigError } from '@ilkkun/core';
import { type DashboardOptions, DEFAULT_HOST, DEFAULT_PORT, startDashboard } from '@ilkkun/dashboard';
import type { Command } from 'commander';
import { displayUrl, importer, resolveUrl, writeErr } from '../context.js';

interface DashboardCommandOptions {
  port: string;
  host: string;
  allowRemote?: boolean;
  token?: string;
  readOnly?: boolean;
  pool: string[];
  allowRemotePools?: boolean;
  interval?: string;
}

/** The env variable keeps the token out of `ps` and shell history, where `--token` is visible. */
const TOKEN_ENV = 'ILKKUN_DASHBOARD_TOKEN';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function integer(name: string, text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n)) {
    throw new ConfigError(`${name} must be an integer, not ${JSON.stringify(text)}`);
  }
  return n;
}

/** `ilkkun dashboard`: serve the web dashboard for the backend until Ctrl-C. */
export function register(program: Command): void {
  program
    .command('dashboard')
    .description('serve a web dashboard of the queues, jobs and worker pools on 127.0.0.1 (Ctrl-C stops it)')
    .option('--port <port>', 'port to listen on (0 = any free port)', String(DEFAULT_PORT))
    .option('--host <host>', 'address to listen on; anything but loopback needs --allow-remote', DEFAULT_HOST)
    .option('--allow-remote', 'allow a non-loopback --host (then --token or --read-only is required)')
    .option(
      '--token <token>',
      `require this token for write actions (or set ${TOKEN_ENV}, which ps cannot see)`,
    )
    .option('--read-only', 'no write actions at all: retry, delete and purge are refused (403) and hidden')
    .option(
      '--pool <url>',
      "a runner's status server to show, e.g. http://127.0.0.1:9090 (repeatable)",
      collect,
      [],
    )
    .option('--allow-remote-pools', '--pool may name hosts other than loopback')
    .option('--interval <ms>', 'how often counts and pools are sampled (default 2000)')
    .addHelpText(
      'after',
      `
Examples:
  $ ilkkun dashboard                                   # sqlite:./ilkkun.db on http://127.0.0.1:${DEFAULT_PORT}/
  $ ${TOKEN_ENV}=s3cret-token ilkkun dashboard --url redis://127.0.0.1:6379 --pool http://127.0.0.1:9090
  $ ilkkun dashboard --read-only --port 8080`,
    )
    .action(async (options: DashboardCommandOptions, command: Command) => {
      const url = resolveUrl(command);
      const token = options.token ?? process.env[TOKEN_ENV];
      const dashboardOptions: DashboardOptions = {
        backend: url,
        importer,
        port: integer('--port', options.port),
        host: options.host,
        allowRemote: options.allowRemote ?? false,
        readOnly: options.readOnly ?? false,
        pools: options.pool,
        allowRemotePools: options.allowRemotePools ?? false,
        log: (line) => writeErr(`dashboard: ${line}`),
      };
      if (token !== undefined && token !== '') dashboardOptions.token = token;
      if (options.interval !== undefined)
        dashboardOptions.sampleIntervalMs = integer('--interval', options.interval);
      const dashboard = await startDashboard(dashboardOptions);

      // The token is never printed: the URL shows where it would go, for whoever holds it.
      const tokenHint =
        dashboardOptions.token !== undefined && !dashboardOptions.readOnly ? '#token=***' : '';
      writeErr(
        `dashboard for ${dashboard.backend.name} (${displayUrl(url)}) on ${dashboard.url}/${tokenHint}`,
      );
      if (dashboardOptions.readOnly) writeErr('read-only: write actions are off');
      else if (tokenHint)
        writeErr(
          'write actions need the token: open the URL with your token after #token=, or use Unlock in the page',
        );
      else writeErr('write actions are open to anyone on this machine (give --token to require one)');

      const signal = await new Promise<NodeJS.Signals>((resolve) => {
        process.once('SIGINT', () => resolve('SIGINT'));
        process.once('SIGTERM', () => resolve('SIGTERM'));
      });
      // a second signal does not wait for the graceful close
      const now = () => process.exit(signal === 'SIGINT' ? 130 : 143);
      process.once('SIGINT', now);
      process.once('SIGTERM', now);
      writeErr(`${signal}: stopping the dashboard`);
      await dashboard.close();
      process.off('SIGINT', now);
      process.off('SIGTERM', now);
    });
}
