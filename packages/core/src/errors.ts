/**
 * Every error ilkkun throws on purpose is an `IlkkunError` with a stable `code`.
 * Callers (and tests) branch on `code` or `instanceof`, never on message text, so messages
 * can be improved without breaking anyone.
 */
export type IlkkunErrorCode =
  | 'CONFIG'
  | 'INVALID_QUEUE_NAME'
  | 'INVALID_JOB_OPTIONS'
  | 'SERIALIZATION'
  | 'PAYLOAD_TOO_LARGE'
  | 'LEASE_LOST'
  | 'BACKEND_UNAVAILABLE'
  | 'BACKEND_AUTH_FAILED'
  | 'BACKEND_NOT_INSTALLED'
  | 'BACKEND_CLOSED'
  | 'UNSUPPORTED_FEATURE'
  | 'JOB_NOT_FOUND'
  // outcomes of one job run, recorded as its lastError by the runner
  | 'JOB_TIMEOUT'
  | 'WORKER_CRASHED'
  // a child process died while it was starting (not a handler that failed to load: that is CONFIG)
  | 'WORKER_START_FAILED'
  | 'JOB_RELEASED'
  | 'UNRECOVERABLE';

export interface IlkkunErrorOptions {
  cause?: unknown;
  /** true when the same call may succeed if simply tried again later (a server restart, a timeout). */
  retryable?: boolean;
  /**
   * What to do, when it is more specific than what the code alone says (the CLI prints it as the
   * `hint:` line instead of its generic one for the code), e.g. which file is not a database.
   */
  hint?: string;
}

export class IlkkunError extends Error {
  readonly code: IlkkunErrorCode;
  readonly retryable: boolean;
  readonly hint: string | undefined;

  constructor(code: IlkkunErrorCode, message: string, options: IlkkunErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.hint = options.hint;
  }
}

/** Bad configuration: an unparsable URL, an unknown option, a value out of range. */
export class ConfigError extends IlkkunError {
  constructor(message: string, options?: IlkkunErrorOptions) {
    super('CONFIG', message, options);
  }
}

export class InvalidQueueNameError extends IlkkunError {
  readonly queue: string;
  constructor(queue: string, reason: string) {
    super('INVALID_QUEUE_NAME', `invalid queue name ${JSON.stringify(queue.slice(0, 60))}: ${reason}`);
    this.queue = queue;
  }
}

/** An add option (priority, delay, attempts, backoff, uniqueKey) that cannot be honoured. */
export class InvalidJobOptionsError extends IlkkunError {
  constructor(message: string) {
    super('INVALID_JOB_OPTIONS', message);
  }
}

export class SerializationError extends IlkkunError {
  /** Where in the payload the offending value sits, e.g. `$.user.id`. */
  readonly path: string;
  constructor(path: string, reason: string, options?: IlkkunErrorOptions) {
    super('SERIALIZATION', `payload is not JSON at ${path}: ${reason}`, options);
    this.path = path;
  }
}

export class PayloadTooLargeError extends IlkkunError {
  readonly bytes: number;
  readonly limit: number;
  constructor(bytes: number, limit: number) {
    super('PAYLOAD_TOO_LARGE', `payload is ${bytes} bytes as JSON; the limit is ${limit} bytes`);
    this.bytes = bytes;
    this.limit = limit;
  }
}

/**
 * The lease presented to ack/requeue/extend is no longer the job's current lease: it expired
 * and the job was handed to someone else, or the job was completed, deleted or purged.
 * Nothing was changed. The worker must drop the job (its result would be a double completion).
 */
export class LeaseLostError extends IlkkunError {
  readonly jobId: string;
  constructor(jobId: string, detail = 'the lease expired or belongs to another worker') {
    super('LEASE_LOST', `lease on job ${jobId} lost: ${detail}`);
    this.jobId = jobId;
  }
}

/** The store cannot be reached or refused the operation for a transient reason. */
export class BackendUnavailableError extends IlkkunError {
  constructor(message: string, options?: IlkkunErrorOptions) {
    super('BACKEND_UNAVAILABLE', message, { retryable: true, ...options });
  }
}

/**
 * The server refused the credentials (a wrong or missing password, an unknown or disabled user).
 * Not retryable: the same URL gets the same answer. Messages never include the password.
 */
export class BackendAuthError extends IlkkunError {
  constructor(message: string, options?: IlkkunErrorOptions) {
    super('BACKEND_AUTH_FAILED', message, { ...options, retryable: false });
  }
}

/** A URL names a backend whose package is not installed. */
export class BackendNotInstalledError extends IlkkunError {
  readonly scheme: string;
  readonly packageName: string;
  constructor(scheme: string, packageName: string, cause?: unknown) {
    super(
      'BACKEND_NOT_INSTALLED',
      `the "${scheme}:" backend needs the package ${packageName}; install it with: pnpm add ${packageName} (or npm install ${packageName})`,
      { cause },
    );
    this.scheme = scheme;
    this.packageName = packageName;
  }
}

/** A call on a backend or client after `close()`. */
export class BackendClosedError extends IlkkunError {
  constructor(what = 'backend') {
    super('BACKEND_CLOSED', `${what} is closed`);
  }
}

/** The backend does not offer this capability (see `backend.capabilities`). */
export class UnsupportedFeatureError extends IlkkunError {
  readonly feature: string;
  constructor(feature: string, backendName: string, why?: string) {
    super(
      'UNSUPPORTED_FEATURE',
      `the ${backendName} backend does not support ${feature}${why ? `: ${why}` : ''}`,
    );
    this.feature = feature;
  }
}

export class JobNotFoundError extends IlkkunError {
  readonly jobId: string;
  constructor(jobId: string) {
    super('JOB_NOT_FOUND', `job ${jobId} not found`);
    this.jobId = jobId;
  }
}

/** True for any ilkkun error with the given code (works across duplicated installs of core). */
export function hasErrorCode(err: unknown, code: IlkkunErrorCode): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}
