import type { LeasedJob } from '@ilkkun/core';

export interface PushPayload {
  device: string;
}

/** "push notification": the pretend gateway fails a third of the time; the runner retries with backoff. */
export default async function flakyPush(job: LeasedJob<PushPayload>): Promise<string> {
  await new Promise((resolve) => setTimeout(resolve, 10));
  if (Math.random() < 0.35) throw new Error(`push gateway timed out for ${job.payload.device}`);
  return 'delivered';
}
