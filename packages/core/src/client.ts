import type { Backend, Inspector } from './backend.js';
import { BackendClosedError, UnsupportedFeatureError } from './errors.js';
import type { NewJob } from './job.js';
import { type AddOptions, buildNewJob } from './job-options.js';
import { type OpenBackendOptions, openBackend } from './resolve-backend.js';
import { DEFAULT_MAX_PAYLOAD_BYTES } from './serialize.js';

export interface AddItem extends AddOptions {
  queue: string;
  payload: unknown;
}

export interface AddResult {
  id: string;
  queue: string;
  /** true when `uniqueKey` matched a live job; `id` is the existing job's and nothing was added */
  duplicate: boolean;
}

export interface EnqueueHooks {
  /** runs after validation, before the push; throwing cancels the whole add */
  beforeEnqueue?: (jobs: readonly NewJob[]) => void | Promise<void>;
  afterEnqueue?: (jobs: readonly NewJob[], results: readonly AddResult[]) => void | Promise<void>;
}

export interface ClientOptions {
  /** payload ceiling in bytes of JSON (default 256 KiB, lowered to the backend's own limit) */
  maxPayloadBytes?: number;
  hooks?: EnqueueHooks;
}

/**
 * The producer API. Everything is validated and serialised here, before the backend sees it,
 * so every backend accepts and refuses the same inputs and a refused add writes nothing.
 */
export class Client {
  readonly backend: Backend;
  private readonly maxPayloadBytes: number;
  private readonly hooks: EnqueueHooks;
  private closed = false;

  constructor(backend: Backend, options: ClientOptions = {}) {
    this.backend = backend;
    this.maxPayloadBytes = Math.min(
      options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES,
      backend.capabilities.maxPayloadBytes ?? Number.POSITIVE_INFINITY,
    );
    this.hooks = options.hooks ?? {};
  }

  /** Add one job. Resolves once the store has it. */
  async add(queue: string, payload: unknown, options?: AddOptions): Promise<AddResult> {
    const [result] = await this.addMany([{ ...options, queue, payload }]);
    return result!;
  }

  /** Add many jobs in one round trip where the backend allows; all are validated before any is written. */
  async addMany(items: readonly AddItem[]): Promise<AddResult[]> {
    if (this.closed) throw new BackendClosedError('client');
    const now = Date.now();
    const jobs = items.map(({ queue, payload, ...options }) =>
      buildNewJob(queue, payload, options, { maxPayloadBytes: this.maxPayloadBytes, now }),
    );
    if (jobs.length === 0) return [];
    await this.hooks.beforeEnqueue?.(jobs);
    const pushed = await this.backend.push(jobs);
    const results = pushed.map((r, i) => ({ id: r.id, queue: jobs[i]!.queue, duplicate: r.duplicate }));
    await this.hooks.afterEnqueue?.(jobs, results);
    return results;
  }

  /** The backend's inspection API, or an `UnsupportedFeatureError` naming the backend. */
  get inspector(): Inspector {
    const inspector = this.backend.inspector;
    if (!inspector) throw new UnsupportedFeatureError('inspection', this.backend.name);
    return inspector;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.backend.close();
  }
}

/** Open the backend a URL names (default `ILKKUN_URL`, else `sqlite:./ilkkun.db`) and wrap it in a Client. */
export async function createClient(
  url?: string,
  options: ClientOptions & OpenBackendOptions = {},
): Promise<Client> {
  const backend = await openBackend(url, options);
  return new Client(backend, options);
}
