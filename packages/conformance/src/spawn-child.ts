import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface ChildMessage {
  ready?: boolean;
  ids?: string[];
  at?: number;
}

/** A second OS process running one of the suite's child scripts, speaking JSON lines on stdout. */
export function spawnChild(script: string, args: string[], onMessage: (msg: ChildMessage) => void) {
  const file = fileURLToPath(new URL(`./child/${script}`, import.meta.url));
  const child = spawn(process.execPath, [file, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      ILKKUN_RESOLVE_FROM: [process.env['ILKKUN_RESOLVE_FROM'], process.cwd()].filter(Boolean).join(':'),
    },
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  createInterface({ input: child.stdout }).on('line', (line) => {
    const msg = JSON.parse(line) as ChildMessage;
    if (msg.ready) markReady();
    onMessage(msg);
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { ready, exited, stderr: () => stderr };
}
