import { ConfigError, redactUrl } from '@ilkkun/core';

/** Where an `amqp://` / `amqps://` URL points, and its raw query parameters. */
export interface ParsedAmqpUrl {
  protocol: 'amqp' | 'amqps';
  hostname: string;
  port: number;
  username: string;
  password: string;
  vhost: string;
  /** query parameters, not yet validated (see `resolveOptions`) */
  params: Record<string, string>;
}

const EXAMPLES =
  'amqp://guest:guest@127.0.0.1:5672, amqp://user:password@host/vhost?prefix=myapp, amqps://user:password@host:5671';

/**
 * Parse `amqp[s]://[user[:password]@]host[:port][/vhost][?param=value…]` the way RabbitMQ's
 * URI spec reads it: no path means the default vhost `/`, and a vhost containing `/` is written
 * `%2F`. Every message quotes the URL through core's `redactUrl`, so a password never reaches a log.
 */
export function parseAmqpUrl(url: string): ParsedAmqpUrl {
  const shown = JSON.stringify(redactUrl(url));
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`${shown} is not a valid amqp URL; expected e.g. ${EXAMPLES}`);
  }
  const scheme = parsed.protocol.toLowerCase();
  if (scheme !== 'amqp:' && scheme !== 'amqps:') {
    throw new ConfigError(`${shown} is not an amqp URL (scheme ${scheme}); expected e.g. ${EXAMPLES}`);
  }
  if (parsed.hash)
    throw new ConfigError(`amqp URL ${shown} has a #fragment; encode "#" in a password as %23`);
  const protocol = scheme === 'amqps:' ? 'amqps' : 'amqp';
  // WHATWG keeps IPv6 literals in brackets; the socket API wants them bare.
  const hostname = parsed.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
  const port = parsed.port === '' ? (protocol === 'amqps' ? 5671 : 5672) : Number(parsed.port);
  if (!Number.isInteger(port) || port < 1 || port > 65_535)
    throw new ConfigError(`amqp URL ${shown} has a bad port`);
  const path = parsed.pathname.replace(/^\//, '');
  if (path.includes('/')) {
    throw new ConfigError(`amqp URL ${shown}: the path is the vhost; write a "/" inside it as %2F`);
  }
  const out: ParsedAmqpUrl = {
    protocol,
    hostname,
    port,
    username: 'guest',
    password: 'guest',
    vhost: '/',
    params: {},
  };
  try {
    if (parsed.username) out.username = decodeURIComponent(parsed.username);
    if (parsed.password) out.password = decodeURIComponent(parsed.password);
    if (path !== '') out.vhost = decodeURIComponent(path);
  } catch (cause) {
    throw new ConfigError(`amqp URL ${shown} has a malformed %-escape in its user, password or vhost`, {
      cause,
    });
  }
  for (const [key, value] of parsed.searchParams) {
    if (Object.hasOwn(out.params, key)) throw new ConfigError(`amqp URL parameter "${key}" is given twice`);
    out.params[key] = value;
  }
  return out;
}
