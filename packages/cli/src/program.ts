import { DEFAULT_BACKEND_URL } from '@ilkkun/core';
import { Command, CommanderError } from 'commander';
import pc from 'picocolors';
import * as commands from './commands/index.js';
import { resolveUrl, session } from './context.js';
import { EXIT_OK, EXIT_USAGE, exitCodeFor, reportError } from './errors.js';
import { cliVersion } from './paths.js';
import { makeScrubber } from './redact.js';

/** What each file under `src/commands/` exports. */
export interface CommandModule {
  register(program: Command): void;
}

/** The `ilkkun` program with every command registered. Settings below are inherited by subcommands. */
export function createProgram(options: { scrub?: (text: string) => string } = {}): Command {
  const scrub = options.scrub ?? ((text: string) => text);
  const program = new Command('ilkkun')
    .description('ilkkun job queue: add jobs, inspect queues, check a backend')
    .version(cliVersion(), '-V, --version')
    .option(
      '--url <url>',
      `backend URL (default: $ILKKUN_URL, else ${DEFAULT_BACKEND_URL} in the current directory)`,
    )
    .option('--debug', 'print stack traces for errors')
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({ outputError: (text, write) => write(pc.red(scrub(text))) })
    // Commander would call process.exit itself; throwing lets main() pick the exit code.
    .exitOverride();
  for (const command of Object.values(commands) as CommandModule[]) command.register(program);
  return program;
}

/**
 * Run the CLI and return its exit code: 0 ok, 1 an operation failed, 2 a usage or
 * configuration error. Never throws.
 */
export async function main(argv: readonly string[] = process.argv): Promise<number> {
  const scrub = makeScrubber([...argv, process.env['ILKKUN_URL'] ?? '']);
  const debug = argv.includes('--debug') || process.env['ILKKUN_DEBUG'] === '1';
  const program = createProgram({ scrub });
  try {
    await program.parseAsync([...argv]);
    // A command that ran but reports a failing result (e.g. conformance) sets process.exitCode.
    const code = Number(process.exitCode ?? EXIT_OK);
    return Number.isInteger(code) ? code : EXIT_OK;
  } catch (err) {
    // Commander has already printed its own message (or the help) when it throws.
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    let url = session.url ?? DEFAULT_BACKEND_URL;
    try {
      url = session.url ?? resolveUrl(program);
    } catch {
      // the URL is only used for hints
    }
    reportError(err, { debug, url, scrub, write: (text) => process.stderr.write(`${text}\n`) });
    return exitCodeFor(err);
  }
}
