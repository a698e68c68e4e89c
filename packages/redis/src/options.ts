import { ConfigError, forEachOption, optionReaders } from '@ilkkun/core';
import type { RedisOptions } from 'ioredis';

const read = optionReaders('redis');

/**
 * What to do when Redis may evict keys (`maxmemory-policy` allkeys-*): evicted job keys are jobs
 * silently lost, so by default the backend refuses to start. `warn` starts anyway with a
 * process warning (code `ILKKUN_REDIS_EVICTION`).
 */
export type EvictionPolicyMode = 'refuse' | 'warn';

export interface RedisBackendOptions {
  /** first part of every key (default `ilkkun`); several apps can share one Redis with different prefixes */
  prefix?: string;
  /** default `refuse`; see `EvictionPolicyMode` */
  evictionPolicy?: EvictionPolicyMode;
  /** completed jobs kept per queue for inspection (default 0: an acked job is deleted) */
  keepCompleted?: number;
  /** also drop kept completed jobs older than this (ms; default 0 = no age limit; needs keepCompleted > 0) */
  keepCompletedMs?: number;
  /** dead jobs kept per queue, oldest dropped first (default 100 000) */
  keepDead?: number;
  /** also drop dead jobs older than this (ms; default 0 = no age limit) */
  keepDeadMs?: number;
  /** how long connecting may take before `BackendUnavailableError` (default 5000) */
  connectTimeoutMs?: number;
  /**
   * Extra ioredis options (TLS details, sentinels, …), code only. The settings the backend relies
   * on (lazy connect, offline queue, retry policy, protocol) are applied over these.
   */
  ioredis?: RedisOptions;
}

export interface ResolvedRedisOptions {
  prefix: string;
  evictionPolicy: EvictionPolicyMode;
  keepCompleted: number;
  keepCompletedMs: number;
  keepDead: number;
  keepDeadMs: number;
  connectTimeoutMs: number;
  ioredis: RedisOptions;
}

export const DEFAULT_OPTIONS: ResolvedRedisOptions = {
  prefix: 'ilkkun',
  evictionPolicy: 'refuse',
  keepCompleted: 0,
  keepCompletedMs: 0,
  keepDead: 100_000,
  keepDeadMs: 0,
  connectTimeoutMs: 5000,
  ioredis: {},
};

const URL_KEYS = [
  'prefix',
  'evictionPolicy',
  'keepCompleted',
  'keepCompletedMs',
  'keepDead',
  'keepDeadMs',
  'connectTimeoutMs',
] as const;
type UrlKey = (typeof URL_KEYS)[number];
const isUrlKey = (key: string): key is UrlKey => (URL_KEYS as readonly string[]).includes(key);

/** Prefix alphabet: no braces (hash tags), no glob characters (SCAN patterns), no spaces. */
const PREFIX_PATTERN = /^[A-Za-z0-9_.:-]{1,100}$/;
const MAX_COUNT = 1_000_000_000;
const MAX_AGE_MS = 100 * 365 * 86_400_000;

/**
 * Merge options from the URL query (strings) and from code (typed values); code wins.
 * Anything unknown is a `ConfigError`, so a typo such as `?prefx=app` never passes silently.
 */
export function resolveOptions(
  fromUrl: Readonly<Record<string, string>> = {},
  fromCode: Readonly<Record<string, unknown>> = {},
): ResolvedRedisOptions {
  const out: ResolvedRedisOptions = { ...DEFAULT_OPTIONS };
  forEachOption(fromUrl, fromCode, (source, key, value) => {
    if (key === 'ioredis' && source === 'option') {
      if (typeof value !== 'object' || value === null)
        throw new ConfigError('redis option "ioredis" must be an object');
      out.ioredis = value as RedisOptions;
      return;
    }
    if (!isUrlKey(key)) {
      const known = source === 'option' ? [...URL_KEYS, 'ioredis'] : URL_KEYS;
      throw read.unknown(source, key, known);
    }
    switch (key) {
      case 'prefix':
        if (typeof value !== 'string' || !PREFIX_PATTERN.test(value)) {
          throw new ConfigError(`redis ${source} "prefix" must be 1–100 characters of [A-Za-z0-9_.:-]`);
        }
        out.prefix = value;
        break;
      case 'evictionPolicy':
        out.evictionPolicy = read.oneOf(source, key, value, ['refuse', 'warn'] as const);
        break;
      case 'keepCompleted':
      case 'keepDead':
        out[key] = read.integer(source, key, value, 0, MAX_COUNT);
        break;
      case 'keepCompletedMs':
      case 'keepDeadMs':
        out[key] = read.integer(source, key, value, 0, MAX_AGE_MS);
        break;
      case 'connectTimeoutMs':
        out.connectTimeoutMs = read.integer(source, key, value, 1, 600_000);
        break;
    }
  });
  if (out.keepCompletedMs > 0 && out.keepCompleted === 0) {
    throw new ConfigError(
      'redis option "keepCompletedMs" needs "keepCompleted" > 0 (completed jobs are not kept otherwise)',
    );
  }
  return out;
}
