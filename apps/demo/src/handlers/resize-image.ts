import type { LeasedJob } from '@ilkkun/core';

export interface ImagePayload {
  photo: string;
  width: number;
  height: number;
}

/**
 * "resize image": CPU-bound (a box blur and a 2x downscale of a synthetic greyscale image), so it
 * runs in child processes: it never yields, yet its lease stays alive because the runner — not
 * this child — heartbeats.
 */
export default function resizeImage(job: LeasedJob<ImagePayload>): {
  photo: string;
  width: number;
  height: number;
  checksum: number;
} {
  const { width, height } = job.payload;
  const src = new Uint8Array(width * height);
  for (let i = 0; i < src.length; i++) src[i] = (i * 2654435761) >>> 24;
  const blurred = new Uint8Array(src.length);
  for (let pass = 0; pass < 3; pass++) {
    for (let y = 1; y < height - 1; y++) {
      for (let x = 1; x < width - 1; x++) {
        let sum = 0;
        for (let dy = -1; dy <= 1; dy++)
          for (let dx = -1; dx <= 1; dx++) sum += src[(y + dy) * width + x + dx]!;
        blurred[y * width + x] = sum / 9;
      }
    }
    src.set(blurred);
  }
  const w = width >> 1;
  const h = height >> 1;
  let checksum = 0;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) checksum = (checksum + src[2 * y * width + 2 * x]!) | 0;
  return { photo: job.payload.photo, width: w, height: h, checksum };
}
