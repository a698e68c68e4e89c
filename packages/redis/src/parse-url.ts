import { ConfigError, redactUrl } from '@ilkkun/core';

/** Where a `redis://` / `rediss://` URL points, and its raw query parameters. */
export interface ParsedRedisUrl {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls: boolean;
  /** query parameters other than `password`, not yet validated (see `resolveOptions`) */
  params: Record<string, string>;
}

const EXAMPLES =
  'redis://127.0.0.1:6379, redis://:password@host:6379/2?prefix=myapp, rediss://user:password@host:6380';

/**
 * Parse `redis://[user[:password]@]host[:port][/db][?param=value…]` (`rediss://` = TLS). The
 * password may also come as `?password=` (as redis-py and other clients accept it; core's
 * `redactUrl` hides it like the one in the authority), but not both ways at once.
 * Every message quotes the URL through core's `redactUrl`, so a password never reaches a log.
 */
export function parseRedisUrl(url: string): ParsedRedisUrl {
  const shown = JSON.stringify(redactUrl(url));
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`${shown} is not a valid redis URL; expected e.g. ${EXAMPLES}`);
  }
  const scheme = parsed.protocol.toLowerCase();
  if (scheme !== 'redis:' && scheme !== 'rediss:') {
    throw new ConfigError(`${shown} is not a redis URL (scheme ${scheme}); expected e.g. ${EXAMPLES}`);
  }
  if (parsed.hash)
    throw new ConfigError(`redis URL ${shown} has a #fragment; encode "#" in a password as %23`);
  // WHATWG keeps IPv6 literals in brackets; the socket API wants them bare.
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
  const port = parsed.port === '' ? 6379 : Number(parsed.port);
  if (!Number.isInteger(port) || port < 1 || port > 65_535)
    throw new ConfigError(`redis URL ${shown} has a bad port`);

  const path = parsed.pathname.replace(/^\/+/, '');
  if (path !== '' && !/^\d{1,5}$/.test(path)) {
    throw new ConfigError(`redis URL ${shown}: the path must be a database number (e.g. /0), got "/${path}"`);
  }
  const db = path === '' ? 0 : Number(path);

  const out: ParsedRedisUrl = { host, port, db, tls: scheme === 'rediss:', params: {} };
  try {
    if (parsed.username) out.username = decodeURIComponent(parsed.username);
    if (parsed.password) out.password = decodeURIComponent(parsed.password);
  } catch (cause) {
    throw new ConfigError(`redis URL ${shown} has a malformed %-escape in its user or password`, { cause });
  }
  for (const [key, value] of parsed.searchParams) {
    if (Object.hasOwn(out.params, key)) throw new ConfigError(`redis URL parameter "${key}" is given twice`);
    if (key === 'password') {
      if (parsed.searchParams.getAll('password').length > 1)
        throw new ConfigError('redis URL parameter "password" is given twice');
      if (parsed.password) {
        throw new ConfigError(
          `redis URL ${shown} gives a password twice (before the @ and as ?password=); keep one of them`,
        );
      }
      // an empty ?password= means none, as an empty one before the @ does
      if (value !== '') out.password = value;
      continue;
    }
    out.params[key] = value;
  }
  return out;
}
