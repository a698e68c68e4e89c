import type { IlkkunErrorCode } from '@ilkkun/core';
import pc from 'picocolors';

/** Exit codes: 0 ok, 1 an operation failed, 2 the command line or configuration is wrong. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** A mistake on the command line that core does not know about (e.g. `--many` without `-`). */
export class UsageError extends Error {
  readonly hint: string | undefined;
  constructor(message: string, hint?: string) {
    super(message);
    this.name = 'UsageError';
    this.hint = hint;
  }
}

/**
 * Exit code per error code: 2 means "fix the command or the configuration" (retrying the same
 * call cannot help), 1 an operation that failed. A `Record`, so a code added to core is a
 * compile error here until it is placed.
 */
const EXIT_BY_CODE: Readonly<Record<IlkkunErrorCode, number>> = {
  CONFIG: EXIT_USAGE,
  INVALID_QUEUE_NAME: EXIT_USAGE,
  INVALID_JOB_OPTIONS: EXIT_USAGE,
  SERIALIZATION: EXIT_USAGE,
  PAYLOAD_TOO_LARGE: EXIT_USAGE,
  BACKEND_NOT_INSTALLED: EXIT_USAGE,
  // the same credentials get the same answer: fix the URL
  BACKEND_AUTH_FAILED: EXIT_USAGE,
  LEASE_LOST: EXIT_FAILURE,
  BACKEND_UNAVAILABLE: EXIT_FAILURE,
  BACKEND_CLOSED: EXIT_FAILURE,
  UNSUPPORTED_FEATURE: EXIT_FAILURE,
  JOB_NOT_FOUND: EXIT_FAILURE,
  // job outcomes (a handler timed out, a worker died): operational, not the caller's input
  JOB_TIMEOUT: EXIT_FAILURE,
  WORKER_CRASHED: EXIT_FAILURE,
  // children died while starting (a crash, e.g. the OOM killer): nothing in the command to fix
  WORKER_START_FAILED: EXIT_FAILURE,
  JOB_RELEASED: EXIT_FAILURE,
  UNRECOVERABLE: EXIT_FAILURE,
};

interface CodedError {
  code: IlkkunErrorCode;
  message: string;
  stack?: string;
  cause?: unknown;
  packageName?: unknown;
  /** the error's own, more specific advice (see core's `IlkkunErrorOptions.hint`) */
  hint?: unknown;
}

/**
 * Duck-typed rather than `instanceof IlkkunError`: a backend package may bring its own copy of
 * core, and its errors must still be reported by code.
 */
function asIlkkunError(err: unknown): CodedError | undefined {
  if (!(err instanceof Error)) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string' || !Object.hasOwn(EXIT_BY_CODE, code)) return undefined;
  return err as unknown as CodedError;
}

function isUsage(err: unknown): boolean {
  return exitCodeFor(err) === EXIT_USAGE;
}

export function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError) return EXIT_USAGE;
  const ilkkun = asIlkkunError(err);
  return ilkkun ? EXIT_BY_CODE[ilkkun.code] : EXIT_FAILURE;
}

/** A workspace package that is linked but has no `dist/` yet (e.g. `@ilkkun/sqlite` before `pnpm build`). */
function unbuiltPackage(err: unknown): string | undefined {
  if (!(err instanceof Error) || (err as { code?: unknown }).code !== 'ERR_MODULE_NOT_FOUND')
    return undefined;
  return /node_modules\/(@ilkkun\/[a-z0-9-]+)\/dist\//.exec(err.message)?.[1];
}

/** What to do about an error: its own advice if it has some, else by code. `url` is already redacted. */
function hintFor(err: CodedError, url: string): string | undefined {
  if (typeof err.hint === 'string' && err.hint !== '') return err.hint;
  switch (err.code) {
    case 'CONFIG':
      return 'a backend URL looks like sqlite:./ilkkun.db, memory:, redis://127.0.0.1:6379 or mysql://user@127.0.0.1/db; pass it with --url or ILKKUN_URL (see docs/configuration.md)';
    case 'BACKEND_NOT_INSTALLED': {
      const pkg = typeof err.packageName === 'string' ? err.packageName : 'the backend package';
      return `the CLI loads backends from its own node_modules, then the current directory: install ${pkg} in either (pnpm add ${pkg})`;
    }
    case 'INVALID_QUEUE_NAME':
      return 'a queue name is 1–200 characters of letters, digits and _ . : - (e.g. emails or MyApp::Worker::Notify)';
    case 'INVALID_JOB_OPTIONS':
      return 'see `ilkkun add --help` for the options and their ranges';
    case 'SERIALIZATION':
      return `the payload must be JSON, quoted for your shell, e.g. ilkkun add emails '{"to":"a@example.com"}'`;
    case 'PAYLOAD_TOO_LARGE':
      return 'keep large data elsewhere (a file, object storage) and put its key in the payload';
    case 'BACKEND_AUTH_FAILED':
      return `the server behind ${url} refused the credentials: check the user name and password in the URL (never printed: shown as ***); characters such as @ : / # ? in a password must be percent-encoded (%40 %3A %2F %23 %3F)`;
    case 'WORKER_START_FAILED':
      return 'worker processes kept dying while they started (out of memory? killed by something else?); the pool replaces them with backoff and gave up after many in a row: check the system log (dmesg) for the OOM killer, and what the handler modules do when loaded';
    case 'BACKEND_UNAVAILABLE':
      return `check that the server behind ${url} is running and reachable; this error is temporary, so trying again later may work`;
    case 'UNSUPPORTED_FEATURE':
      return 'this backend does not offer that feature; `ilkkun conformance <url>` lists what each backend supports';
    case 'BACKEND_CLOSED':
      return 'the backend was closed while the command was still using it; please report this as a bug';
    case 'LEASE_LOST':
      return 'the job was taken over by another worker or removed; nothing was changed';
    case 'JOB_NOT_FOUND':
      return 'the job may have completed or been deleted; `ilkkun stats` shows what the queue holds';
  }
  return undefined;
}

export interface ReportOptions {
  debug: boolean;
  /** the backend URL in use, for hints (redacted before use) */
  url: string;
  /** removes credentials from any text before it is printed */
  scrub: (text: string) => string;
  write: (text: string) => void;
}

/** Print an error the way the CLI promises: `error [CODE]: message`, a hint, and a stack only with --debug. */
export function reportError(err: unknown, options: ReportOptions): void {
  const { scrub, write } = options;
  const ilkkun = asIlkkunError(err);
  if (err instanceof UsageError) {
    write(pc.red(scrub(`error: ${err.message}`)));
    if (err.hint) write(pc.dim(scrub(`hint: ${err.hint}`)));
  } else if (ilkkun) {
    write(pc.red(scrub(`error [${ilkkun.code}]: ${ilkkun.message}`)));
    const hint = hintFor(ilkkun, scrub(options.url));
    if (hint) write(pc.dim(scrub(`hint: ${hint}`)));
  } else {
    const message = err instanceof Error ? err.message : String(err);
    write(pc.red(scrub(`error: ${message}`)));
    const unbuilt = unbuiltPackage(err);
    if (unbuilt)
      write(
        pc.dim(`hint: ${unbuilt} is installed but not built: run \`pnpm build\` in the ilkkun repository`),
      );
  }
  if (options.debug) {
    let current: unknown = err;
    for (let depth = 0; current !== undefined && depth < 5; depth++) {
      const text = current instanceof Error ? (current.stack ?? current.message) : String(current);
      write(pc.dim(scrub(depth === 0 ? text : `caused by: ${text}`)));
      current = current instanceof Error ? current.cause : undefined;
    }
  } else if (!isUsage(err)) {
    write(pc.dim('(run again with --debug for the stack trace)'));
  }
}
