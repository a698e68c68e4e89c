import { attachLiveView } from './live-view.js';
import { attachLogReporter } from './log-reporter.js';
import type { Runner } from './runner.js';

export type ReporterKind = 'auto' | 'live' | 'log' | 'none';

/** `auto`: the live view on a terminal, plain log lines otherwise. Returns a detach function. */
export function attachReporter(
  runner: Runner,
  kind: ReporterKind = 'auto',
  stream: NodeJS.WriteStream = process.stdout,
): () => void {
  const resolved = kind === 'auto' ? (stream.isTTY ? 'live' : 'log') : kind;
  if (resolved === 'none') return () => {};
  if (resolved === 'live') {
    // Failures and worker churn still deserve a permanent line above the live area: errors go to stderr.
    const offError = runner.on('error', ({ error, context }) => {
      process.stderr.write(`error (${context}): ${error.message}\n`);
    });
    const stop = attachLiveView(runner, { stream });
    return () => {
      stop();
      offError();
    };
  }
  return attachLogReporter(runner, { stream });
}
