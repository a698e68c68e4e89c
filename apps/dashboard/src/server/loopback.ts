import { isIP } from 'node:net';

/**
 * Loopback means "only this machine": `localhost`, 127.0.0.0/8 and ::1. The dashboard shows
 * payloads and can delete jobs, so anything wider is opt-in (`--allow-remote`).
 */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (bare === 'localhost' || bare.endsWith('.localhost')) return true;
  const family = isIP(bare);
  if (family === 4) return bare.startsWith('127.');
  if (family === 6) return bare === '::1' || bare === '0:0:0:0:0:0:0:1' || bare.startsWith('::ffff:127.');
  return false;
}

/** The host part of a `Host` header (`name:port`, `[v6]:port`), lower-cased; undefined when unparsable. */
export function hostHeaderName(header: string | undefined): string | undefined {
  if (!header) return undefined;
  try {
    const url = new URL(`http://${header}`);
    // a Host header is a host and a port, nothing more (no user info, path or query)
    if (url.username || url.password || url.pathname !== '/' || url.search || url.hash) return undefined;
    return url.hostname.toLowerCase();
  } catch {
    return undefined;
  }
}
