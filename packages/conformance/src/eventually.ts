/**
 * Poll `check` until it returns something truthy, for tests that wait on another process or a
 * server. The bound is generous on purpose: it is a deadline against hangs, never a timing claim
 * (speed is measured in apps/bench). The last error `check` threw is in the timeout message.
 */
export async function eventually<T>(
  check: () => T | Promise<T>,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}
