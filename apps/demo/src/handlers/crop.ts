import type { LeasedJob } from '@ilkkun/core';
import type { ImageJobPayload } from '../photos.js';
import { centreCropSharpen, checksum, fnv1a, generatePhoto } from '../pixels.js';

/**
 * `photo.crop` (seed 002: "crop a part around the centre and keep it"). CPU-bound, so it runs in
 * a child process (`mode: 'process'`): it never yields, yet its lease stays alive, because the
 * runner — not this child — heartbeats.
 */
export default function crop(job: LeasedJob<ImageJobPayload>): {
  photoId: string;
  side: number;
  checksum: number;
  pid: number;
} {
  const { photoId, width, height } = job.payload;
  const photo = generatePhoto(fnv1a(photoId), width, height);
  const cropped = centreCropSharpen(photo);
  return { photoId, side: cropped.width, checksum: checksum(cropped.data), pid: process.pid };
}
