import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AddItem, Client } from '@ilkkun/core';

/** Seed 002's three background jobs (Qudo's MyApp::Worker::Image::Crop / ::Thumbnail / ::Notify). */
export const QUEUES = {
  crop: 'photo.crop',
  thumbnail: 'photo.thumbnail',
  notify: 'push.notify',
} as const;
export type DemoQueue = (typeof QUEUES)[keyof typeof QUEUES];
export const ALL_QUEUES: readonly DemoQueue[] = [QUEUES.crop, QUEUES.thumbnail, QUEUES.notify];

/** What a client sends to `POST /photos` (the photo itself is pretend: its size is enough). */
export interface UploadRequest {
  user: string;
  filename: string;
  width?: number;
  height?: number;
  /** push token of the uploader's phone; a `revoked-…` token makes the push job fail for good */
  device?: string;
}

export interface PhotoRecord {
  id: string;
  user: string;
  filename: string;
  width: number;
  height: number;
  device: string | undefined;
  uploadedAt: string;
  /** job id per queue */
  jobs: Record<DemoQueue, string>;
  /** filled in as the background jobs finish */
  done: Partial<Record<DemoQueue, 'completed' | 'dead'>>;
}

export interface ImageJobPayload {
  photoId: string;
  width: number;
  height: number;
}

export interface NotifyPayload {
  photoId: string;
  user: string;
  device: string;
  message: string;
}

export interface EnqueuedJob {
  id: string;
  queue: DemoQueue;
  photoId: string;
}

const MAX_BODY_BYTES = 64 * 1024;
const USER = /^[A-Za-z0-9_.@-]{1,64}$/;
const FILENAME = /^[^/\\\0]{1,200}\.(?:jpe?g|png|heic)$/i;
const DEVICE = /^[A-Za-z0-9_.:-]{1,200}$/;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Validate an upload; throws HttpError(400) naming the first bad field. Nothing is stored before this passes. */
export function validateUpload(body: unknown): Required<Omit<UploadRequest, 'device'>> & { device?: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(400, 'body must be a JSON object');
  }
  const b = body as Record<string, unknown>;
  for (const key of Object.keys(b)) {
    if (!['user', 'filename', 'width', 'height', 'device'].includes(key)) {
      throw new HttpError(400, `unknown field "${key}"`);
    }
  }
  if (typeof b['user'] !== 'string' || !USER.test(b['user'])) {
    throw new HttpError(400, 'user must be 1-64 characters of [A-Za-z0-9_.@-]');
  }
  if (typeof b['filename'] !== 'string' || !FILENAME.test(b['filename'])) {
    throw new HttpError(400, 'filename must end in .jpg, .jpeg, .png or .heic');
  }
  const dim = (name: 'width' | 'height', fallback: number): number => {
    const v = b[name];
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 16 || v > 2048) {
      throw new HttpError(400, `${name} must be an integer from 16 to 2048`);
    }
    return v;
  };
  const out: Required<Omit<UploadRequest, 'device'>> & { device?: string } = {
    user: b['user'],
    filename: b['filename'],
    width: dim('width', 640),
    height: dim('height', 480),
  };
  if (b['device'] !== undefined) {
    if (typeof b['device'] !== 'string' || !DEVICE.test(b['device'])) {
      throw new HttpError(400, 'device must be 1-200 characters of [A-Za-z0-9_.:-]');
    }
    out.device = b['device'];
  }
  return out;
}

/** Retries of the push job: 4 attempts, exponential backoff from 200 ms (jittered). */
export const NOTIFY_JOB_OPTIONS = {
  attempts: 4,
  backoff: { type: 'exponential', delayMs: 200, maxDelayMs: 2_000, jitter: 0.2 },
} as const;

/** The three jobs of one upload. The thumbnail jumps ahead of crops: users look at it first. */
export function photoJobs(
  photo: Pick<PhotoRecord, 'id' | 'user' | 'filename' | 'width' | 'height' | 'device'>,
): AddItem[] {
  const image: ImageJobPayload = { photoId: photo.id, width: photo.width, height: photo.height };
  const jobs: AddItem[] = [
    { queue: QUEUES.crop, payload: image },
    { queue: QUEUES.thumbnail, payload: image, priority: 10 },
  ];
  if (photo.device !== undefined) {
    const notify: NotifyPayload = {
      photoId: photo.id,
      user: photo.user,
      device: photo.device,
      message: `${photo.filename} is uploaded`,
    };
    jobs.push({ queue: QUEUES.notify, payload: notify, ...NOTIFY_JOB_OPTIONS });
  }
  return jobs;
}

export interface PhotoApp {
  readonly server: Server;
  readonly url: string;
  readonly photos: Map<string, PhotoRecord>;
  close(): Promise<void>;
}

export interface PhotoAppOptions {
  client: Client;
  /** told about every job the app enqueued (the demo checks each one's fate) */
  onEnqueued?: (jobs: readonly EnqueuedJob[]) => void;
}

/**
 * The seed 002 web app: `POST /photos` validates, stores a record (in memory), enqueues the
 * crop, thumbnail and push jobs in one `addMany` (one round trip, one transaction on SQLite)
 * and answers 201 at once; `GET /photos/:id` shows how far the background work got.
 * Listens on 127.0.0.1, on a free port.
 */
export async function startPhotoApp(options: PhotoAppOptions): Promise<PhotoApp> {
  const photos = new Map<string, PhotoRecord>();
  const server = createServer((req, res) => {
    handle(req, res, photos, options).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 500;
      const message = err instanceof HttpError ? err.message : 'internal error';
      if (status === 500) console.error('[demo app]', err);
      sendJson(res, status, { error: message });
    });
  });
  server.keepAliveTimeout = 2_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    photos,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  photos: Map<string, PhotoRecord>,
  options: PhotoAppOptions,
): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
  if (path === '/photos') {
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      throw new HttpError(405, 'use POST');
    }
    const type = req.headers['content-type'] ?? '';
    if (!/^application\/json\b/i.test(type)) throw new HttpError(415, 'send application/json');
    const upload = validateUpload(await readJson(req));
    const id = randomUUID();
    const record: Omit<PhotoRecord, 'jobs'> = {
      id,
      ...upload,
      device: upload.device,
      uploadedAt: new Date().toISOString(),
      done: {},
    };
    const added = await options.client.addMany(photoJobs(record));
    const jobs = Object.fromEntries(added.map((a) => [a.queue, a.id])) as Record<DemoQueue, string>;
    photos.set(id, { ...record, jobs });
    options.onEnqueued?.(added.map((a) => ({ id: a.id, queue: a.queue as DemoQueue, photoId: id })));
    res.setHeader('location', `/photos/${id}`);
    sendJson(res, 201, { id, jobs });
    return;
  }
  const match = /^\/photos\/([0-9a-f-]{36})$/.exec(path);
  if (match) {
    if (req.method !== 'GET') {
      res.setHeader('allow', 'GET');
      throw new HttpError(405, 'use GET');
    }
    const photo = photos.get(match[1]!);
    if (!photo) throw new HttpError(404, 'no such photo');
    sendJson(res, 200, photo);
    return;
  }
  throw new HttpError(404, 'not found: try POST /photos');
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'body is not valid JSON');
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

const SIZES: readonly [number, number][] = [
  [640, 480],
  [480, 640],
  [800, 600],
  [600, 600],
];

/** Upload number i of the load: a few users, a few photo sizes, now and then a revoked push token. */
export function uploadFor(i: number, poisonEvery = 50): UploadRequest {
  const [width, height] = SIZES[i % SIZES.length]!;
  const poison = poisonEvery > 0 && i % poisonEvery === Math.floor(poisonEvery / 3);
  return {
    user: `user${i % 37}`,
    filename: `IMG_${String(1000 + i)}.jpg`,
    width,
    height,
    device: poison ? `revoked-${i}` : `phone-${i % 37}`,
  };
}
