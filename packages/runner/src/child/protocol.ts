import type { LeasedJobRecord } from '@ilkkun/core';
import type { SerializedError } from '../errors.js';

/**
 * Messages between the runner and a child (IPC with `serialization: 'advanced'`, so Dates and
 * plain objects cross intact). The child only runs code: it never talks to the store, which is
 * why `process` mode works with any backend, the in-memory one included.
 */

export interface ChildHandlerRef {
  queue: string;
  /** absolute file URL (or bare specifier), resolved by the runner */
  url: string;
  exportName?: string;
}

export type ParentMessage =
  | { type: 'init'; handlers: ChildHandlerRef[] }
  | { type: 'run'; job: LeasedJobRecord }
  | { type: 'abort'; jobId: string; reason: SerializedError }
  | { type: 'extended'; requestId: number; expiresAt?: Date; error?: SerializedError }
  | { type: 'exit' };

export type ChildMessage =
  | { type: 'ready'; rssBytes: number }
  | { type: 'init-error'; error: SerializedError }
  | { type: 'done'; jobId: string; result: unknown; rssBytes: number }
  | { type: 'failed'; jobId: string; error: SerializedError; rssBytes: number }
  | { type: 'extend'; requestId: number; jobId: string; ms: number }
  | { type: 'log'; jobId: string; message: string; data?: Record<string, unknown> }
  /** an uncaught exception or unhandled rejection: the child exits right after */
  | { type: 'fatal'; error: SerializedError };

export function isChildMessage(value: unknown): value is ChildMessage {
  return (
    typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string'
  );
}

export function isParentMessage(value: unknown): value is ParentMessage {
  return (
    typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string'
  );
}
