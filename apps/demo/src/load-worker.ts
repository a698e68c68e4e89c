// The demo's HTTP clients, in a worker thread (see runLoadInWorker).
import { parentPort, workerData } from 'node:worker_threads';
import { type LoadWorkerMessage, runLoad, type WorkerLoadOptions } from './load.js';
import { uploadFor } from './photos.js';

const options = workerData as Omit<WorkerLoadOptions, 'onAnswer'>;
const post = (message: LoadWorkerMessage) => parentPort!.postMessage(message);
const result = await runLoad({
  url: options.url,
  requests: options.requests,
  concurrency: options.concurrency,
  body: (i) => uploadFor(i, options.poisonEvery),
  ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  onAnswer: (done) => {
    if (done % 10 === 0 || done === options.requests) post({ type: 'answered', done });
  },
});
post({ type: 'result', result });
