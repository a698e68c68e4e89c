/**
 * Real (small) pixel work for the demo's CPU-bound jobs: no image library, just arithmetic on a
 * generated RGB buffer, a few milliseconds per job. Deterministic: the same photo id always
 * yields the same pixels and the same checksums.
 */

export interface Rgb {
  width: number;
  height: number;
  /** RGB, 3 bytes per pixel, row-major */
  data: Uint8Array;
}

/** 32-bit FNV-1a of a string: a seed from a photo id. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A "photo": smooth gradients plus xorshift noise, so filters have something to chew on. */
export function generatePhoto(seed: number, width: number, height: number): Rgb {
  const data = new Uint8Array(width * height * 3);
  let x32 = seed || 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      x32 ^= x32 << 13;
      x32 ^= x32 >>> 17;
      x32 ^= x32 << 5;
      const noise = x32 & 31;
      const i = (y * width + x) * 3;
      data[i] = ((x * 255) / width + noise) & 255;
      data[i + 1] = ((y * 255) / height + noise) & 255;
      data[i + 2] = (((x + y) * 127) / (width + height) + (seed & 127) + noise) & 255;
    }
  }
  return { width, height, data };
}

/** Adler-32 of a buffer (zlib's, with its 5552-byte blocks): proof the work was done, cheap to compare. */
export function checksum(data: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (let start = 0; start < data.length; start += 5552) {
    const end = Math.min(data.length, start + 5552);
    for (let i = start; i < end; i++) {
      a += data[i]!;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/**
 * Seed 002's "crop around the centre": the largest centred square, then a 3×3 sharpen of its
 * interior (the one-pixel border is kept as cropped).
 */
export function centreCropSharpen(photo: Rgb): Rgb {
  const side = Math.min(photo.width, photo.height);
  const x0 = (photo.width - side) >> 1;
  const y0 = (photo.height - side) >> 1;
  const row = side * 3;
  const crop = new Uint8Array(side * row);
  for (let y = 0; y < side; y++) {
    const from = ((y0 + y) * photo.width + x0) * 3;
    crop.set(photo.data.subarray(from, from + row), y * row);
  }
  const out = new Uint8Array(crop);
  for (let y = 1; y < side - 1; y++) {
    const base = y * row;
    for (let i = base + 3; i < base + row - 3; i++) {
      const v = 5 * crop[i]! - crop[i - 3]! - crop[i + 3]! - crop[i - row]! - crop[i + row]!;
      out[i] = v < 0 ? 0 : Math.min(v, 255);
    }
  }
  return { width: side, height: side, data: out };
}

/** A thumbnail at most `max` pixels on its longer side, by area averaging (box filter). */
export function thumbnail(photo: Rgb, max: number): Rgb {
  const scale = Math.max(photo.width, photo.height) / max;
  const width = Math.max(1, Math.round(photo.width / Math.max(1, scale)));
  const height = Math.max(1, Math.round(photo.height / Math.max(1, scale)));
  const out = new Uint8Array(width * height * 3);
  for (let ty = 0; ty < height; ty++) {
    const sy0 = Math.floor((ty * photo.height) / height);
    const sy1 = Math.max(sy0 + 1, Math.floor(((ty + 1) * photo.height) / height));
    for (let tx = 0; tx < width; tx++) {
      const sx0 = Math.floor((tx * photo.width) / width);
      const sx1 = Math.max(sx0 + 1, Math.floor(((tx + 1) * photo.width) / width));
      let r = 0;
      let g = 0;
      let b = 0;
      for (let y = sy0; y < sy1; y++) {
        let i = (y * photo.width + sx0) * 3;
        for (let x = sx0; x < sx1; x++, i += 3) {
          r += photo.data[i]!;
          g += photo.data[i + 1]!;
          b += photo.data[i + 2]!;
        }
      }
      const n = (sy1 - sy0) * (sx1 - sx0);
      const o = (ty * width + tx) * 3;
      out[o] = r / n;
      out[o + 1] = g / n;
      out[o + 2] = b / n;
    }
  }
  return { width, height, data: out };
}
