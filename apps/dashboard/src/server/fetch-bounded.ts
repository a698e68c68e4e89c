/**
 * GET a small document from a runner's status server: bounded in time and size, and never
 * following a redirect (a loopback pool must not be able to send the dashboard elsewhere).
 */
export async function fetchText(url: string, timeoutMs: number, maxBytes: number): Promise<string> {
  const res = await fetch(url, {
    redirect: 'error',
    signal: AbortSignal.timeout(timeoutMs),
    headers: { accept: 'application/json, text/plain;q=0.9' },
  });
  if (!res.ok) {
    await res.body?.cancel();
    throw new Error(`HTTP ${res.status}`);
  }
  const reader = res.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new Error(`response over ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A failure as one short line for the page ("connection refused", "timed out"). */
export function describeFetchError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return 'timed out';
  const cause = (err as { cause?: unknown }).cause;
  const code = typeof cause === 'object' && cause !== null ? (cause as { code?: unknown }).code : undefined;
  if (code === 'ECONNREFUSED') return 'connection refused (is the runner running with a status port?)';
  if (typeof code === 'string') return code;
  if (cause instanceof Error && cause.message) return cause.message;
  return err.message;
}
