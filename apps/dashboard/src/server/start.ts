import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Backend, openBackend, redactUrl } from '@ilkkun/core';
import type { MetaResponse } from '../shared/api-types.js';
import { createHandler } from './app.js';
import { describeFeatures, queuePauser } from './capabilities.js';
import type { AppContext } from './context.js';
import { type DashboardOptions, resolveOptions } from './options.js';
import { PoolMonitor } from './pools.js';
import { Sampler } from './sampler.js';
import { SseHub } from './sse.js';
import { loadAssets } from './static-assets.js';
import { DASHBOARD_VERSION } from './version.js';

export interface Dashboard {
  /** `http://127.0.0.1:PORT` (no token in it) */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly backend: Backend;
  /** sample now; resolves when every open page has been sent the result */
  refresh(): Promise<void>;
  /** stop sampling, end live streams, stop listening, and close the backend if the dashboard opened it */
  close(): Promise<void>;
}

/** Backend packages installed next to the dashboard (it depends on @ilkkun/sqlite, the default) resolve from here. */
const importFromHere = (specifier: string): Promise<unknown> => import(specifier);

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** Start the dashboard's HTTP server. Options are checked before anything is opened or bound. */
export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const resolved = resolveOptions(options);
  const assets = loadAssets();
  const ownsBackend = typeof options.backend === 'string';
  const backend =
    typeof options.backend === 'string'
      ? await openBackend(options.backend, { importer: options.importer ?? importFromHere })
      : options.backend;
  const log = (line: string) => resolved.log(redactUrl(line));
  try {
    const features = describeFeatures(backend);
    const pools = new PoolMonitor(resolved.pools);
    const sampler = new Sampler(backend, pools, {
      intervalMs: resolved.sampleIntervalMs,
      historySize: resolved.historySize,
      maxQueues: resolved.maxQueues,
      canCount: features.counts.supported,
      log,
    });
    const hub = new SseHub();
    const meta: MetaResponse = {
      version: DASHBOARD_VERSION,
      backend: {
        name: backend.name,
        url: typeof options.backend === 'string' ? redactUrl(options.backend) : `${backend.name}:`,
      },
      readOnly: resolved.readOnly,
      tokenRequired: resolved.token !== undefined,
      features,
      sampleIntervalMs: resolved.sampleIntervalMs,
      historySize: resolved.historySize,
      pools: resolved.pools.map((p) => ({ id: p.id, url: p.display })),
    };
    const ctx: AppContext = {
      backend,
      options: { ...resolved, log },
      features,
      pauser: queuePauser(backend),
      sampler,
      pools,
      hub,
      meta,
    };
    sampler.onSample((event) => hub.broadcast('sample', event));
    const server = createServer(createHandler(ctx, assets));
    // live streams hold connections open: close() ends them itself
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(resolved.port, resolved.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const port = (server.address() as AddressInfo).port;
    await sampler.start();

    let closing: Promise<void> | undefined;
    return {
      url: `http://${urlHost(resolved.host)}:${port}`,
      host: resolved.host,
      port,
      backend,
      refresh: () => sampler.refresh(),
      close: () => {
        closing ??= (async () => {
          await sampler.stop();
          hub.close();
          await new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          });
          if (ownsBackend) await backend.close();
        })();
        return closing;
      },
    };
  } catch (err) {
    if (ownsBackend) await backend.close().catch(() => {});
    throw err;
  }
}
