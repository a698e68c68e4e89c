/**
 * Entry point of a `process`-mode child (forked from dist/child/worker-main.js). It loads the
 * handler modules once, then runs one job at a time as the runner asks. Leases, heartbeats,
 * timeouts and ack/requeue all stay with the runner.
 */
import type { LeasedJobRecord } from '@ilkkun/core';
import { decodeJob } from '@ilkkun/core';
import { deserializeError, serializeError } from '../errors.js';
import type { Handler } from '../handler.js';
import { loadHandler } from '../handler.js';
import type { ChildHandlerRef, ChildMessage, ParentMessage } from './protocol.js';
import { isParentMessage } from './protocol.js';

const handlers = new Map<string, Handler>();
let current: { jobId: string; controller: AbortController } | undefined;
let nextRequestId = 1;
const pendingExtends = new Map<number, { resolve: (d: Date) => void; reject: (e: Error) => void }>();

function send(message: ChildMessage): void {
  if (!process.connected || !process.send) return;
  try {
    process.send(message);
  } catch (err) {
    // a result that structured clone cannot carry (a function, a socket): report success without it
    if (message.type === 'done') process.send({ ...message, result: undefined });
    else throw err;
  }
}

const rss = () => process.memoryUsage.rss();

// Ctrl-C reaches the whole process group: the runner decides when children stop (after the
// grace period), so the terminal's SIGINT/SIGTERM must not kill a job mid-way here.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => {});
// the runner is gone (even SIGKILLed): leases expire there, nothing to hand back from here
process.on('disconnect', () => process.exit(0));

const fatal = (err: unknown) => {
  send({ type: 'fatal', error: serializeError(err) });
  process.exit(1);
};
process.on('uncaughtException', fatal);
process.on('unhandledRejection', fatal);

process.on('message', (raw: unknown) => {
  if (!isParentMessage(raw)) return;
  const message: ParentMessage = raw;
  switch (message.type) {
    case 'init':
      void init(message.handlers);
      return;
    case 'run':
      void run(message.job);
      return;
    case 'abort':
      if (current?.jobId === message.jobId && !current.controller.signal.aborted) {
        current.controller.abort(deserializeError(message.reason));
      }
      return;
    case 'extended': {
      const pending = pendingExtends.get(message.requestId);
      pendingExtends.delete(message.requestId);
      if (!pending) return;
      if (message.error) pending.reject(deserializeError(message.error));
      else pending.resolve(new Date(message.expiresAt ?? Date.now()));
      return;
    }
    case 'exit':
      process.exit(0);
  }
});

async function init(refs: readonly ChildHandlerRef[]): Promise<void> {
  try {
    for (const ref of refs) handlers.set(ref.queue, await loadHandler(ref.url, ref.exportName, ref.queue));
  } catch (err) {
    send({ type: 'init-error', error: serializeError(err) });
    process.exit(1);
  }
  send({ type: 'ready', rssBytes: rss() });
}

async function run(record: LeasedJobRecord): Promise<void> {
  const controller = new AbortController();
  current = { jobId: record.id, controller };
  try {
    const handler = handlers.get(record.queue);
    if (!handler) throw new Error(`no handler for queue "${record.queue}" in this worker`);
    const job = decodeJob<unknown>(record);
    const result = await handler(job, {
      signal: controller.signal,
      extend: (ms) =>
        new Promise<Date>((resolve, reject) => {
          const requestId = nextRequestId++;
          pendingExtends.set(requestId, { resolve, reject });
          send({ type: 'extend', requestId, jobId: record.id, ms });
        }),
      log: (message, data) => {
        const out: ChildMessage = { type: 'log', jobId: record.id, message };
        if (data !== undefined) out.data = data;
        send(out);
      },
    });
    current = undefined;
    send({ type: 'done', jobId: record.id, result, rssBytes: rss() });
  } catch (err) {
    current = undefined;
    send({ type: 'failed', jobId: record.id, error: serializeError(err), rssBytes: rss() });
  }
}
