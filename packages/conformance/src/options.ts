import type { Backend } from '@ilkkun/core';

export interface ConformanceOptions {
  /** label in test names and reports, e.g. "sqlite" */
  name: string;
  /**
   * Returns a connected backend. Every call must reach the SAME store (the suite opens a
   * second instance to prove that jobs survive `close()` and that pushes wake other
   * instances); the suite closes what it opens.
   */
  create: () => Promise<Backend>;
  /**
   * The backend's URL, when core's `openBackend(url)` can open it from another OS process.
   * Enables the second-process exclusivity case (skipped with that reason otherwise).
   */
  url?: string;
  /** multiply every lease and delay the suite uses (for stores with coarse clocks); default 1 */
  timeScale?: number;
  /** prefix of the queue names the suite creates (default "conf"); each test adds a random part */
  queuePrefix?: string;
}
