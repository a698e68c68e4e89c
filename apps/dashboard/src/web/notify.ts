import { ApiError } from './api.js';
import { h } from './dom.js';

let region: HTMLElement | undefined;

/** The live region messages go to (screen readers announce them). */
export function mountNotices(el: HTMLElement): void {
  region = el;
}

/** A short message that fades after a while; errors stay until dismissed. */
export function notify(message: string, kind: 'ok' | 'error' = 'ok'): void {
  if (!region) return;
  const close = h('button', { type: 'button', class: 'notice-close', aria: { label: 'dismiss' } }, '×');
  const notice = h(
    'div',
    { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : 'status' },
    message,
    close,
  );
  close.addEventListener('click', () => notice.remove());
  region.append(notice);
  while (region.children.length > 4) region.firstElementChild?.remove();
  if (kind === 'ok') setTimeout(() => notice.remove(), 6_000);
}

/** An API failure in words: "READ_ONLY: the dashboard runs read-only…". */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) return `${err.code}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}
