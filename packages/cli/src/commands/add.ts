import {
  type AddItem,
  type AddOptions,
  buildNewJob,
  Client,
  DEFAULT_MAX_PAYLOAD_BYTES,
  SerializationError,
} from '@ilkkun/core';
import { type Command, InvalidArgumentError } from 'commander';
import { withBackend, writeErr, writeOut } from '../context.js';
import { UsageError } from '../errors.js';

interface AddCommandOptions {
  priority?: number;
  delay?: number;
  attempts?: number;
  uniqueKey?: string;
  backoff?: number;
  many?: boolean;
  json?: boolean;
}

/** Commander parser: any finite number; core checks ranges and integer-ness with its own errors. */
function number(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('not a number');
  return n;
}

export function register(program: Command): void {
  program
    .command('add')
    .description('add a job to a queue and print its id')
    .argument('<queue>', 'queue name: 1–200 characters of letters, digits and _ . : -')
    .argument('<json>', 'the payload as JSON, or - to read it from stdin')
    .option('-p, --priority <n>', 'higher runs first (integer, default 0)', number)
    .option('-d, --delay <ms>', 'run no earlier than this many ms from now', number)
    .option('-a, --attempts <n>', 'attempts before the job goes to dead (default 3)', number)
    .option('-u, --unique-key <key>', 'while a live job of the queue holds this key, return its id instead')
    .option('-b, --backoff <ms>', 'fixed wait between attempts (default: exponential from 1 s)', number)
    .option(
      '--many',
      'read newline-delimited JSON from stdin (<json> must be -): one job per line, one batch',
    )
    .option('--json', 'print {"id","queue","duplicate"} per job instead of plain text')
    .addHelpText(
      'after',
      `
Examples:
  $ ilkkun add emails '{"to":"a@example.com"}'
  $ ilkkun add reports '{"day":"2026-01-01"}' --priority 5 --delay 60000 --unique-key report:2026-01-01
  $ printf '{"n":1}\\n{"n":2}\\n' | ilkkun add numbers - --many`,
    )
    .action(async (queue: string, json: string, options: AddCommandOptions, command: Command) => {
      const jobOptions: AddOptions = {};
      if (options.priority !== undefined) jobOptions.priority = options.priority;
      if (options.delay !== undefined) jobOptions.delay = options.delay;
      if (options.attempts !== undefined) jobOptions.attempts = options.attempts;
      if (options.uniqueKey !== undefined) jobOptions.uniqueKey = options.uniqueKey;
      if (options.backoff !== undefined) jobOptions.backoff = options.backoff;

      let payloads: unknown[];
      if (options.many) {
        if (json !== '-') throw new UsageError('--many reads its jobs from stdin: pass - as <json>');
        if (options.uniqueKey !== undefined) {
          throw new UsageError(
            '--unique-key with --many would give every job the same key',
            'add unique jobs one by one',
          );
        }
        payloads = parseLines(await readStdin());
        if (payloads.length === 0) throw new UsageError('--many: stdin held no JSON lines');
      } else {
        payloads = [parseJson(json === '-' ? await readStdin() : json, json === '-' ? 'stdin' : '<json>')];
      }

      // Validate everything before the backend is opened, so bad input creates and writes nothing
      // (the client checks again against the backend's own payload limit).
      const items: AddItem[] = payloads.map((payload) => ({ ...jobOptions, queue, payload }));
      for (const { queue: q, payload, ...rest } of items) {
        buildNewJob(q, payload, rest, { maxPayloadBytes: DEFAULT_MAX_PAYLOAD_BYTES });
      }
      const results = await withBackend(command, async (backend) => {
        const client = new Client(backend);
        return client.addMany(items);
      });
      for (const r of results) {
        if (options.json) writeOut(JSON.stringify({ id: r.id, queue: r.queue, duplicate: r.duplicate }));
        else writeOut(r.duplicate ? `duplicate of ${r.id}` : r.id);
      }
      if (options.many && !options.json) {
        const dups = results.filter((r) => r.duplicate).length;
        writeErr(`added ${results.length - dups} job(s) to ${queue}${dups ? ` (${dups} duplicate(s))` : ''}`);
      }
    });
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new SerializationError('$', `${where} is not valid JSON (${reason})`);
  }
}

function parseLines(text: string): unknown[] {
  const out: unknown[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    out.push(parseJson(line, `stdin line ${i + 1}`));
  }
  return out;
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) writeErr('reading JSON from stdin (end with Ctrl-D)…');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin)
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}
