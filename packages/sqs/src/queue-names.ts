import { createHash } from 'node:crypto';
import { assertQueueName, ConfigError } from '@ilkkun/core';
import { levelTag, parseLevelTag } from './priority-levels.js';

/**
 * SQS queue names are 1–80 characters of `[A-Za-z0-9_-]`, FIFO ones ending in `.fifo`
 * (counted in the 80). ilkkun names are up to 200 characters and may hold `.` and `:`.
 *
 * Mapping: `<prefix>-<readable>-<hash>-<kind>[.fifo]`
 * - `readable`: the name with every other character turned into `_`, cut to fit — only for people
 *   reading the AWS console; it is not unique (`a.b`, `a:b` and `a_b` look the same).
 * - `hash`: 12 hex characters (48 bits) of SHA-256 over the full name: what makes the mapping
 *   collision-free in practice and deterministic (every process maps a name the same way).
 * - `kind`: a priority level (`p0`, `p7`, `n5`) or `dead`.
 * `-` appears only as a separator (the prefix and readable part never contain one), so the name
 * of any queue's SQS queues starts with `<prefix>-<readable>-<hash>-`, which no other queue shares,
 * and listing by that prefix finds exactly its levels.
 */
export const SQS_NAME_MAX = 80;
const HASH_LENGTH = 12;
const FIFO_SUFFIX = '.fifo';
/** longest kind: `dead` or a level tag such as `n999` */
const KIND_MAX = 4;
export const PREFIX_PATTERN = /^[A-Za-z0-9_]{1,20}$/;

export function assertPrefix(prefix: string): void {
  if (!PREFIX_PATTERN.test(prefix)) {
    throw new ConfigError(
      'sqs "prefix" must be 1–20 characters of [A-Za-z0-9_] (no "-": it separates name parts)',
    );
  }
}

function hashOf(queue: string): string {
  return createHash('sha256').update(queue, 'utf8').digest('hex').slice(0, HASH_LENGTH);
}

/** `<prefix>-<readable>-<hash>`: the part every SQS queue of one ilkkun queue shares. */
export function baseName(prefix: string, queue: string): string {
  assertQueueName(queue);
  // room is reserved for `.fifo` even on standard queues, so the mapping never depends on the mode
  const room = SQS_NAME_MAX - prefix.length - HASH_LENGTH - KIND_MAX - FIFO_SUFFIX.length - 3;
  const readable = queue.replace(/[^A-Za-z0-9_]/g, '_').slice(0, room);
  return `${prefix}-${readable}-${hashOf(queue)}`;
}

export function levelQueueName(base: string, level: number, fifo: boolean): string {
  return `${base}-${levelTag(level)}${fifo ? FIFO_SUFFIX : ''}`;
}

/** The dead queue is always a standard queue: dead jobs need no ordering or de-duplication. */
export function deadQueueName(base: string): string {
  return `${base}-dead`;
}

export type QueueKind = { kind: 'level'; level: number; fifo: boolean } | { kind: 'dead' };

/** What an SQS queue name of this prefix is: its base and kind, or undefined if it is not ours. */
export function parseSqsName(prefix: string, name: string): { base: string; kind: QueueKind } | undefined {
  if (!name.startsWith(`${prefix}-`)) return undefined;
  const fifo = name.endsWith(FIFO_SUFFIX);
  const bare = fifo ? name.slice(0, -FIFO_SUFFIX.length) : name;
  const cut = bare.lastIndexOf('-');
  if (cut <= prefix.length) return undefined;
  const base = bare.slice(0, cut);
  const tag = bare.slice(cut + 1);
  if (!/^[A-Za-z0-9_]+-[A-Za-z0-9_]*-[0-9a-f]{12}$/.test(base)) return undefined;
  if (tag === 'dead' && !fifo) return { base, kind: { kind: 'dead' } };
  const level = parseLevelTag(tag);
  return level === undefined ? undefined : { base, kind: { kind: 'level', level, fifo } };
}

/** The SQS queue name from its URL (`…/000000000000/name`). */
export function nameFromUrl(url: string): string {
  return url.slice(url.lastIndexOf('/') + 1);
}
