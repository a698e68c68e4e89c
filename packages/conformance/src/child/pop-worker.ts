/**
 * Second-process consumer for the exclusivity case: opens the store from a URL with core's
 * `openBackend`, pops and acks until a wait comes back empty, and prints every id it got as
 * JSON lines on stdout (before acking, so nothing it held goes unreported).
 * Usage: node pop-worker.js <url> <queue> <waitMs>
 */
import { openBackend } from '@ilkkun/core';

const [url, queue, waitArg] = process.argv.slice(2);
if (!url || !queue) {
  process.stderr.write('usage: pop-worker <url> <queue> <waitMs>\n');
  process.exit(2);
}
const backend = await openBackend(url);
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
const deadline = Date.now() + 60_000;
while (Date.now() < deadline) {
  const jobs = await backend.pop([queue], { max: 7, leaseMs: 120_000, waitMs: Number(waitArg ?? 600) });
  if (jobs.length === 0) break;
  process.stdout.write(`${JSON.stringify({ ids: jobs.map((j) => j.id) })}\n`);
  await Promise.all(jobs.map((j) => backend.ack(j)));
}
await backend.close();
