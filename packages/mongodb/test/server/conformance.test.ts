import { describeConformance } from '@ilkkun/conformance';
import { afterAll, inject } from 'vitest';
import { createBackend } from '../../src/index.js';
import { dropPrefix, withFreshPrefix } from './provided.js';

// The whole suite over the official driver, including the second-OS-process case (the child
// opens the same URL through core's openBackend). A fresh collection prefix per run, dropped after.
const base = inject('mongodbUrl');
const { url, prefix } = withFreshPrefix(base, 'conf');
afterAll(() => dropPrefix(base, prefix), 30_000);

describeConformance({ name: `mongodb (${inject('mongodbServer')})`, url, create: () => createBackend(url) });
