import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const tempDirs: string[] = [];

/** A fresh directory under the OS temp dir; `removeTempDirs` deletes it. */
export function tempDir(prefix = 'ilkkun-sqlite-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** A path for a database file that does not exist yet, in its own temp dir. */
export function tempDbFile(name = 'jobs.db'): string {
  return join(tempDir(), name);
}

export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

const children = new Set<ChildProcess>();

export interface Child {
  /** resolves with the next stdout line that parses as JSON */
  nextMessage(): Promise<unknown>;
  /** write one line to the child's stdin */
  send(line: string): void;
  /** resolves with the exit code once the child ends */
  exited: Promise<number | null>;
}

/** Run a script from test/fixtures in a separate `node` process; stdout is read as JSON lines. */
export function spawnFixture(script: string, args: readonly string[]): Child {
  const path = fileURLToPath(new URL(`./fixtures/${script}`, import.meta.url));
  const child = spawn(process.execPath, [path, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.add(child);
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      children.delete(child);
      resolve(code);
    });
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  return {
    async nextMessage() {
      for (;;) {
        const { value, done } = await lines.next();
        if (done) throw new Error(`${script} ended without a message (exit ${await exited})`);
        const line = String(value).trim();
        if (line.startsWith('{')) return JSON.parse(line) as unknown;
      }
    },
    send(line) {
      child.stdin!.write(`${line}\n`);
    },
    exited,
  };
}

/** Kill children a failed test left behind (only the ones this file spawned). */
export function killChildren(): void {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
}
