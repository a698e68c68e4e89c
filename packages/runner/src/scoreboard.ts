import type { WorkerInfo } from './events.js';
import type { Slot } from './slot.js';

export interface SlotStatus {
  index: number;
  group: string;
  state: 'idle' | 'busy';
  queue?: string;
  jobId?: string;
  pid?: number;
  since: string;
  jobsDone: number;
}

export interface WorkerStatus {
  pid: number;
  group: string;
  state: WorkerInfo['state'];
  startedAt: string;
  jobsDone: number;
  rssBytes?: number;
}

export interface GroupStatus {
  name: string;
  mode: 'inline' | 'process';
  queues: string[];
  slots: SlotStatus[];
  workers: WorkerStatus[];
}

export interface Totals {
  started: number;
  completed: number;
  failed: number;
  retried: number;
  dead: number;
  released: number;
  leaseLost: number;
}

/** The JSON served at `/status`. */
export interface StatusSnapshot {
  pid: number;
  state: 'idle' | 'running' | 'stopping' | 'stopped';
  startedAt: string | undefined;
  uptimeMs: number;
  busy: number;
  size: number;
  scoreboard: string;
  totals: Totals;
  /** this process's memory (the parent's in `process` mode): what a soak test or a dashboard watches for growth */
  memory: { rssBytes: number; heapUsedBytes: number };
  groups: GroupStatus[];
}

export function slotStatus(slot: Slot): SlotStatus {
  const out: SlotStatus = {
    index: slot.index,
    group: slot.group,
    state: slot.state,
    since: new Date(slot.since).toISOString(),
    jobsDone: slot.jobsDone,
  };
  if (slot.queue !== undefined) out.queue = slot.queue;
  if (slot.jobId !== undefined) out.jobId = slot.jobId;
  if (slot.pid !== undefined) out.pid = slot.pid;
  return out;
}

export function workerStatus(w: WorkerInfo): WorkerStatus {
  const out: WorkerStatus = {
    pid: w.pid,
    group: w.group,
    state: w.state,
    startedAt: w.startedAt.toISOString(),
    jobsDone: w.jobsDone,
  };
  if (w.rssBytes !== undefined) out.rssBytes = w.rssBytes;
  return out;
}

/**
 * Qudo/Apache-style one-liner: `W` busy, `_` idle and ready, `.` a slot with no process behind it
 * yet (`process` mode below its maximum). Groups are separated by a space.
 * e.g. `_W_W__ 2/6 busy`
 */
export function scoreboardLine(groups: readonly GroupStatus[]): string {
  let busy = 0;
  let size = 0;
  const parts = groups.map((g) => {
    const idleReady =
      g.mode === 'inline' ? Number.POSITIVE_INFINITY : g.workers.filter((w) => w.state === 'idle').length;
    let readyLeft = idleReady;
    let line = '';
    for (const s of g.slots) {
      size++;
      if (s.state === 'busy') {
        busy++;
        line += 'W';
      } else if (readyLeft > 0) {
        readyLeft--;
        line += '_';
      } else {
        line += '.';
      }
    }
    return line;
  });
  return `${parts.join(' ')} ${busy}/${size} busy`;
}
