import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeConformance } from '@ilkkun/conformance';
import { afterAll } from 'vitest';
import { createBackend } from '../src/index.js';

// One file for the whole suite: `url` lets it open the same store from a second OS process
// (through core's openBackend), and the suite keeps tests apart by queue name.
const dir = mkdtempSync(join(tmpdir(), 'ilkkun-sqlite-conformance-'));
const file = join(dir, 'conformance.db');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeConformance({ name: 'sqlite', url: `sqlite:${file}`, create: () => createBackend(`sqlite:${file}`) });
