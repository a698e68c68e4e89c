import type { JobError, LeasedJob } from '@ilkkun/core';

export type WorkerState = 'starting' | 'idle' | 'busy' | 'stopping' | 'exited';
export type WorkerStopReason = 'recycle' | 'idle' | 'crash' | 'shutdown' | 'timeout' | 'lease-lost';

/** One worker: the runner's own process in `inline` mode, a child in `process` mode. */
export interface WorkerInfo {
  pid: number;
  group: string;
  state: WorkerState;
  startedAt: Date;
  jobsDone: number;
  /** resident set size at the last report (children report with every job) */
  rssBytes?: number;
}

/** Where a lease was found lost: the heartbeat, or the ack/requeue that ended the job. */
export type LeaseLostDuring = 'extend' | 'ack' | 'requeue' | 'release';

/** Every event a runner emits, with its payload. */
export interface RunnerEvents {
  'pool:start': {
    slots: number;
    groups: readonly { name: string; queues: readonly string[]; slots: number }[];
  };
  /** every slot is idle and the last pop found nothing; emitted once per idle spell */
  'pool:drain': { at: Date };
  'pool:stop': { released: number };
  'worker:start': { worker: WorkerInfo };
  'worker:stop': {
    worker: WorkerInfo;
    reason: WorkerStopReason;
    exitCode: number | null;
    signal: string | null;
  };
  /** `pickupMs`: start − max(runAt, createdAt), how long the ready job waited for a slot */
  'job:start': { job: LeasedJob<unknown>; slot: number; group: string; pickupMs: number };
  'job:complete': { job: LeasedJob<unknown>; result: unknown; durationMs: number };
  /** an attempt failed; `job:retry` or `job:dead` follows once the store has the outcome */
  'job:fail': { job: LeasedJob<unknown>; error: JobError; durationMs: number; willRetry: boolean };
  'job:retry': { job: LeasedJob<unknown>; error: JobError; runAt: Date; delayMs: number };
  'job:dead': {
    job: LeasedJob<unknown>;
    error: JobError;
    reason: 'attempts-exhausted' | 'unrecoverable' | 'undecodable';
  };
  /** handed back unattempted at shutdown (`requeue(job, { release: true })`) */
  'job:release': { job: LeasedJob<unknown> };
  'job:log': { job: LeasedJob<unknown>; message: string; data?: Record<string, unknown> };
  /** the job was dropped: its lease belongs to someone else now; it is never acked or retried by us */
  'lease:lost': { job: LeasedJob<unknown>; during: LeaseLostDuring };
  /** something went wrong outside a job's own outcome (a pop, a heartbeat, a hook, a listener) */
  error: { error: Error; context: string; jobId?: string };
}

export type EventName = keyof RunnerEvents;
export type Listener<K extends EventName> = (payload: RunnerEvents[K]) => void;

type AnyListener = (payload: never) => void;

/**
 * A small typed emitter. Listeners are observers: one that throws is reported as an `error`
 * event and never disturbs the pool, which is why this is not Node's EventEmitter (where a
 * throwing listener unwinds into the emitter and an unheard `error` crashes the process).
 *
 * Each event's listeners are an array replaced (never mutated) by `on`/`off`, so `emit` — called
 * several times per job — iterates it as it is, without a copy, and a listener added or removed
 * during an emit takes effect from the next one.
 */
export class RunnerEmitter {
  private readonly listeners = new Map<EventName, readonly AnyListener[]>();

  on<K extends EventName>(event: K, listener: Listener<K>): () => void {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener as AnyListener]);
    return () => this.off(event, listener);
  }

  once<K extends EventName>(event: K, listener: Listener<K>): () => void {
    const off = this.on(event, (payload) => {
      off();
      listener(payload);
    });
    return off;
  }

  off<K extends EventName>(event: K, listener: Listener<K>): void {
    const list = this.listeners.get(event);
    if (!list) return;
    const at = list.indexOf(listener as AnyListener);
    if (at < 0) return;
    const next = [...list.slice(0, at), ...list.slice(at + 1)];
    if (next.length > 0) this.listeners.set(event, next);
    else this.listeners.delete(event);
  }

  listenerCount(event: EventName): number {
    return this.listeners.get(event)?.length ?? 0;
  }

  emit<K extends EventName>(event: K, payload: RunnerEvents[K]): void {
    const list = this.listeners.get(event);
    if (list === undefined) {
      // Nobody is listening for errors: say so on stderr rather than swallow it.
      if (event === 'error') {
        const e = payload as RunnerEvents['error'];
        console.error(`[ilkkun runner] ${e.context}: ${e.error.stack ?? e.error.message}`);
      }
      return;
    }
    for (let i = 0; i < list.length; i++) {
      try {
        (list[i] as Listener<K>)(payload);
      } catch (err) {
        if (event === 'error') {
          console.error('[ilkkun runner] an error listener threw:', err);
        } else {
          this.emit('error', { error: asError(err), context: `listener for ${event}` });
        }
      }
    }
  }
}

export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
