import { ConfigError } from '@ilkkun/core';
import type { Redis } from 'ioredis';
import { classifyError } from './classify-error.js';
import type { EvictionPolicyMode } from './options.js';

/** ZMSCORE (batched ack) and fractional BLPOP timeouts need Redis 6.2. */
const MIN_VERSION = [6, 2, 0] as const;

export const EVICTION_WARNING_CODE = 'ILKKUN_REDIS_EVICTION';

export interface PreflightReport {
  version: string;
  /** undefined when neither INFO nor CONFIG GET would tell (locked-down managed Redis) */
  maxmemoryPolicy: string | undefined;
  aofEnabled: boolean | undefined;
}

export type Warn = (message: string, code: string) => void;

const emitWarning: Warn = (message, code) => process.emitWarning(message, { code });

/** `key:value` lines of an INFO section. */
function parseInfo(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) out.set(line.slice(0, at), line.slice(at + 1).trim());
  }
  return out;
}

function versionAtLeast(version: string, min: readonly number[]): boolean {
  const parts = version.split('.').map((p) => Number.parseInt(p, 10) || 0);
  for (let i = 0; i < min.length; i++) {
    const a = parts[i] ?? 0;
    const b = min[i] ?? 0;
    if (a !== b) return a > b;
  }
  return true;
}

/**
 * Only `allkeys-*` policies can evict ilkkun's keys: the `volatile-*` ones evict keys that have a
 * TTL, and ilkkun never sets one, so under them a full Redis refuses writes (OOM, retryable)
 * exactly as under `noeviction`. `noeviction` is still the recommendation.
 */
export function canEvictJobs(policy: string): boolean {
  return policy.toLowerCase().startsWith('allkeys-');
}

/**
 * Checks at connect. A Redis that may evict keys silently loses jobs (BullMQ users have hit
 * this), so by default such a server is refused with a `ConfigError`; `evictionPolicy=warn`
 * starts anyway with a process warning. Managed services often disable CONFIG, so the policy is
 * read from INFO first; when neither tells, a warning says it could not be verified.
 */
export async function preflight(
  conn: Redis,
  mode: EvictionPolicyMode,
  where: string,
  warn: Warn = emitWarning,
): Promise<PreflightReport> {
  // Each INFO section on its own: an ACL may allow some and not others. A connection that may
  // not run INFO at all still works; what could not be checked is reported below.
  const sections: string[] = [];
  for (const section of ['server', 'memory', 'persistence']) {
    try {
      sections.push(await conn.info(section));
    } catch (err) {
      const classified = classifyError(err, 'INFO', where);
      if (!(classified instanceof ConfigError)) throw classified;
    }
  }
  const info = parseInfo(sections.join('\n'));
  const version = info.get('redis_version') ?? 'unknown';
  if (version !== 'unknown' && !versionAtLeast(version, MIN_VERSION)) {
    throw new ConfigError(
      `redis at ${where} is version ${version}; ilkkun needs Redis ${MIN_VERSION.join('.')} or newer`,
    );
  }
  let policy = info.get('maxmemory_policy');
  if (policy === undefined) {
    try {
      const reply = (await conn.config('GET', 'maxmemory-policy')) as unknown;
      if (Array.isArray(reply) && typeof reply[1] === 'string') policy = reply[1];
    } catch {
      // CONFIG is often renamed or forbidden on managed Redis; reported below as unverified
    }
  }
  const aof = info.get('aof_enabled');
  const report: PreflightReport = {
    version,
    maxmemoryPolicy: policy,
    aofEnabled: aof === undefined ? undefined : aof === '1',
  };
  if (policy === undefined) {
    warn(
      `ilkkun could not read maxmemory-policy of redis at ${where} (INFO and CONFIG GET refused); ` +
        'make sure it is noeviction: a Redis that evicts keys silently loses jobs',
      EVICTION_WARNING_CODE,
    );
  } else if (canEvictJobs(policy)) {
    const message =
      `redis at ${where} has maxmemory-policy ${policy}: when memory runs out it evicts keys, ` +
      'and an evicted job is lost without a trace. Set it to noeviction ' +
      '(CONFIG SET maxmemory-policy noeviction, and in redis.conf), ' +
      'or accept the risk with evictionPolicy=warn';
    if (mode === 'refuse') throw new ConfigError(message);
    warn(`ilkkun: ${message}`, EVICTION_WARNING_CODE);
  }
  return report;
}
