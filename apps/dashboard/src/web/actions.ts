import type { ActionResponse } from '../shared/api-types.js';
import { ApiError, postJson } from './api.js';
import type { Header } from './header.js';
import { describeError, notify } from './notify.js';

export interface ActionSpec {
  path: string;
  body: unknown;
  /** asked with confirm() first (destructive or bulk actions) */
  confirm?: string;
  /** "retried 3 jobs" from the number affected */
  done: (affected: number) => string;
}

/**
 * Runs one write action: confirm, POST, report. A 401 opens the token form rather than
 * failing silently; every other refusal (403 read-only, 501 unsupported) is shown as it came.
 */
export async function runAction(header: Header, spec: ActionSpec): Promise<boolean> {
  if (spec.confirm !== undefined && !window.confirm(spec.confirm)) return false;
  try {
    const result = await postJson<ActionResponse>(spec.path, spec.body);
    notify(spec.done(result.affected));
    return true;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      notify('this action needs the dashboard token: unlock first', 'error');
      header.openUnlock();
    } else {
      notify(describeError(err), 'error');
    }
    return false;
  }
}

export function jobs(n: number): string {
  return `${n} job${n === 1 ? '' : 's'}`;
}
