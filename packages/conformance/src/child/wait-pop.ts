/**
 * Second-process waiter for the cross-process wake-up case: opens the store from a URL, says
 * "ready", waits in one pop, and prints what it got and when (epoch ms), then acks it.
 * Usage: node wait-pop.js <url> <queue> <waitMs>
 */
import { openBackend } from '@ilkkun/core';

const [url, queue, waitArg] = process.argv.slice(2);
if (!url || !queue) {
  process.stderr.write('usage: wait-pop <url> <queue> <waitMs>\n');
  process.exit(2);
}
const backend = await openBackend(url);
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
const jobs = await backend.pop([queue], { max: 1, leaseMs: 60_000, waitMs: Number(waitArg ?? 10_000) });
const at = Date.now();
process.stdout.write(`${JSON.stringify({ ids: jobs.map((j) => j.id), at })}\n`);
await Promise.all(jobs.map((j) => backend.ack(j)));
await backend.close();
