import type { LeasedJob } from '@ilkkun/core';
import { ConfigError } from '@ilkkun/core';
import { serializeError } from './errors.js';
import type { WorkerInfo } from './events.js';
import type { ExecHooks, Execution, Executor, Outcome } from './executor.js';
import type { Handler, JobContext, ResolvedHandler } from './handler.js';
import { loadHandler } from './handler.js';

/**
 * Handlers as async functions in this process. A handler that ignores its abort signal keeps
 * running (JavaScript cannot stop it); its job is failed/released on time regardless and its slot
 * stays busy until it returns. Use `process` mode for code that must be killable.
 */
export class InlineExecutor implements Executor {
  readonly mode = 'inline' as const;
  private readonly handlers = new Map<string, Handler>();
  private readonly startedAt = new Date();
  private jobsDone = 0;
  private busy = 0;

  constructor(
    private readonly group: string,
    private readonly specs: ReadonlyMap<string, ResolvedHandler>,
  ) {}

  async start(): Promise<void> {
    for (const [queue, spec] of this.specs) {
      this.handlers.set(
        queue,
        spec.kind === 'function' ? spec.fn : await loadHandler(spec.url, spec.exportName, queue),
      );
    }
  }

  run(job: LeasedJob<unknown>, _record: unknown, hooks: ExecHooks): Execution {
    const handler = this.handlers.get(job.queue);
    if (!handler) throw new ConfigError(`no handler registered for queue "${job.queue}"`);
    this.busy++;
    return new InlineExecution(handler, job, hooks, () => {
      this.busy--;
      this.jobsDone++;
    });
  }

  workers(): WorkerInfo[] {
    return [
      {
        pid: process.pid,
        group: this.group,
        state: this.busy > 0 ? 'busy' : 'idle',
        startedAt: this.startedAt,
        jobsDone: this.jobsDone,
        rssBytes: process.memoryUsage.rss(),
      },
    ];
  }

  async close(): Promise<void> {}
}

/**
 * One handler call: the handler's `ctx` and the runner's handle on it in one object, so a job
 * costs one allocation here plus the handler's own promise — this runs tens of thousands of
 * times a second in a busy pool.
 */
class InlineExecution implements Execution, JobContext {
  readonly pid = process.pid;
  readonly outcome: Promise<Outcome>;
  private controller: AbortController | undefined;
  private reason: Error | undefined;

  constructor(
    handler: Handler,
    job: LeasedJob<unknown>,
    private readonly hooks: ExecHooks,
    finished: () => void,
  ) {
    let result: unknown;
    try {
      result = handler(job, this);
    } catch (err) {
      finished();
      this.outcome = Promise.resolve(failed(err));
      return;
    }
    this.outcome = Promise.resolve(result).then(
      (value): Outcome => {
        finished();
        return { ok: true, result: value };
      },
      (err: unknown): Outcome => {
        finished();
        return failed(err);
      },
    );
  }

  /**
   * The handler's signal, made on first read: an AbortController costs more than a no-op job's
   * whole run (about 5 % of the pool's CPU at 45k jobs/s), and most handlers never look at it.
   * An abort before the first read yields an already-aborted signal with its reason.
   */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.reason) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  extend(ms: number): Promise<Date> {
    return this.hooks.extend(ms);
  }

  log(message: string, data?: Record<string, unknown>): void {
    this.hooks.log(message, data);
  }

  abort(reason: Error): void {
    if (this.controller) {
      if (!this.controller.signal.aborted) this.controller.abort(reason);
    } else {
      this.reason ??= reason;
    }
  }
}

function failed(err: unknown): Outcome {
  return { ok: false, error: err instanceof Error ? err : normalizeThrown(err) };
}

/**
 * `throw 'text'` or `throw { message }`: keep what the handler said, as an Error. The stack is
 * dropped: it would point here, not at the handler, and mislead whoever reads the dead job.
 */
function normalizeThrown(err: unknown): Error {
  const { name, message, stack } = serializeError(err);
  const e = new Error(message);
  e.name = name;
  if (stack !== undefined) e.stack = stack;
  else delete e.stack;
  return e;
}
