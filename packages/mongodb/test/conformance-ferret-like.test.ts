import { describeConformance } from '@ilkkun/conformance';
import { openMongoBackend } from '../src/index.js';
import { FerretLikeServer } from './ferret-like-store.js';

// The whole conformance suite on an in-process store with FerretDB v1's non-atomic updates
// (unique `_id` inserts are the only atomic primitive). No `url`: the second-OS-process case
// needs a real server and runs in test/server/conformance.test.ts.
const server = new FerretLikeServer();
describeConformance({ name: 'mongodb (ferret-like store)', create: () => openMongoBackend(server.view()) });
