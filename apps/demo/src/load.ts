import { Worker } from 'node:worker_threads';
import type { UploadRequest } from './photos.js';

export interface LoadOptions {
  /** e.g. http://127.0.0.1:1234/photos */
  url: string;
  /** how many requests in all (bounded) */
  requests: number;
  /** how many in flight at once */
  concurrency: number;
  /** the body of request i */
  body: (i: number) => UploadRequest;
  /** per-request time limit (default 10 s) */
  timeoutMs?: number;
  /** told after each answer */
  onAnswer?: (done: number) => void;
}

export interface LoadResult {
  /** ms per request, from just before `fetch` to the body read, in completion order */
  latenciesMs: number[];
  /** HTTP status → count; `0` for a request that got no answer (network error, timeout) */
  statuses: Record<number, number>;
  elapsedMs: number;
  errors: string[];
}

/** A bounded closed-loop load: `concurrency` clients, each sending the next request when its last one is answered. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const latenciesMs: number[] = [];
  const statuses: Record<number, number> = {};
  const errors: string[] = [];
  let next = 0;
  let done = 0;
  const t0 = performance.now();
  const client = async () => {
    while (next < options.requests) {
      const i = next++;
      const started = performance.now();
      let status = 0;
      try {
        const res = await fetch(options.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(options.body(i)),
          signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
        });
        await res.arrayBuffer();
        status = res.status;
      } catch (err) {
        if (errors.length < 10) errors.push((err as Error).message);
      }
      latenciesMs.push(performance.now() - started);
      statuses[status] = (statuses[status] ?? 0) + 1;
      options.onAnswer?.(++done);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, client));
  return { latenciesMs, statuses, elapsedMs: performance.now() - t0, errors };
}

/** Nearest-rank percentile (p in 0..100); NaN without samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

export interface WorkerLoadOptions {
  url: string;
  requests: number;
  concurrency: number;
  /** bodies are `uploadFor(i, poisonEvery)` */
  poisonEvery: number;
  timeoutMs?: number;
  onAnswer?: (done: number) => void;
}

export type LoadWorkerMessage = { type: 'answered'; done: number } | { type: 'result'; result: LoadResult };

/**
 * `runLoad` in a worker thread, so the clients' own work (building requests, parsing answers)
 * does not queue on the event loop of the app being measured.
 */
export function runLoadInWorker(options: WorkerLoadOptions): Promise<LoadResult> {
  const { onAnswer, ...data } = options;
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./load-worker.js', import.meta.url), { workerData: data });
    let result: LoadResult | undefined;
    worker.on('message', (message: LoadWorkerMessage) => {
      if (message.type === 'answered') onAnswer?.(message.done);
      else result = message.result;
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (result) resolve(result);
      else reject(new Error(`the load worker exited (code ${code}) without a result`));
    });
  });
}
