import type { Backend, Inspector } from '@ilkkun/core';
import type { Features, Support } from '../shared/api-types.js';

/**
 * Pausing a queue is not in core's contract yet (no backend offers it). A backend that adds
 * it is expected to announce `capabilities.inspect.pause` and give its inspector these three
 * methods; the dashboard lights the buttons up then, and greys them out until then.
 */
export interface QueuePauser {
  pause(queue: string): Promise<void>;
  resume(queue: string): Promise<void>;
  isPaused(queue: string): Promise<boolean>;
}

type InspectFlags = Partial<Record<string, unknown>>;

function flags(backend: Backend): InspectFlags {
  // `inspect` is required by the type, but a backend built against an older core may lack it.
  return (backend.capabilities.inspect as InspectFlags | undefined) ?? {};
}

function unsupported(backend: Backend, what: string): Support {
  return { supported: false, reason: `${what} is not supported by the ${backend.name} backend` };
}

function support(backend: Backend, flag: string, what: string): Support {
  return backend.inspector && flags(backend)[flag] === true
    ? { supported: true }
    : unsupported(backend, what);
}

/** The inspector's pause/resume, when the backend announces and implements them. */
export function queuePauser(backend: Backend): QueuePauser | undefined {
  const inspector = backend.inspector as (Inspector & Partial<QueuePauser>) | undefined;
  if (!inspector || flags(backend)['pause'] !== true) return undefined;
  const { pause, resume, isPaused } = inspector;
  if (typeof pause !== 'function' || typeof resume !== 'function' || typeof isPaused !== 'function') {
    return undefined;
  }
  return {
    pause: (queue) => pause.call(inspector, queue),
    resume: (queue) => resume.call(inspector, queue),
    isPaused: (queue) => isPaused.call(inspector, queue),
  };
}

/** What the page may offer, from the backend's announced capabilities. */
export function describeFeatures(backend: Backend): Features {
  const list = support(backend, 'list', 'listing jobs');
  return {
    counts: support(backend, 'counts', 'counting jobs'),
    list,
    // getJob has no flag of its own: it comes with listing
    jobDetail: list.supported ? { supported: true } : unsupported(backend, 'showing a job'),
    retryDead: support(backend, 'retryDead', 'retrying dead jobs'),
    deleteJobs: support(backend, 'deleteJobs', 'deleting jobs'),
    purge: support(backend, 'purge', 'purging a queue'),
    pause: queuePauser(backend) ? { supported: true } : unsupported(backend, 'pausing a queue'),
  };
}
