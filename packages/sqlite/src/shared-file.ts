import { WakeSignal } from '@ilkkun/core';

/** What every SqliteBackend on the same file in this process shares. */
export interface SharedFile {
  /** rung after every commit that may make a job poppable, so a waiting pop on another instance wakes at once */
  readonly wake: WakeSignal;
  users: number;
}

/**
 * Keyed by the file's real path (symlinks resolved), so two URLs naming one file share a
 * doorbell. Kept on `globalThis` under a registered symbol so that two copies of this module in
 * one process (the source under test and the built package loaded through `openBackend`, or
 * two installs in a monorepo) still ring the same bell.
 */
const REGISTRY = Symbol.for('@ilkkun/sqlite/shared-files');

function registry(): Map<string, SharedFile> {
  const holder = globalThis as { [REGISTRY]?: Map<string, SharedFile> };
  holder[REGISTRY] ??= new Map();
  return holder[REGISTRY];
}

export function acquireSharedFile(key: string): SharedFile {
  const files = registry();
  let shared = files.get(key);
  if (!shared) {
    shared = { wake: new WakeSignal(), users: 0 };
    files.set(key, shared);
  }
  shared.users++;
  return shared;
}

/** Forget the entry when its last user closes, so a long-lived process opening many files does not leak. */
export function releaseSharedFile(key: string): void {
  const files = registry();
  const shared = files.get(key);
  if (!shared) return;
  shared.users--;
  if (shared.users <= 0) files.delete(key);
}
