import { jitter } from '../jitter.js';

/** First wait after a child died right away; doubled for each further one. */
export const RESPAWN_BASE_MS = 100;
/** Longest wait between respawns: a pool whose children keep dying still retries this often. */
export const RESPAWN_CAP_MS = 5_000;
/** A child that dies this soon after it was spawned "died right away". */
export const EARLY_DEATH_MS = 1_000;

/**
 * When the next child may be spawned after children kept dying right away (a handler whose top
 * level kills its process, a machine out of memory): jittered exponential backoff, 100 ms
 * doubling up to 5 s, so a crash loop costs a few forks a second at most instead of a tight
 * loop that starves the jobs still running. One child that does its work (finishes a job, or
 * lives past `EARLY_DEATH_MS`) resets it.
 */
export class RespawnBackoff {
  private failures = 0;
  private nextAt = 0;

  constructor(
    private readonly baseMs = RESPAWN_BASE_MS,
    private readonly capMs = RESPAWN_CAP_MS,
  ) {}

  /** Deaths in a row that each made the wait longer. */
  get consecutiveFailures(): number {
    return this.failures;
  }

  /** How long to wait before the next spawn (0: spawn now). */
  waitMs(now = Date.now()): number {
    return Math.max(0, this.nextAt - now);
  }

  /**
   * A child died right away; returns the wait before the next spawn. Deaths noticed while a wait
   * is still running (children started together, dying together) do not lengthen it again: the
   * backoff grows per round of respawns, not per child.
   */
  died(now = Date.now()): number {
    if (now >= this.nextAt) {
      this.failures++;
      const exp = Math.min(this.capMs, this.baseMs * 2 ** Math.min(this.failures - 1, 30));
      this.nextAt = now + Math.min(this.capMs, jitter(exp));
    }
    return this.waitMs(now);
  }

  /** A child did its work: the next death starts again from the base wait. */
  healthy(): void {
    this.failures = 0;
    this.nextAt = 0;
  }
}
