import { UnsupportedFeatureError } from '@ilkkun/core';
import type { ActionResponse } from '../../shared/api-types.js';
import { readJsonBody } from '../body.js';
import { type AppContext, inspectorFor } from '../context.js';
import { deleteStateBody, purgeConfirmation, queueParam, selectionBody } from '../params.js';
import type { Route, RouteRequest } from '../router.js';

/**
 * Writes. Every route here is marked `write`, so the app refuses it in read-only mode (403),
 * without the token (401) and from another origin (403) before the handler runs.
 */
export function writeRoutes(ctx: AppContext): Route[] {
  /** After a change, sample at once so every open page shows it without waiting for the next tick. */
  async function done(affected: number): Promise<ActionResponse> {
    await ctx.sampler.refresh();
    return { ok: true, affected };
  }

  function pauser(action: string) {
    if (!ctx.pauser) throw new UnsupportedFeatureError(action, ctx.backend.name, ctx.features.pause.reason);
    return ctx.pauser;
  }

  const post = (path: string, handle: (r: RouteRequest) => Promise<unknown>): Route => ({
    method: 'POST',
    path,
    kind: 'json',
    write: true,
    handle,
  });

  return [
    // lets the page check a token when it is typed in, before any action depends on it
    post('/api/token-check', async () => ({ ok: true })),
    post('/api/queues/:queue/retry', async ({ req, params }) => {
      const queue = queueParam(params['queue']!);
      const selection = selectionBody(await readJsonBody(req));
      const inspector = inspectorFor(ctx, 'retryDead');
      return done(await inspector.retryDead(queue, 'ids' in selection ? selection.ids : undefined));
    }),
    post('/api/queues/:queue/delete', async ({ req, params }) => {
      const queue = queueParam(params['queue']!);
      const body = await readJsonBody(req);
      const state = deleteStateBody(body);
      const selection = selectionBody(body);
      const inspector = inspectorFor(ctx, 'deleteJobs');
      return done(await inspector.deleteJobs(queue, state, 'ids' in selection ? selection.ids : undefined));
    }),
    post('/api/queues/:queue/purge', async ({ req, params }) => {
      const queue = queueParam(params['queue']!);
      purgeConfirmation(await readJsonBody(req), queue);
      return done(await inspectorFor(ctx, 'purge').purge(queue));
    }),
    post('/api/queues/:queue/pause', async ({ params }) => {
      const queue = queueParam(params['queue']!);
      await pauser('pausing a queue').pause(queue);
      return done(0);
    }),
    post('/api/queues/:queue/resume', async ({ params }) => {
      const queue = queueParam(params['queue']!);
      await pauser('resuming a queue').resume(queue);
      return done(0);
    }),
  ];
}
