import { ConfigError } from '@ilkkun/core';

/**
 * SQS has no message priority, so each level gets an SQS queue of its own and a pop drains the
 * highest level first. Levels are created lazily (only levels that were pushed to cost receives),
 * so a generous default range is cheap: priorities inside `min..max` are exact, priorities outside
 * are clamped to the nearest end (ties then go by arrival order).
 */
export interface PriorityRange {
  min: number;
  max: number;
}

/** The default: -10..10, exact for the small priorities most apps use. */
export const DEFAULT_PRIORITY_RANGE: PriorityRange = { min: -10, max: 10 };

/** Levels are written into queue names as `p7` / `n5`: at most 4 characters. */
export const LEVEL_LIMIT = 999;

const RANGE_PATTERN = /^(-?\d{1,3})\.\.(-?\d{1,3})$/;

/** `"-10..10"` → `{ min: -10, max: 10 }`; `"0"` → a single level (priorities not honoured). */
export function parsePriorityRange(text: string): PriorityRange {
  const single = /^-?\d{1,3}$/.test(text) ? Number(text) : undefined;
  const match = RANGE_PATTERN.exec(text);
  const min = single ?? (match ? Number(match[1]) : Number.NaN);
  const max = single ?? (match ? Number(match[2]) : Number.NaN);
  if (
    !Number.isInteger(min) ||
    !Number.isInteger(max) ||
    min > max ||
    min < -LEVEL_LIMIT ||
    max > LEVEL_LIMIT
  ) {
    throw new ConfigError(
      `sqs "priorities" must be a range like -10..10 (or one integer) within -${LEVEL_LIMIT}..${LEVEL_LIMIT}, got ${JSON.stringify(text)}`,
    );
  }
  return { min, max };
}

/** The level (and so the SQS queue) a job of this priority goes to. */
export function levelOf(priority: number, range: PriorityRange): number {
  return Math.min(range.max, Math.max(range.min, Math.trunc(priority)));
}

/** The level the default priority 0 maps to: its queue is created by a pop so long polls have a target. */
export function defaultLevel(range: PriorityRange): number {
  return levelOf(0, range);
}

/** `7` → `p7`, `-5` → `n5`: queue names allow no `+`, and `-` is our separator. */
export function levelTag(level: number): string {
  return level < 0 ? `n${-level}` : `p${level}`;
}

/** Inverse of `levelTag`; undefined for anything else (the dead queue, foreign queues). */
export function parseLevelTag(tag: string): number | undefined {
  const match = /^([pn])(\d{1,3})$/.exec(tag);
  if (!match) return undefined;
  const n = Number(match[2]);
  return match[1] === 'n' ? -n : n;
}
