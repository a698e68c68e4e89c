import { ConfigError, redactUrl } from '@ilkkun/core';

/** Where to connect, from a `mysql://` or `mariadb://` URL. The password is never logged. */
export interface ParsedMysqlUrl {
  host: string;
  port: number;
  user: string | undefined;
  password: string | undefined;
  database: string;
  /** query parameters, not yet validated (see `resolveOptions`) */
  params: Record<string, string>;
}

const EXAMPLE = 'mysql://user:password@127.0.0.1:3306/dbname';

/**
 * Parse `mysql://[user[:password]@]host[:port]/database[?options]` (`mariadb://` alike).
 * Percent-escapes in user, password and database are decoded, so a password with `@` or `/`
 * is written `%40` / `%2F`. Errors quote the URL with its password redacted.
 */
export function parseMysqlUrl(url: string): ParsedMysqlUrl {
  const shown = JSON.stringify(redactUrl(url));
  if (!/^(mysql|mariadb):\/\//i.test(url)) {
    throw new ConfigError(`not a mysql URL: ${shown}; expected ${EXAMPLE}`);
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new ConfigError(`mysql URL ${shown} cannot be parsed; expected ${EXAMPLE}`, { cause });
  }
  if (parsed.hash) throw new ConfigError(`mysql URL ${shown} has a #fragment; encode "#" as %23`);
  if (!parsed.hostname) throw new ConfigError(`mysql URL ${shown} names no host; expected ${EXAMPLE}`);
  const port = parsed.port === '' ? 3306 : Number(parsed.port);
  const database = decode(parsed.pathname.replace(/^\//, ''), 'database', shown);
  if (database === '' || database.includes('/')) {
    throw new ConfigError(`mysql URL ${shown} must name exactly one database, e.g. ${EXAMPLE}`);
  }
  const params: Record<string, string> = {};
  for (const [key, value] of parsed.searchParams) {
    if (Object.hasOwn(params, key)) throw new ConfigError(`mysql URL parameter "${key}" is given twice`);
    params[key] = value;
  }
  return {
    // WHATWG keeps IPv6 hosts bracketed; the driver wants them bare
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port,
    user: parsed.username === '' ? undefined : decode(parsed.username, 'user', shown),
    password: parsed.password === '' ? undefined : decode(parsed.password, 'password', shown),
    database,
    params,
  };
}

function decode(part: string, what: string, shown: string): string {
  try {
    return decodeURIComponent(part);
  } catch (cause) {
    throw new ConfigError(`mysql URL ${shown} has a malformed %-escape in its ${what}`, { cause });
  }
}
