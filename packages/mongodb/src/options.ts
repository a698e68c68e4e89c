import { ConfigError, forEachOption, optionReaders, redactUrl } from '@ilkkun/core';

const read = optionReaders('mongodb');

export interface MongoBackendOptions {
  /** collection name prefix: `<prefix>_jobs`, `<prefix>_fence`, `<prefix>_keys` (default `ilkkun`) */
  prefix?: string;
  /** idle poll ceiling of a waiting pop, ms (default 35); bounds cross-process pickup latency */
  pollMaxMs?: number;
  /** first poll interval after activity, ms (default 5) */
  pollMinMs?: number;
  /** delete dead jobs older than this, ms (default 0: keep them until deleted or retried) */
  keepDeadMs?: number;
}

export interface ResolvedMongoOptions {
  prefix: string;
  pollMaxMs: number;
  pollMinMs: number;
  keepDeadMs: number;
}

export const DEFAULT_OPTIONS: ResolvedMongoOptions = {
  prefix: 'ilkkun',
  pollMaxMs: 35,
  pollMinMs: 5,
  keepDeadMs: 0,
};

/** ilkkun's own URL parameters; they are taken out before the URL reaches the driver. */
const OWN = ['prefix', 'pollMaxMs', 'pollMinMs', 'keepDeadMs'] as const;
type Own = (typeof OWN)[number];
const isOwn = (key: string): key is Own => (OWN as readonly string[]).includes(key);

export interface ParsedMongoUrl {
  /** the URL for the driver: ilkkun's parameters removed, driver parameters kept */
  driverUrl: string;
  /** database from the path (default `ilkkun`) */
  database: string;
  /** ilkkun parameters found in the query */
  params: Record<string, string>;
  /** driver parameters given in the URL, lower-cased (so defaults never override them) */
  driverParams: Set<string>;
}

/**
 * Split a `mongodb://` / `mongodb+srv://` URL into what the driver gets and what ilkkun reads.
 * Host lists (`h1,h2`) are kept verbatim: only the query and the path are parsed here.
 */
export function parseMongoUrl(url: string): ParsedMongoUrl {
  const m = /^(mongodb(?:\+srv)?:\/\/)([^/?#]*)(\/[^?#]*)?(\?[^#]*)?$/i.exec(url);
  const hosts = m?.[2] ?? '';
  if (!m || hosts.slice(hosts.lastIndexOf('@') + 1) === '') {
    throw new ConfigError(
      `"${redactUrl(url)}" is not a MongoDB URL; expected mongodb://HOST[:PORT]/DATABASE`,
    );
  }
  const [, scheme, , path = '', query = ''] = m;
  let database: string;
  try {
    database = decodeURIComponent(path.replace(/^\//, ''));
  } catch {
    throw new ConfigError(`bad database name in ${redactUrl(url)}`);
  }
  if (database === '') database = 'ilkkun';
  if (!/^[A-Za-z0-9_-]{1,63}$/.test(database)) {
    throw new ConfigError(
      `MongoDB database name "${database}" is not usable; use 1–63 characters of [A-Za-z0-9_-] (${redactUrl(url)})`,
    );
  }
  const search = new URLSearchParams(query.replace(/^\?/, ''));
  const params: Record<string, string> = {};
  for (const key of [...search.keys()]) {
    if (isOwn(key)) {
      params[key] = search.get(key) ?? '';
      search.delete(key);
    }
  }
  const rest = search.toString();
  return {
    driverUrl: `${scheme}${hosts}/${encodeURIComponent(database)}${rest ? `?${rest}` : ''}`,
    database,
    params,
    driverParams: new Set([...search.keys()].map((k) => k.toLowerCase())),
  };
}

/** URL parameters and code options merged (code wins); unknown keys are a `ConfigError`. */
export function resolveOptions(
  fromUrl: Readonly<Record<string, string>> = {},
  fromCode: Readonly<Record<string, unknown>> = {},
): ResolvedMongoOptions {
  const out: ResolvedMongoOptions = { ...DEFAULT_OPTIONS };
  forEachOption(fromUrl, fromCode, (source, key, value) => {
    if (!isOwn(key)) throw read.unknown(source, key, OWN);
    switch (key) {
      case 'prefix':
        if (typeof value !== 'string' || !/^[A-Za-z][A-Za-z0-9_]{0,39}$/.test(value)) {
          throw read.fail(source, key, '1–40 characters of [A-Za-z0-9_] starting with a letter');
        }
        out.prefix = value;
        break;
      case 'pollMaxMs':
        out.pollMaxMs = read.integer(source, key, value, 1, 60_000);
        break;
      case 'pollMinMs':
        out.pollMinMs = read.integer(source, key, value, 1, 60_000);
        break;
      case 'keepDeadMs':
        out.keepDeadMs = read.integer(source, key, value, 0, Number.MAX_SAFE_INTEGER);
        break;
    }
  });
  if (out.pollMinMs > out.pollMaxMs) out.pollMinMs = out.pollMaxMs;
  return out;
}
