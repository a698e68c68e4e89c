import { JobNotFoundError } from '@ilkkun/core';
import type {
  HistoryResponse,
  JobDetail,
  JobListResponse,
  PoolsResponse,
  QueueSummary,
  QueuesResponse,
} from '../../shared/api-types.js';
import { type AppContext, inspectorFor } from '../context.js';
import { toJobDetail, toJobSummary } from '../job-view.js';
import { jobIdParam, pageParams, queueParam, stateParam } from '../params.js';
import type { Route } from '../router.js';

async function summary(ctx: AppContext, name: string): Promise<QueueSummary> {
  const counts = ctx.features.counts.supported ? await inspectorFor(ctx, 'counts').counts(name) : null;
  const paused = ctx.pauser ? await ctx.pauser.isPaused(name) : null;
  return { name, counts, paused };
}

/** Reads: open to anyone who can reach the (loopback) server; no token needed to look. */
export function readRoutes(ctx: AppContext): Route[] {
  return [
    { method: 'GET', path: '/healthz', kind: 'json', handle: async () => ({ ok: true }) },
    { method: 'GET', path: '/api/meta', kind: 'json', handle: async () => ctx.meta },
    {
      method: 'GET',
      path: '/api/queues',
      kind: 'json',
      // Fresh counts rather than the last sample: what the page shows on load is never stale.
      handle: async (): Promise<QueuesResponse> => {
        const at = new Date().toISOString();
        const inspector = ctx.backend.inspector;
        if (!inspector || !ctx.features.counts.supported) return { at, queues: [], truncated: false };
        const names = (await inspector.queues()).sort();
        const shown = names.slice(0, ctx.options.maxQueues);
        const queues: QueueSummary[] = [];
        for (const name of shown) queues.push(await summary(ctx, name));
        return { at, queues, truncated: shown.length < names.length };
      },
    },
    {
      method: 'GET',
      path: '/api/queues/:queue',
      kind: 'json',
      handle: async ({ params }) => summary(ctx, queueParam(params['queue']!)),
    },
    {
      method: 'GET',
      path: '/api/queues/:queue/jobs',
      kind: 'json',
      handle: async ({ params, query }): Promise<JobListResponse> => {
        const queue = queueParam(params['queue']!);
        const state = stateParam(query.get('state'));
        const { offset, limit } = pageParams(query);
        const inspector = inspectorFor(ctx, 'list');
        const [records, counts] = await Promise.all([
          inspector.list(queue, state, { offset, limit }),
          ctx.features.counts.supported ? inspector.counts(queue) : Promise.resolve(null),
        ]);
        return {
          queue,
          state,
          offset,
          limit,
          total: counts ? counts[state] : null,
          jobs: records.map(toJobSummary),
        };
      },
    },
    {
      method: 'GET',
      path: '/api/queues/:queue/jobs/:id',
      kind: 'json',
      handle: async ({ params }): Promise<JobDetail> => {
        const queue = queueParam(params['queue']!);
        const id = jobIdParam(params['id']!);
        const record = await inspectorFor(ctx, 'jobDetail').getJob(queue, id);
        if (!record) throw new JobNotFoundError(id);
        return toJobDetail(record);
      },
    },
    {
      method: 'GET',
      path: '/api/history',
      kind: 'json',
      handle: async (): Promise<HistoryResponse> => ({
        intervalMs: ctx.options.sampleIntervalMs,
        size: ctx.options.historySize,
        samples: ctx.sampler.history(),
      }),
    },
    {
      method: 'GET',
      path: '/api/pools',
      kind: 'json',
      handle: async (): Promise<PoolsResponse> => ({ pools: ctx.pools.latest() }),
    },
    {
      method: 'GET',
      path: '/api/events',
      kind: 'raw',
      handle: ({ req, res }) => {
        const last = ctx.sampler.history().at(-1);
        ctx.hub.open(
          req,
          res,
          last ? { event: 'sample', data: { sample: last, pools: ctx.pools.latest() } } : undefined,
        );
      },
    },
  ];
}
