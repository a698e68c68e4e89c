import { resolve } from 'node:path';
import { ConfigError } from '@ilkkun/core';

/** What a `sqlite:` URL names: an absolute file path and its raw query parameters. */
export interface ParsedSqliteUrl {
  /** absolute path of the database file */
  file: string;
  /** query parameters, not yet validated (see `resolveOptions`) */
  params: Record<string, string>;
}

const EXAMPLES = 'sqlite:./ilkkun.db (relative to the working directory) or sqlite:///absolute/path.db';

/**
 * Parse `sqlite:./ilkkun.db`, `sqlite:relative.db`, `sqlite:/abs/path.db` or `sqlite:///abs/path.db`.
 *
 * The URL is parsed by hand rather than with `new URL()`: WHATWG parsing turns `sqlite:./a.db`
 * into an opaque path and `sqlite://a.db` into a host, and neither is what a user means by a
 * file next to their app. `cwd` is a parameter so tests need not `chdir`.
 */
export function parseSqliteUrl(url: string, cwd: string = process.cwd()): ParsedSqliteUrl {
  if (!/^sqlite:/i.test(url)) {
    throw new ConfigError(`not a sqlite URL: ${JSON.stringify(url)}; expected ${EXAMPLES}`);
  }
  const rest = url.slice('sqlite:'.length);
  if (rest.includes('#')) {
    throw new ConfigError(
      `sqlite URL ${JSON.stringify(url)} has a #fragment; encode "#" in a file name as %23`,
    );
  }
  const queryAt = rest.indexOf('?');
  let path = queryAt >= 0 ? rest.slice(0, queryAt) : rest;
  const query = queryAt >= 0 ? rest.slice(queryAt + 1) : '';

  if (path.startsWith('//')) {
    // Authority form. SQLite is a local file, so only the empty authority (`sqlite:///abs`) makes
    // sense; `sqlite://host/x.db` would silently mean something else than the user thinks.
    const afterSlashes = path.slice(2);
    if (!afterSlashes.startsWith('/')) {
      const host = afterSlashes.split('/')[0] ?? '';
      throw new ConfigError(
        `sqlite URL ${JSON.stringify(url)} names a host (${JSON.stringify(host)}); SQLite is a local file: use ${EXAMPLES}`,
      );
    }
    path = afterSlashes;
  }
  if (path.toLowerCase().startsWith(':memory:') || path.toLowerCase().startsWith('file::memory:')) {
    throw new ConfigError(
      'sqlite::memory: is not supported: an in-memory SQLite database cannot be shared between connections or processes; use the memory: backend instead',
    );
  }
  if (path === '')
    throw new ConfigError(`sqlite URL ${JSON.stringify(url)} has no file path; expected ${EXAMPLES}`);
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch (cause) {
    throw new ConfigError(`sqlite URL ${JSON.stringify(url)} has a malformed %-escape in its path`, {
      cause,
    });
  }
  if (decoded.includes('\0')) throw new ConfigError('sqlite file path must not contain a NUL byte');
  if (decoded.startsWith('~')) {
    // Only a shell expands "~"; resolving it literally would create a directory named "~".
    throw new ConfigError(
      `sqlite URL ${JSON.stringify(url)}: "~" is not expanded; give the path relative or absolute`,
    );
  }
  if (decoded.endsWith('/')) {
    throw new ConfigError(
      `sqlite URL ${JSON.stringify(url)} names a directory; add a file name, e.g. ilkkun.db`,
    );
  }

  const params: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(query)) {
    if (Object.hasOwn(params, key)) throw new ConfigError(`sqlite URL parameter "${key}" is given twice`);
    params[key] = value;
  }
  return { file: resolve(cwd, decoded), params };
}
