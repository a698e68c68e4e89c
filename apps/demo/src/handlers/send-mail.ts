import type { LeasedJob } from '@ilkkun/core';
import type { JobContext } from '@ilkkun/runner';

export interface MailPayload {
  to: string;
  template: string;
}

/** "send mail": I/O-bound, so it runs inline, many at once. The signal cancels the pretend SMTP call. */
export default async function sendMail(
  job: LeasedJob<MailPayload>,
  ctx: JobContext,
): Promise<{ messageId: string }> {
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, 20 + Math.random() * 60);
    ctx.signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(ctx.signal.reason);
    });
  });
  return { messageId: `<${job.id}.${Date.now()}@demo.ilkkun>` };
}
