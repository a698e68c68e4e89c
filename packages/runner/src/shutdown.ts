import { sleep } from '@ilkkun/core';

export interface SignalOptions {
  signals?: readonly NodeJS.Signals[];
  /** how the process ends; injectable for tests */
  exit?: (code: number) => void;
  /** told when a signal arrives (for a log line) */
  onSignal?: (signal: NodeJS.Signals, forced: boolean) => void;
}

/**
 * SIGINT/SIGTERM → graceful stop, then exit 0 (1 if stopping failed). A second signal exits at
 * once with 128+n: nothing is lost, since every job still leased comes back when its lease
 * expires. Returns a function that removes the handlers.
 */
export function installSignalHandlers(stop: () => Promise<void>, options: SignalOptions = {}): () => void {
  const signals = options.signals ?? ['SIGINT', 'SIGTERM'];
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      options.onSignal?.(signal, true);
      exit(signal === 'SIGINT' ? 130 : 143);
      return;
    }
    stopping = true;
    options.onSignal?.(signal, false);
    stop().then(
      () => exit(0),
      () => exit(1),
    );
  };
  for (const s of signals) process.on(s, onSignal);
  return () => {
    for (const s of signals) process.off(s, onSignal);
  };
}

/**
 * Wait for `work` up to `graceMs`; true if it finished in time. The grace period is what
 * in-flight jobs get to finish before they are released.
 */
export async function withinGrace(work: Promise<unknown>, graceMs: number): Promise<boolean> {
  const abort = new AbortController();
  const finished = await Promise.race([
    work.then(() => true),
    sleep(graceMs, abort.signal).then(() => false),
  ]);
  abort.abort();
  return finished;
}
