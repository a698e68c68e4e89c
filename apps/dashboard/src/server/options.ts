import type { Backend, OpenBackendOptions } from '@ilkkun/core';
import { ConfigError, redactUrl } from '@ilkkun/core';
import { isLoopbackHost } from './loopback.js';

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 8040;
export const DEFAULT_SAMPLE_INTERVAL_MS = 2_000;
/** 300 samples at 2 s: the charts show the last 10 minutes */
export const DEFAULT_HISTORY_SIZE = 300;
export const DEFAULT_MAX_QUEUES = 500;
/** a token is a secret typed or pasted by a person: long enough not to guess, plain enough for a header */
const TOKEN_PATTERN = /^[\x21-\x7e]{8,512}$/;

export interface DashboardOptions {
  /** a backend URL (opened and closed by the dashboard) or a Backend you opened (you close it) */
  backend: string | Backend;
  /** default 8040; 0 picks a free port */
  port?: number;
  /** default 127.0.0.1; anything not loopback needs `allowRemote` */
  host?: string;
  allowRemote?: boolean;
  /** when set, write actions need `Authorization: Bearer <token>` */
  token?: string;
  /** refuse every write action (403) and hide them in the page */
  readOnly?: boolean;
  /** runner status servers (`http://127.0.0.1:9090`) whose scoreboards to show */
  pools?: readonly string[];
  /** let `pools` name hosts other than loopback */
  allowRemotePools?: boolean;
  /** how often counts and pools are sampled for the charts and live updates (default 2000 ms) */
  sampleIntervalMs?: number;
  /** samples kept for the charts (default 300) */
  historySize?: number;
  /** queues sampled per tick at most (default 500) */
  maxQueues?: number;
  /** how a backend URL's package is loaded (the CLI passes its own importer) */
  importer?: OpenBackendOptions['importer'];
  /** where the dashboard reports problems (default: nowhere); lines never hold credentials */
  log?: (line: string) => void;
}

export interface PoolTarget {
  id: string;
  /** the base URL, without a trailing `/status` */
  base: string;
  /** what the page shows: credentials redacted */
  display: string;
}

export interface ResolvedOptions {
  port: number;
  host: string;
  allowRemote: boolean;
  token: string | undefined;
  readOnly: boolean;
  pools: PoolTarget[];
  sampleIntervalMs: number;
  historySize: number;
  maxQueues: number;
  log: (line: string) => void;
}

function integerIn(
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max}, not ${String(value)}`);
  }
  return value;
}

/** A runner status URL: http(s), loopback unless allowed, normalised to its base. */
export function resolvePool(raw: string, index: number, allowRemote: boolean): PoolTarget {
  const shown = JSON.stringify(redactUrl(raw));
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`pool ${shown} is not a URL; expected e.g. http://127.0.0.1:9090`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`pool ${shown} must be an http:// or https:// URL`);
  }
  if (!allowRemote && !isLoopbackHost(url.hostname)) {
    throw new ConfigError(
      `pool ${shown} is not on this machine; only loopback pools are fetched unless remote pools are explicitly allowed (--allow-remote-pools)`,
    );
  }
  if (url.username || url.password) {
    throw new ConfigError(
      `pool ${shown}: a runner's status server takes no credentials; drop the user:password@ part`,
    );
  }
  url.search = '';
  url.hash = '';
  // `/status` is what people copy from the runner's log line; the other routes hang off the base
  url.pathname = url.pathname.replace(/\/status\/?$/, '').replace(/\/+$/, '');
  const base = url.href.replace(/\/+$/, '');
  return { id: String(index), base, display: redactUrl(base) };
}

export function resolveOptions(options: DashboardOptions): ResolvedOptions {
  const host = options.host ?? DEFAULT_HOST;
  const allowRemote = options.allowRemote ?? false;
  const readOnly = options.readOnly ?? false;
  if (!allowRemote && !isLoopbackHost(host)) {
    throw new ConfigError(
      `refusing to listen on ${host}: the dashboard shows job payloads and can delete jobs, so it binds to loopback (127.0.0.1) unless remote access is explicitly allowed (--allow-remote)`,
    );
  }
  const token = options.token === '' ? undefined : options.token;
  if (token !== undefined && !TOKEN_PATTERN.test(token)) {
    throw new ConfigError('the token must be 8–512 printable characters without spaces');
  }
  if (allowRemote && !isLoopbackHost(host) && !readOnly && token === undefined) {
    throw new ConfigError(
      `listening on ${host} lets other machines reach the dashboard: give a token for write actions (--token) or run it read-only (--read-only)`,
    );
  }
  const allowRemotePools = options.allowRemotePools ?? false;
  return {
    port: integerIn('port', options.port, DEFAULT_PORT, 0, 65_535),
    host,
    allowRemote,
    token,
    readOnly,
    pools: (options.pools ?? []).map((p, i) => resolvePool(p, i, allowRemotePools)),
    sampleIntervalMs: integerIn(
      'sampleIntervalMs',
      options.sampleIntervalMs,
      DEFAULT_SAMPLE_INTERVAL_MS,
      50,
      600_000,
    ),
    historySize: integerIn('historySize', options.historySize, DEFAULT_HISTORY_SIZE, 2, 100_000),
    maxQueues: integerIn('maxQueues', options.maxQueues, DEFAULT_MAX_QUEUES, 1, 100_000),
    log: options.log ?? (() => {}),
  };
}
