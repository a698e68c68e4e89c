import { MongoClient } from 'mongodb';
import type { TestProject } from 'vitest/node';

// `pnpm test`: the test/server files against a real MongoDB or FerretDB. An unreachable
// server FAILS the run (never a silent skip).
const DEFAULT_URL = 'mongodb://127.0.0.1:27017/ilkkun_test';

export default async function setup(project: TestProject): Promise<void> {
  const url = process.env['ILKKUN_MONGODB_URL'] || DEFAULT_URL;
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 2000, connectTimeoutMS: 2000 });
  try {
    await client.connect();
    await client.db('admin').command({ ping: 1 });
  } catch {
    const shown = url.replace(/\/\/[^@/]*@/, '//***@');
    throw new Error(
      `MongoDB/FerretDB not reachable at ${shown}; start it with: bash scripts/services/start.sh ferretdb`,
    );
  } finally {
    await client.close().catch(() => undefined);
  }
  project.provide('mongodbUrl', url);
  project.provide('mongodbServer', 'server');
}
