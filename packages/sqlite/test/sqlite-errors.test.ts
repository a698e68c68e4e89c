import { mkdirSync, writeFileSync } from 'node:fs';
import { hasErrorCode } from '@ilkkun/core';
import { afterAll, describe, expect, it } from 'vitest';
import { createBackend } from '../src/index.js';
import { removeTempDirs, tempDbFile } from './helpers.js';

afterAll(removeTempDirs);

async function openError(url: string): Promise<unknown> {
  try {
    const backend = await createBackend(url);
    await backend.close();
    return undefined;
  } catch (err) {
    return err;
  }
}

// Issue 13: SQLITE_NOTADB came out with the generic "a backend URL looks like…" CLI hint.
describe('a file that cannot be used says which and what to do', () => {
  it('SQLITE_NOTADB: names the file as not an SQLite database, with a hint to point the URL elsewhere', async () => {
    const file = tempDbFile('notes.txt');
    writeFileSync(file, 'this is not an sqlite database, just text long enough to have a header '.repeat(20));
    const err = await openError(`sqlite:${file}`);
    expect(hasErrorCode(err, 'CONFIG')).toBe(true);
    expect((err as Error).message).toContain(`the file at ${file} is not an SQLite database (SQLITE_NOTADB`);
    expect((err as { hint?: string }).hint).toMatch(/^point the URL at another file/);
    expect((err as { hint?: string }).hint).toContain(file);
  });

  it('SQLITE_CANTOPEN: a directory where the file should be', async () => {
    const dir = tempDbFile('is-a-dir.db');
    mkdirSync(dir);
    const err = await openError(`sqlite:${dir}`);
    expect(hasErrorCode(err, 'CONFIG')).toBe(true);
    expect((err as Error).message).toContain(`sqlite cannot open the file at ${dir} (SQLITE_CANTOPEN`);
    expect((err as { hint?: string }).hint).toContain('is a file (not a directory)');
  });
});
