import type { LeasedJob } from '@ilkkun/core';
import { ConfigError } from '@ilkkun/core';
import { serializeError } from './errors.js';
import type { WorkerInfo } from './events.js';
import type { ExecHooks, Execution, Executor, Outcome } from './executor.js';
import type { Handler, ResolvedHandler } from './handler.js';
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

  async run(job: LeasedJob<unknown>, _record: unknown, hooks: ExecHooks): Promise<Execution> {
    const handler = this.handlers.get(job.queue);
    if (!handler) throw new ConfigError(`no handler registered for queue "${job.queue}"`);
    const abortable = new LazyAbort();
    this.busy++;
    const outcome = (async (): Promise<Outcome> => {
      try {
        const result = await handler(job, {
          get signal() {
            return abortable.signal;
          },
          extend: (ms) => hooks.extend(ms),
          log: (message, data) => hooks.log(message, data),
        });
        return { ok: true, result };
      } catch (err) {
        return { ok: false, error: err instanceof Error ? err : normalizeThrown(err) };
      } finally {
        this.busy--;
        this.jobsDone++;
      }
    })();
    return {
      pid: process.pid,
      outcome,
      abort: (reason) => abortable.abort(reason),
    };
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

/**
 * An AbortController made only when a handler reads `ctx.signal`. Creating one costs more than
 * a no-op job's whole run (about 5 % of the pool's CPU at 45k jobs/s), and most handlers never
 * look at it. An abort before the first read yields an already-aborted signal with its reason.
 */
class LazyAbort {
  private controller: AbortController | undefined;
  private reason: Error | undefined;

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.reason) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  abort(reason: Error): void {
    if (this.controller) {
      if (!this.controller.signal.aborted) this.controller.abort(reason);
    } else {
      this.reason ??= reason;
    }
  }
}
