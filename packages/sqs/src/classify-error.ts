import { BackendUnavailableError, ConfigError, IlkkunError, isNetworkErrorCode } from '@ilkkun/core';

/** SQS (and AWS-wide) error names that mean "try again later". */
const TRANSIENT_NAMES = new Set([
  'RequestThrottled',
  'ThrottlingException',
  'Throttling',
  'OverLimit',
  'KmsThrottled',
  'ServiceUnavailable',
  'InternalError',
  'InternalFailure',
  'RequestTimeout',
  'TimeoutError',
  'RequestTimeoutException',
  'PurgeQueueInProgress',
  'AbortError',
]);

/** Wrong or missing credentials and permissions: waiting does not help, configuration does. */
const CONFIG_NAMES = new Set([
  'CredentialsProviderError',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'SignatureDoesNotMatch',
  'InvalidSecurity',
  'AccessDenied',
  'AccessDeniedException',
  'MissingAuthenticationToken',
  'ExpiredToken',
  'KmsAccessDenied',
  'KmsDisabled',
  'KmsNotFound',
  'KmsInvalidKeyUsage',
  'KmsInvalidState',
  'KmsOptInRequired',
]);

/** Errors that say a receipt handle is no longer (or never was) the message's current one. */
const LEASE_NAMES = new Set(['MessageNotInflight', 'ReceiptHandleIsInvalid', 'InvalidReceiptHandle']);

interface ErrorFields {
  name: string;
  message: string;
  code: string;
  status: number;
  fault: string;
}

export function errorFields(err: unknown): ErrorFields {
  const e = (typeof err === 'object' && err !== null ? err : {}) as {
    name?: unknown;
    message?: unknown;
    code?: unknown;
    Code?: unknown;
    $fault?: unknown;
    $metadata?: { httpStatusCode?: unknown };
  };
  return {
    name: typeof e.name === 'string' ? e.name : '',
    message: typeof e.message === 'string' ? e.message : String(err),
    code: typeof e.code === 'string' ? e.code : typeof e.Code === 'string' ? e.Code : '',
    status: typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : 0,
    fault: typeof e.$fault === 'string' ? e.$fault : '',
  };
}

/** The queue was deleted (by another process, or an operator) or never existed. */
export function isQueueMissing(err: unknown): boolean {
  const { name, code } = errorFields(err);
  return name === 'QueueDoesNotExist' || code === 'AWS.SimpleQueueService.NonExistentQueue';
}

/**
 * A receipt handle SQS no longer accepts: the lease is gone. The SDK names the JSON-protocol error
 * (`MessageNotInflight`, `ReceiptHandleIsInvalid`); the legacy Query code rides along in `Code`.
 */
export function isLeaseGone(err: unknown): boolean {
  const { name, code, message } = errorFields(err);
  if (LEASE_NAMES.has(name)) return true;
  if (code.endsWith('MessageNotInflight') || code.endsWith('ReceiptHandleIsInvalid')) return true;
  // AWS answers an expired handle with InvalidParameterValue "...receipt handle has expired"
  return name === 'InvalidParameterValue' && /receipt handle/i.test(message);
}

/** CreateQueue found the name taken with other attributes (an older setup, or an operator's change). */
export function isQueueNameTaken(err: unknown): boolean {
  const { name, code } = errorFields(err);
  return name === 'QueueNameExists' || name === 'QueueAlreadyExists' || code.endsWith('QueueAlreadyExists');
}

/**
 * Turn an SDK error into the ilkkun error a caller can act on: `BackendUnavailableError`
 * (retryable) for network trouble, throttling and 5xx; `ConfigError` for credentials and
 * permissions. Anything else (a bug, a bad parameter) passes through unchanged. `where` is the
 * endpoint or region, never anything secret.
 */
export function classifyError(err: unknown, action: string, where: string): unknown {
  if (err instanceof IlkkunError) return err;
  const { name, message, code, status, fault } = errorFields(err);
  if (CONFIG_NAMES.has(name) || status === 403) {
    return new ConfigError(
      `sqs ${action} at ${where} was refused (${name || status}): check the AWS credentials, region and permissions: ${message}`,
      { cause: err },
    );
  }
  if (
    isNetworkErrorCode(code) ||
    TRANSIENT_NAMES.has(name) ||
    fault === 'server' ||
    status >= 500 ||
    status === 429 ||
    /\b(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EHOSTUNREACH|socket hang up)\b/.test(message)
  ) {
    return new BackendUnavailableError(
      `sqs ${action} at ${where} failed: ${name ? `${name}: ` : ''}${message}`,
      {
        cause: err,
      },
    );
  }
  return err;
}
