import type { SQSClientConfig } from '@aws-sdk/client-sqs';
import { ConfigError, forEachOption, optionReaders } from '@ilkkun/core';
import { SQS_MAX_DELAY_SECONDS } from './long-delay.js';
import { DEFAULT_PRIORITY_RANGE, type PriorityRange, parsePriorityRange } from './priority-levels.js';
import { assertPrefix } from './queue-names.js';

const read = optionReaders('sqs');

/** Credentials from code: an identity or a provider, as the SQS client takes them. */
export type Credentials = NonNullable<SQSClientConfig['credentials']>;

/** Which FIFO message group a job goes to (FIFO mode only). */
export type FifoGroupMode = 'job' | 'queue';

export interface SqsBackendOptions {
  /** AWS region (else AWS_REGION / AWS_DEFAULT_REGION) */
  region?: string;
  /** first part of every SQS queue name (default `ilkkun`): 1–20 of [A-Za-z0-9_] */
  prefix?: string;
  /** priority range with a level (an SQS queue) each, e.g. `-10..10` (default); outside it priorities clamp */
  priorities?: string;
  /** use FIFO queues (`.fifo`): ordered message groups, `uniqueKey` → deduplication id */
  fifo?: boolean;
  /** FIFO: `job` (default) = a group per job (parallel), `queue` = one group per level (strict order, one job at a time) */
  fifoGroup?: FifoGroupMode;
  /** AWS shared-config profile for credentials (else the default chain: env, SSO, profile, instance role) */
  profile?: string;
  /** longest single long poll in seconds, 1–20 (default 20) */
  longPollSeconds?: number;
  /** SQS message size ceiling the queues are created with (default 262144; AWS allows up to 1048576) */
  maxMessageBytes?: number;
  /** longest per-message delay (default 900, SQS's limit); later jobs hop. Lower only to test hops. */
  maxDelaySeconds?: number;
  /** SQS retention period of the queues in seconds (default 1209600 = 14 days, SQS's maximum) */
  retentionSeconds?: number;
  /** lease-fence margin for request transit, ms (default 1000; see lease-table.ts) */
  leaseGuardMs?: number;
  /** how long a discovered list of a queue's priority levels is trusted, ms (default 5000) */
  levelRefreshMs?: number;
  /**
   * escape characters above U+FFFF (emoji) in message bodies as JSON \u pairs (default true):
   * fauxqs 1.x rejects them raw; AWS accepts them, so `false` saves bytes there
   */
  escapeAstral?: boolean;
  /** receive-ahead: hold surplus messages this long for the next pop, ms (default 1000; 0 = off) */
  prefetchMs?: number;
  /** credentials from code (tests, custom providers); the default is the AWS chain */
  credentials?: Credentials;
}

export interface ResolvedSqsOptions {
  region: string;
  prefix: string;
  priorities: PriorityRange;
  fifo: boolean;
  fifoGroup: FifoGroupMode;
  profile?: string;
  longPollSeconds: number;
  maxMessageBytes: number;
  maxDelaySeconds: number;
  retentionSeconds: number;
  leaseGuardMs: number;
  levelRefreshMs: number;
  escapeAstral: boolean;
  prefetchMs: number;
  credentials?: Credentials;
}

const URL_KEYS = [
  'region',
  'prefix',
  'priorities',
  'fifo',
  'fifoGroup',
  'profile',
  'longPollSeconds',
  'maxMessageBytes',
  'maxDelaySeconds',
  'retentionSeconds',
  'leaseGuardMs',
  'levelRefreshMs',
  'escapeAstral',
  'prefetchMs',
] as const;
type UrlKey = (typeof URL_KEYS)[number];
const isUrlKey = (key: string): key is UrlKey => (URL_KEYS as readonly string[]).includes(key);

const REGION_PATTERN = /^[a-z]{2}(-[a-z0-9]+){1,4}$/;
const PROFILE_PATTERN = /^[A-Za-z0-9_.@+=,-]{1,64}$/;

/**
 * Merge options from the URL query (strings) and from code (typed values); code wins. Anything
 * unknown is a `ConfigError`, so a typo such as `?regoin=` never passes silently.
 */
export function resolveOptions(
  fromUrl: Readonly<Record<string, string>> = {},
  fromCode: Readonly<Record<string, unknown>> = {},
  env: NodeJS.ProcessEnv = process.env,
): ResolvedSqsOptions {
  let region: string | undefined;
  const out: Omit<ResolvedSqsOptions, 'region'> = {
    prefix: 'ilkkun',
    priorities: DEFAULT_PRIORITY_RANGE,
    fifo: false,
    fifoGroup: 'job',
    longPollSeconds: 20,
    maxMessageBytes: 262_144,
    maxDelaySeconds: SQS_MAX_DELAY_SECONDS,
    retentionSeconds: 1_209_600,
    leaseGuardMs: 1000,
    levelRefreshMs: 5000,
    escapeAstral: true,
    prefetchMs: 1000,
  };
  forEachOption(fromUrl, fromCode, (source, key, value) => {
    if (key === 'credentials' && source === 'option') {
      if ((typeof value !== 'object' && typeof value !== 'function') || value === null) {
        throw new ConfigError(
          'sqs option "credentials" must be { accessKeyId, secretAccessKey } or a provider function',
        );
      }
      out.credentials = value as Credentials;
      return;
    }
    if (!isUrlKey(key)) {
      const known = source === 'option' ? [...URL_KEYS, 'credentials'] : [...URL_KEYS, 'tls'];
      throw read.unknown(source, key, known);
    }
    switch (key) {
      case 'region':
        if (typeof value !== 'string' || !REGION_PATTERN.test(value)) {
          throw new ConfigError(`sqs ${source} "region" must look like us-east-1`);
        }
        region = value;
        break;
      case 'prefix':
        if (typeof value !== 'string') throw new ConfigError(`sqs ${source} "prefix" must be a string`);
        assertPrefix(value);
        out.prefix = value;
        break;
      case 'priorities':
        if (typeof value !== 'string')
          throw new ConfigError(`sqs ${source} "priorities" must be a range like -10..10`);
        out.priorities = parsePriorityRange(value);
        break;
      case 'fifo':
        out.fifo = read.boolean(source, key, value);
        break;
      case 'escapeAstral':
        out.escapeAstral = read.boolean(source, key, value);
        break;
      case 'fifoGroup':
        out.fifoGroup = read.oneOf(source, key, value, ['job', 'queue'] as const);
        break;
      case 'profile':
        if (typeof value !== 'string' || !PROFILE_PATTERN.test(value)) {
          throw new ConfigError(`sqs ${source} "profile" must be a profile name`);
        }
        out.profile = value;
        break;
      case 'longPollSeconds':
        out.longPollSeconds = read.integer(source, key, value, 1, 20);
        break;
      case 'maxMessageBytes':
        out.maxMessageBytes = read.integer(source, key, value, 16_384, 1_048_576);
        break;
      case 'maxDelaySeconds':
        out.maxDelaySeconds = read.integer(source, key, value, 1, SQS_MAX_DELAY_SECONDS);
        break;
      case 'retentionSeconds':
        out.retentionSeconds = read.integer(source, key, value, 60, 1_209_600);
        break;
      case 'leaseGuardMs':
        out.leaseGuardMs = read.integer(source, key, value, 0, 60_000);
        break;
      case 'prefetchMs':
        out.prefetchMs = read.integer(source, key, value, 0, 60_000);
        break;
      case 'levelRefreshMs':
        out.levelRefreshMs = read.integer(source, key, value, 0, 3_600_000);
        break;
    }
  });
  region ??= env['AWS_REGION'] || env['AWS_DEFAULT_REGION'] || undefined;
  if (!region) {
    throw new ConfigError('sqs needs a region: add ?region=us-east-1 to the URL or set AWS_REGION');
  }
  if (!REGION_PATTERN.test(region))
    throw new ConfigError('sqs region (from AWS_REGION) must look like us-east-1');
  return { ...out, region };
}
