import {
  BackendAuthError,
  BackendUnavailableError,
  ConfigError,
  IlkkunError,
  isNetworkErrorCode,
} from '@ilkkun/core';

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

/** Replies to credentials: a wrong password or user (WRONGPASS), none given where one is needed (NOAUTH). */
const AUTH_REPLIES = ['NOAUTH', 'WRONGPASS'];
/** Replies that will not go away by waiting: the user lacks an ACL permission. */
const CONFIG_REPLIES = ['NOPERM'];

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
 * (retryable) when Redis cannot be reached or asks to retry, `BackendAuthError` for refused
 * credentials, `ConfigError` for missing permissions. Anything else (a bug, a script error)
 * passes through unchanged. `where` is host:port/db, never the password.
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
  if (name === 'ReplyError' && AUTH_REPLIES.includes(word)) {
    const what =
      word === 'NOAUTH'
        ? 'needs a password and the URL gives none: add it as redis://:password@host or ?password='
        : 'refused the user name or password in the URL (a wrong password, an unknown or disabled user)';
    return new BackendAuthError(`redis at ${where} ${what} (${action}: ${message})`, { cause: err });
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
