import { type Backend, DEFAULT_BACKEND_URL, openBackend, redactUrl } from '@ilkkun/core';
import type { Command } from 'commander';

/** Options every command inherits from the root program. */
export interface GlobalOptions {
  url?: string;
  debug?: boolean;
}

/**
 * Loads backend packages from the CLI's own location, so `@ilkkun/sqlite` and any other
 * backend installed next to the CLI resolve no matter where the user runs `ilkkun`.
 */
export const importer = (specifier: string): Promise<unknown> => import(specifier);

export function globalOptions(command: Command): GlobalOptions {
  return command.optsWithGlobals<GlobalOptions>();
}

/** `--url`, else `ILKKUN_URL`, else core's default (`sqlite:./ilkkun.db`, relative to the current directory). */
export function resolveUrl(command: Command): string {
  const url = globalOptions(command).url ?? process.env['ILKKUN_URL'];
  return url && url.length > 0 ? url : DEFAULT_BACKEND_URL;
}

/** The backend URL the running command works on, for error hints (a command may take its own URL argument). */
export const session: { url: string | undefined } = { url: undefined };

/** Open the backend the command's URL names, run `fn`, and always close the backend. */
export async function withBackend<T>(
  command: Command,
  fn: (backend: Backend, url: string) => Promise<T>,
): Promise<T> {
  const url = resolveUrl(command);
  session.url = url;
  const backend = await openBackend(url, { importer });
  try {
    return await fn(backend, url);
  } finally {
    await backend.close();
  }
}

/** What to show of a URL: never its password or secret query parameters. */
export function displayUrl(url: string): string {
  return redactUrl(url);
}

export function writeOut(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function writeErr(text: string): void {
  process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
}
