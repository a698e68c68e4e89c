import { BackendUnavailableError, ConfigError, IlkkunError, isNetworkErrorCode } from '@ilkkun/core';

/**
 * Redis error replies that mean "try again later": loading after a restart, a script or
 * failover in progress, out of memory under `noeviction` (memory is freed as jobs complete),
 * or a replica that is read-only until promoted.
 */
const TRANSIENT_REPLIES = [
  'LOADING',
  'BUSY',
  'TRYAGAIN',
  'CLUSTERDOWN',
  'MASTERDOWN',
  'READONLY',
  'OOM',
  'MISCONF',
  'NOREPLICAS',
];

/** Replies that will not go away by waiting: wrong credentials or missing ACL permissions. */
const CONFIG_REPLIES = ['NOAUTH', 'WRONGPASS', 'NOPERM'];

/** Messages ioredis uses when a command could not be delivered or its reply never came. */
const CLIENT_MESSAGES = [
  'Connection is closed',
  "Stream isn't writeable",
  'Reached the max retries per request limit',
  'Command timed out',
  'Command aborted due to connection close',
];

function fields(err: unknown): { name: string; message: string; code: string } {
  const e = (typeof err === 'object' && err !== null ? err : {}) as {
    name?: unknown;
    message?: unknown;
    code?: unknown;
  };
  return {
    name: typeof e.name === 'string' ? e.name : '',
    message: typeof e.message === 'string' ? e.message : String(err),
    code: typeof e.code === 'string' ? e.code : '',
  };
}

/**
 * Turn an ioredis error into the ilkkun error a caller can act on: `BackendUnavailableError`
 * (retryable) when Redis cannot be reached or asks to retry, `ConfigError` for credentials or
 * permissions. Anything else (a bug, a script error) passes through unchanged.
 */
export function classifyError(err: unknown, action: string, where: string): unknown {
  if (err instanceof IlkkunError) return err;
  const { name, message, code } = fields(err);
  const word = message.split(/\s/, 1)[0] ?? '';
  if (
    isNetworkErrorCode(code) ||
    name === 'MaxRetriesPerRequestError' ||
    name === 'AbortError' ||
    CLIENT_MESSAGES.some((m) => message.startsWith(m)) ||
    /\b(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EHOSTUNREACH)\b/.test(message)
  ) {
    return new BackendUnavailableError(`redis ${action} at ${where} failed: ${message}`, { cause: err });
  }
  if (name === 'ReplyError' && TRANSIENT_REPLIES.includes(word)) {
    const hint =
      word === 'OOM' ? ' (Redis reached maxmemory; jobs are kept, new writes wait until memory frees)' : '';
    return new BackendUnavailableError(`redis ${action} at ${where} refused: ${message}${hint}`, {
      cause: err,
    });
  }
  if (name === 'ReplyError' && CONFIG_REPLIES.includes(word)) {
    return new ConfigError(`redis ${action} at ${where} not allowed: ${message}`, { cause: err });
  }
  return err;
}

/** True for the reply Redis gives when a script hash is not cached (after a restart or SCRIPT FLUSH). */
export function isNoScript(err: unknown): boolean {
  return fields(err).message.startsWith('NOSCRIPT');
}
