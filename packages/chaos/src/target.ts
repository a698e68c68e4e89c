import { backendScheme } from '@ilkkun/core';

/** The one TCP endpoint a backend URL connects to, when a proxy can stand in for it. */
export interface TcpTarget {
  host: string;
  port: number;
  /** the same URL with host:port replaced by 127.0.0.1:<port> */
  through(proxyPort: number): string;
}

/** Ports clients use when a URL names none. */
const DEFAULT_PORTS: Readonly<Record<string, number>> = {
  redis: 6379,
  rediss: 6379,
  mysql: 3306,
  mariadb: 3306,
  amqp: 5672,
  amqps: 5671,
  mongodb: 27017,
};

/**
 * Where `url` connects, or why a loopback TCP proxy cannot stand in for it (an embedded store,
 * several hosts, a cloud endpoint chosen by the SDK). The reason is shown as "not applicable".
 */
export function tcpTarget(url: string): TcpTarget | { notApplicable: string } {
  const scheme = backendScheme(url);
  if (scheme === 'sqlite' || scheme === 'memory') {
    return { notApplicable: `${scheme} has no network connection to cut` };
  }
  if (scheme === 'mongodb+srv') return { notApplicable: 'a DNS seed list names several hosts' };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { notApplicable: 'the URL has no single host:port to proxy' };
  }
  if (parsed.hostname === '') {
    return {
      notApplicable:
        scheme === 'sqs'
          ? 'the URL names no endpoint (the SDK picks AWS for the region)'
          : 'the URL names no host',
    };
  }
  if (parsed.host.includes(',')) return { notApplicable: 'the URL names several hosts' };
  const tls = parsed.searchParams.get('tls');
  const port =
    parsed.port !== ''
      ? Number(parsed.port)
      : scheme === 'sqs'
        ? tls === 'false'
          ? 80
          : 443
        : DEFAULT_PORTS[scheme];
  if (port === undefined) return { notApplicable: `no default port known for ${scheme}:` };
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  return {
    host,
    port,
    through(proxyPort: number): string {
      const rewritten = new URL(url);
      rewritten.hostname = '127.0.0.1';
      rewritten.port = String(proxyPort);
      return rewritten.toString();
    },
  };
}
