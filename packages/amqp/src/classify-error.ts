import { BackendAuthError, BackendUnavailableError, ConfigError, IlkkunError, redactUrl } from '@ilkkun/core';

/** The AMQP reply code of a broker error (amqplib puts it on `code` for channel/connection closes). */
export function replyCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

function text(err: unknown): string {
  return redactUrl(err instanceof Error ? err.message : String(err));
}

/** The broker refused the user name or password at the handshake (403 ACCESS_REFUSED - Login was refused). */
function isLoginRefused(err: unknown): boolean {
  return /ACCESS[-_]REFUSED - Login was refused/.test(text(err));
}

/** ACCESS_REFUSED (403) or NOT_ALLOWED (530, e.g. a missing vhost), also when only in the message (handshake). */
function isAccessProblem(err: unknown): boolean {
  const code = replyCode(err);
  return code === 403 || code === 530 || /\b(403|530)\b.*(ACCESS[-_]REFUSED|NOT[-_]ALLOWED)/.test(text(err));
}

/**
 * Turn a driver error into an ilkkun error. Refused credentials are a `BackendAuthError`; other
 * settings the broker refuses (permissions, vhost, a queue that exists with other arguments) are
 * `ConfigError`s: retrying will not help. Everything else (refused connections, resets, forced
 * closes, timeouts) is a retryable `BackendUnavailableError`. `where` names host:port/vhost only,
 * never the URL with its password; `doing` is what was under way, as a gerund ("connecting",
 * "declaring queue x"), so every message reads "… while <doing>: <driver's words>".
 */
export function classifyError(err: unknown, where: string, doing: string): IlkkunError {
  if (err instanceof IlkkunError) return err;
  const msg = text(err);
  if (isLoginRefused(err)) {
    return new BackendAuthError(
      `RabbitMQ at ${where} refused the user name or password in the URL while ${doing}: ${msg}`,
      { cause: err },
    );
  }
  if (isAccessProblem(err)) {
    return new ConfigError(
      `RabbitMQ at ${where} denied access while ${doing}: ${msg} (check the user's permissions and the vhost)`,
      { cause: err },
    );
  }
  if (replyCode(err) === 406 || /PRECONDITION[-_]FAILED - inequivalent arg/.test(msg)) {
    return new ConfigError(
      `RabbitMQ at ${where} refused the arguments while ${doing}: ${msg}. A queue of that name exists with other ` +
        'arguments (queueType, maxPriority or deliveryLimit changed?): delete it, or use another prefix',
      { cause: err },
    );
  }
  return new BackendUnavailableError(`RabbitMQ at ${where} is unavailable while ${doing}: ${msg}`, {
    cause: err,
  });
}
