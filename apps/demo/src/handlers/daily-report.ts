import type { LeasedJob } from '@ilkkun/core';

export interface ReportPayload {
  day: string;
}

/** "daily report": enqueued with a delay, so it waits in `delayed` before anyone sees it. */
export default async function dailyReport(job: LeasedJob<ReportPayload>): Promise<string> {
  await new Promise((resolve) => setTimeout(resolve, 50));
  return `report for ${job.payload.day}`;
}
