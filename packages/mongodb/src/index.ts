import { type Backend, BackendUnavailableError, redactUrl } from '@ilkkun/core';
import { MongoClient, type MongoClientOptions } from 'mongodb';
import { MongoBackend } from './mongodb-backend.js';
import {
  type MongoBackendOptions,
  parseMongoUrl,
  type ResolvedMongoOptions,
  resolveOptions,
} from './options.js';
import { type DocStores, mongoStores } from './store.js';

export { MongoInspector } from './inspector.js';
export { MongoBackend } from './mongodb-backend.js';
export {
  DEFAULT_OPTIONS,
  type MongoBackendOptions,
  type ParsedMongoUrl,
  parseMongoUrl,
  type ResolvedMongoOptions,
  resolveOptions,
} from './options.js';
export type { Doc, DocCollection, DocFilter, DocStores, FindOptions } from './store.js';

/** How long connecting may take before `createBackend` fails with `BackendUnavailableError`. */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * What core's `openBackend` calls for `mongodb:` / `mongodb+srv:` URLs.
 *
 * - path = database (default `ilkkun`); `?prefix=` names the collections (default `ilkkun`),
 *   `?pollMaxMs=` / `?pollMinMs=` tune the idle poll of a waiting pop. `options` wins over the URL.
 * - every other parameter goes to the driver untouched (`directConnection`, `replicaSet`, `tls`,
 *   `authSource`, …). Write concern: `?w=majority` is the default (the no-loss promise on a
 *   replica set); `?w=1`, `?journal=true`, `?wtimeoutMS=` are honoured as the driver defines them.
 *
 * @example createBackend('mongodb://127.0.0.1:27017/app?directConnection=true')
 */
export async function createBackend(url: string, options: Record<string, unknown> = {}): Promise<Backend> {
  const parsed = parseMongoUrl(url);
  const resolved = resolveOptions(parsed.params, options as MongoBackendOptions & Record<string, unknown>);
  const given = parsed.driverParams;
  const clientOptions: MongoClientOptions = {};
  if (!given.has('serverselectiontimeoutms')) clientOptions.serverSelectionTimeoutMS = CONNECT_TIMEOUT_MS;
  if (!given.has('connecttimeoutms')) clientOptions.connectTimeoutMS = CONNECT_TIMEOUT_MS;
  if (!given.has('appname')) clientOptions.appName = 'ilkkun';
  if (!given.has('w')) clientOptions.writeConcern = { w: 'majority' };
  const client = new MongoClient(parsed.driverUrl, clientOptions);
  const label = redactUrl(url);
  try {
    await client.connect();
    const db = client.db(parsed.database);
    return await openMongoBackend(mongoStores(client, db, resolved.prefix, label), resolved, label);
  } catch (err) {
    await client.close().catch(() => undefined);
    const message = redactUrl(err instanceof Error ? err.message : String(err));
    throw new BackendUnavailableError(`cannot open MongoDB at ${label}: ${message}`, { cause: err });
  }
}

/**
 * Open the backend over any `DocStores` (the driver's, or a test double); creates the indexes.
 * `wakeKey` groups instances whose pops a push in this process should wake.
 */
export async function openMongoBackend(
  stores: DocStores,
  options: ResolvedMongoOptions = resolveOptions(),
  wakeKey = stores.label,
): Promise<MongoBackend> {
  const backend = new MongoBackend(stores, options, `${wakeKey}|${options.prefix}`);
  await backend.ensureIndexes();
  return backend;
}
