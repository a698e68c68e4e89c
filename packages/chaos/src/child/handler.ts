/**
 * The chaos handler. It works for `payload.workMs`, then writes a `ran` line to the ledger
 * before it returns, so a run that finished is on record even if the process is killed before
 * the ack. Loaded by the runner in the worker (inline mode) or in each child (process mode).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { LeasedJob } from '@ilkkun/core';
import { appendLedger, LEDGER_DIR_ENV } from '../ledger.js';

export interface ChaosPayload {
  seq: number;
  workMs: number;
}

const dir = process.env[LEDGER_DIR_ENV];

export default async function chaosHandler(job: LeasedJob<ChaosPayload>): Promise<void> {
  if (!dir) throw new Error(`${LEDGER_DIR_ENV} is not set: the chaos handler has nowhere to record its runs`);
  // no signal: a handler that ignores aborts is the harder case for the runner's fencing
  await sleep(job.payload.workMs);
  appendLedger(dir, { ev: 'ran', id: job.id, seq: job.payload.seq, attempt: job.attemptsMade });
}
