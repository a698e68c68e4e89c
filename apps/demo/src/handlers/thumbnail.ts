import type { LeasedJob } from '@ilkkun/core';
import type { ImageJobPayload } from '../photos.js';
import { checksum, fnv1a, generatePhoto, thumbnail } from '../pixels.js';

/** `photo.thumbnail`: a 160-pixel thumbnail by area averaging. CPU-bound, in a child process. */
export default function makeThumbnail(job: LeasedJob<ImageJobPayload>): {
  photoId: string;
  width: number;
  height: number;
  checksum: number;
  pid: number;
} {
  const { photoId, width, height } = job.payload;
  const photo = generatePhoto(fnv1a(photoId), width, height);
  const thumb = thumbnail(photo, 160);
  return {
    photoId,
    width: thumb.width,
    height: thumb.height,
    checksum: checksum(thumb.data),
    pid: process.pid,
  };
}
