import type { Support } from '../../shared/api-types.js';
import { h } from '../dom.js';

/**
 * A control the backend cannot offer: shown, greyed, with the reason in words, so people learn
 * what the backend lacks instead of meeting an error.
 */
export function actionButton(
  label: string,
  support: Support,
  onClick: () => void,
  options: { danger?: boolean; test?: string; disabled?: boolean } = {},
): HTMLElement {
  const cls = `btn${options.danger ? ' btn-danger' : ''}`;
  const data = options.test ? { test: options.test } : undefined;
  if (!support.supported) {
    return h(
      'span',
      { class: 'unsupported', title: support.reason ?? 'not supported', ...(data ? { data } : {}) },
      h('button', { type: 'button', class: cls, disabled: true, aria: { disabled: 'true' } }, label),
      h('small', { class: 'reason' }, support.reason ?? 'not supported'),
    );
  }
  return h(
    'button',
    { type: 'button', class: cls, onClick, disabled: options.disabled ?? false, ...(data ? { data } : {}) },
    label,
  );
}
