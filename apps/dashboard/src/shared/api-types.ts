/**
 * The JSON the dashboard's HTTP API speaks. Shared by the server (which produces it) and the
 * browser code (which consumes it); type-only, so nothing here exists at run time.
 * Dates travel as ISO strings, sample times as epoch milliseconds (cheap to chart).
 */

export type JobStateName = 'waiting' | 'delayed' | 'active' | 'completed' | 'dead';
export type Counts = Record<JobStateName, number>;

/** A feature the backend (or the dashboard's mode) may lack: shown greyed, never as an error. */
export interface Support {
  supported: boolean;
  /** why not, in words fit for a tooltip ("not supported by the amqp backend") */
  reason?: string;
}

export interface Features {
  counts: Support;
  list: Support;
  jobDetail: Support;
  retryDead: Support;
  deleteJobs: Support;
  purge: Support;
  pause: Support;
}

export interface PoolRef {
  id: string;
  /** credentials redacted */
  url: string;
}

export interface MetaResponse {
  version: string;
  backend: { name: string; url: string };
  readOnly: boolean;
  /** write actions need `Authorization: Bearer <token>` */
  tokenRequired: boolean;
  features: Features;
  sampleIntervalMs: number;
  historySize: number;
  pools: PoolRef[];
}

export interface ApiErrorBody {
  error: { status: number; code: string; message: string };
}

export interface QueueSummary {
  name: string;
  /** null when the backend cannot count */
  counts: Counts | null;
  /** null when the backend cannot pause queues */
  paused: boolean | null;
}

export interface QueuesResponse {
  at: string;
  queues: QueueSummary[];
  /** the backend lists no more than this many queues per request */
  truncated: boolean;
}

export interface LastErrorView {
  message: string;
  name?: string;
  stack?: string;
  attempt: number;
  at: string;
}

export interface JobSummary {
  id: string;
  queue: string;
  state: JobStateName | null;
  priority: number;
  runAt: string;
  createdAt: string;
  attemptsMade: number;
  maxAttempts: number;
  uniqueKey?: string;
  /** the start of the payload's JSON text */
  payloadPreview: string;
  payloadBytes: number;
  /** the stack is left out of listings (it is in the detail) */
  lastError?: Omit<LastErrorView, 'stack'>;
}

export type PayloadView =
  | { ok: true; json: unknown }
  /** the stored text is not JSON (written around core): shown raw */
  | { ok: false; raw: string; error: string };

export interface JobDetail extends Omit<JobSummary, 'lastError'> {
  payload: PayloadView;
  lastError?: LastErrorView;
  backoff?: unknown;
}

export interface JobListResponse {
  queue: string;
  state: JobStateName;
  offset: number;
  limit: number;
  /** from the queue's counts; null when the backend cannot count */
  total: number | null;
  jobs: JobSummary[];
}

export interface ActionResponse {
  ok: true;
  /** how many jobs the backend moved or removed */
  affected: number;
}

/** Per-queue job counters a pool reports on `/metrics` (monotonic while the pool lives). */
export interface PoolQueueTotals {
  completed: number;
  failed: number;
  dead: number;
}

export interface PoolSample {
  ok: boolean;
  /** pool-wide totals from `/status` */
  completed: number;
  failed: number;
  /** per queue, from `/metrics` (absent when the pool does not expose it) */
  byQueue: Record<string, PoolQueueTotals>;
}

/** One tick of the server-side sampler; the history is a bounded ring of these. */
export interface Sample {
  /** epoch ms */
  t: number;
  /** counts per queue (only queues that held jobs, or were seen recently) */
  queues: Record<string, Counts>;
  pools: Record<string, PoolSample>;
  /** the backend could not be read at this tick */
  error?: string;
}

export interface HistoryResponse {
  intervalMs: number;
  size: number;
  samples: Sample[];
}

export interface SlotView {
  index: number;
  group: string;
  state: 'idle' | 'busy';
  queue?: string;
  jobId?: string;
  pid?: number;
  since: string;
  jobsDone: number;
}

export interface WorkerView {
  pid: number;
  group: string;
  state: string;
  startedAt: string;
  jobsDone: number;
  rssBytes?: number;
}

export interface GroupView {
  name: string;
  mode: string;
  queues: string[];
  slots: SlotView[];
  workers: WorkerView[];
}

/** A runner's `/status` JSON, as far as the dashboard reads it (validated field by field). */
export interface PoolStatusView {
  pid: number;
  state: string;
  startedAt?: string;
  uptimeMs: number;
  busy: number;
  size: number;
  scoreboard: string;
  totals: Record<string, number>;
  groups: GroupView[];
}

export interface PoolView extends PoolRef {
  ok: boolean;
  fetchedAt: string | null;
  error?: string;
  status?: PoolStatusView;
}

export interface PoolsResponse {
  pools: PoolView[];
}

/** What the server pushes on `/api/events` (Server-Sent Events) after every sample. */
export interface LiveEvent {
  sample: Sample;
  pools: PoolView[];
}
