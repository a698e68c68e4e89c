import { type IlkkunErrorCode, redactUrl } from '@ilkkun/core';

/** Codes the dashboard's own HTTP layer adds to core's. */
export type HttpOnlyCode =
  | 'BAD_REQUEST'
  | 'UNAUTHORIZED'
  | 'READ_ONLY'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'BODY_TOO_LARGE'
  | 'TOO_MANY_STREAMS'
  | 'INTERNAL';

export type ApiErrorCode = IlkkunErrorCode | HttpOnlyCode;

/**
 * HTTP status per core error code. A `Record`, so a code added to core is a compile error here
 * until someone decides its status (the CLI maps exit codes the same way).
 */
export const STATUS_BY_CORE_CODE: Readonly<Record<IlkkunErrorCode, number>> = {
  CONFIG: 400, // bad offset, limit or state in the request
  INVALID_QUEUE_NAME: 400,
  INVALID_JOB_OPTIONS: 400,
  SERIALIZATION: 400,
  PAYLOAD_TOO_LARGE: 413,
  LEASE_LOST: 409,
  JOB_NOT_FOUND: 404,
  UNSUPPORTED_FEATURE: 501, // the backend lacks it: not the caller's fault, not a crash
  BACKEND_UNAVAILABLE: 503, // transient: the store is down or busy
  BACKEND_CLOSED: 503, // the dashboard is shutting down
  BACKEND_NOT_INSTALLED: 500,
  BACKEND_AUTH_FAILED: 500, // the dashboard's own URL has wrong credentials: its operator's to fix
  // outcomes of a job run, recorded as its lastError: never thrown by an inspection call
  JOB_TIMEOUT: 500,
  WORKER_CRASHED: 500,
  WORKER_START_FAILED: 500,
  JOB_RELEASED: 500,
  UNRECOVERABLE: 500,
};

const STATUS_BY_HTTP_CODE: Readonly<Record<HttpOnlyCode, number>> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  READ_ONLY: 403,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  UNSUPPORTED_MEDIA_TYPE: 415,
  BODY_TOO_LARGE: 413,
  TOO_MANY_STREAMS: 503,
  INTERNAL: 500,
};

/** An error with the HTTP status and stable code the API answers with. */
export class HttpError extends Error {
  readonly status: number;
  readonly code: ApiErrorCode;
  readonly headers: Readonly<Record<string, string>>;
  constructor(code: HttpOnlyCode, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'HttpError';
    this.code = code;
    this.status = STATUS_BY_HTTP_CODE[code];
    this.headers = headers;
  }
}

export interface MappedError {
  status: number;
  code: ApiErrorCode;
  message: string;
  headers: Readonly<Record<string, string>>;
  /** an unexpected failure: its details stay in the server log, not in the response */
  internal: boolean;
}

/**
 * Duck-typed on `code` rather than `instanceof`: a backend package may bring its own copy of
 * core, and its errors must still map by code.
 */
function coreCode(err: unknown): IlkkunErrorCode | undefined {
  if (!(err instanceof Error)) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && Object.hasOwn(STATUS_BY_CORE_CODE, code)
    ? (code as IlkkunErrorCode)
    : undefined;
}

export function mapError(err: unknown): MappedError {
  if (err instanceof HttpError) {
    return {
      status: err.status,
      code: err.code,
      message: err.message,
      headers: err.headers,
      internal: false,
    };
  }
  const code = coreCode(err);
  if (code && err instanceof Error) {
    // Driver messages inside core errors may quote a connection URL: never send its password.
    return {
      status: STATUS_BY_CORE_CODE[code],
      code,
      message: redactUrl(err.message),
      headers: {},
      internal: false,
    };
  }
  return {
    status: 500,
    code: 'INTERNAL',
    message: 'internal error (see the dashboard log)',
    headers: {},
    internal: true,
  };
}
