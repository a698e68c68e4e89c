import type { TestProject } from 'vitest/node';
import { WireDouble } from './server.js';

// Starts the Mongo-wire test double (FerretDB v1 semantics, in this process) on a free loopback
// port for the test/server files; `pnpm test` runs the same files against a real server.
let double: WireDouble | undefined;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  double = new WireDouble();
  const port = await double.listen(0);
  project.provide('mongodbUrl', `mongodb://127.0.0.1:${port}/ilkkun_test?directConnection=true`);
  project.provide('mongodbServer', 'wire-double');
  return async () => {
    await double?.close();
  };
}
