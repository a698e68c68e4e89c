import { randomBytes } from 'node:crypto';
import amqp from 'amqplib';
import { type AmqpBackend, type AmqpBackendOptions, openAmqpBackend } from '../src/index.js';

/** The shared RabbitMQ the tests use. */
export const AMQP_URL = process.env['ILKKUN_AMQP_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672';

/** A prefix no other run uses, so runs never see each other's queues. */
export function testPrefix(label = 'test'): string {
  return `t-${label}-${randomBytes(4).toString('hex')}`;
}

export function withParams(url: string, params: Record<string, string | number>): string {
  const u = new URL(url);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, String(v));
  return u.toString();
}

const opened: AmqpBackend[] = [];

/** Open a backend and remember it, so `deleteTestQueues` can remove every queue it declared. */
export async function openTracked(url: string, options?: AmqpBackendOptions): Promise<AmqpBackend> {
  const backend = await openAmqpBackend(url, options);
  opened.push(backend);
  return backend;
}

/** A plain amqplib connection (query parameters dropped: they are ilkkun's). */
export async function rawConnection(url = AMQP_URL): Promise<amqp.ChannelModel> {
  const u = new URL(url);
  u.search = '';
  const conn = await amqp.connect(u.toString());
  conn.on('error', () => undefined);
  return conn;
}

/** Delete these broker queues (only ever ones a test created). */
export async function deleteQueues(names: Iterable<string>, url = AMQP_URL): Promise<void> {
  const conn = await rawConnection(url);
  try {
    const ch = await conn.createChannel();
    ch.on('error', () => undefined);
    for (const name of names) await ch.deleteQueue(name);
  } finally {
    await conn.close().catch(() => undefined);
  }
}

/** Close every tracked backend and delete every queue they declared. */
export async function deleteTestQueues(): Promise<void> {
  const names = new Set<string>();
  for (const backend of opened.splice(0)) {
    await backend.close().catch(() => undefined);
    for (const name of backend.declaredQueues()) names.add(name);
  }
  await deleteQueues(names);
}

export { eventually } from '@ilkkun/conformance';

export const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
