import type { LeasedJob } from '@ilkkun/core';
import type { JobContext } from '@ilkkun/runner';
import type { NotifyPayload } from '../photos.js';
import { fnv1a } from '../pixels.js';

/** Photos whose first push attempt meets a "busy" gateway: about one in eight, decided by the photo id. */
export function gatewayBusyOnFirstTry(photoId: string): boolean {
  return fnv1a(photoId) % 8 === 0;
}

/** A push token the gateway will never accept: the demo's poison job. */
export function isRevoked(device: string): boolean {
  return device.startsWith('revoked-');
}

/**
 * `push.notify` (seed 002: "and push to the phone"). I/O-like: a short wait on a pretend push
 * gateway, so it runs inline with many slots. About one photo in eight finds the gateway busy on
 * the first try (retried with backoff); a revoked token fails on every attempt and ends in `dead`,
 * kept for inspection.
 */
export default async function notify(
  job: LeasedJob<NotifyPayload>,
  ctx: JobContext,
): Promise<{ delivered: true; attempt: number }> {
  const { photoId, device } = job.payload;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, 5 + (fnv1a(job.id) % 20));
    ctx.signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(ctx.signal.reason);
    });
  });
  if (isRevoked(device)) throw new Error(`push gateway rejected device ${device}: token revoked`);
  if (job.attemptsMade === 1 && gatewayBusyOnFirstTry(photoId)) {
    throw new Error('push gateway answered 503 Service Unavailable');
  }
  return { delivered: true, attempt: job.attemptsMade };
}
