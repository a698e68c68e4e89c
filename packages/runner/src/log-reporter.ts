import type { Runner } from './runner.js';

export interface LogReporterOptions {
  stream?: NodeJS.WritableStream;
  /** also log each completed job (default true) */
  completions?: boolean;
}

/**
 * One plain line per event, for pipes, files and log collectors (no cursor tricks). Returns a
 * function that detaches it.
 */
export function attachLogReporter(runner: Runner, options: LogReporterOptions = {}): () => void {
  const stream = options.stream ?? process.stdout;
  const line = (text: string) => stream.write(`${new Date().toISOString()} ${text}\n`);
  const offs = [
    runner.on('pool:start', ({ slots, groups }) =>
      line(
        `pool:start slots=${slots} groups=${groups.map((g) => `${g.name}[${g.queues.join(',')}]x${g.slots}`).join(' ')}`,
      ),
    ),
    runner.on('pool:drain', () => line('pool:drain all queues empty, every slot idle')),
    runner.on('pool:stop', ({ released }) => line(`pool:stop released=${released}`)),
    runner.on('worker:start', ({ worker }) => line(`worker:start pid=${worker.pid} group=${worker.group}`)),
    runner.on('worker:stop', ({ worker, reason, exitCode, signal }) =>
      line(
        `worker:stop pid=${worker.pid} reason=${reason} jobs=${worker.jobsDone}` +
          (exitCode !== null ? ` code=${exitCode}` : '') +
          (signal ? ` signal=${signal}` : ''),
      ),
    ),
    runner.on('job:complete', ({ job, durationMs }) => {
      if (options.completions !== false) {
        line(`job:complete queue=${job.queue} id=${job.id} attempt=${job.attemptsMade} ms=${durationMs}`);
      }
    }),
    runner.on('job:retry', ({ job, error, delayMs }) =>
      line(
        `job:retry queue=${job.queue} id=${job.id} attempt=${error.attempt}/${job.maxAttempts} in=${delayMs}ms error=${JSON.stringify(error.message)}`,
      ),
    ),
    runner.on('job:dead', ({ job, error, reason }) =>
      line(
        `job:dead queue=${job.queue} id=${job.id} attempt=${error.attempt} reason=${reason} error=${JSON.stringify(error.message)}`,
      ),
    ),
    runner.on('job:release', ({ job }) => line(`job:release queue=${job.queue} id=${job.id}`)),
    runner.on('job:log', ({ job, message, data }) =>
      line(`job:log queue=${job.queue} id=${job.id} ${message}${data ? ` ${JSON.stringify(data)}` : ''}`),
    ),
    runner.on('lease:lost', ({ job, during }) =>
      line(`lease:lost queue=${job.queue} id=${job.id} during=${during}`),
    ),
    runner.on('error', ({ error, context, jobId }) =>
      line(
        `error context=${JSON.stringify(context)}${jobId ? ` id=${jobId}` : ''} ${error.name}: ${error.message}`,
      ),
    ),
  ];
  return () => {
    for (const off of offs) off();
  };
}
