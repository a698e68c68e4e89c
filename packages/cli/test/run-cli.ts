import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// The tests run the built CLI as a user would: `node dist/bin.js …` in a child process.
export const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

export function assertBuilt(): void {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: build the CLI first (pnpm turbo run build)`);
}

/** The environment of a user's shell: no colours, no pnpm NODE_PATH, no ILKKUN_URL unless given. */
export function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...extra };
  delete env['FORCE_COLOR'];
  delete env['NODE_PATH'];
  if (!extra['ILKKUN_URL']) delete env['ILKKUN_URL'];
  return env;
}

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Run the CLI to completion in `cwd`. */
export function ilkkun(args: string[], cwd: string, options: { timeoutMs?: number } = {}): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    env: userEnv(),
    input: '',
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 30_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
