import { Client } from '@ilkkun/core';
import { createBackend } from '@ilkkun/redis';
import { createRunner } from '@ilkkun/runner';
import { Redis } from 'ioredis';
const raw = new Redis('redis://127.0.0.1:6379/9');
const rcpu = async () => { const i = await raw.info('cpu'); const m = (k) => Number(new RegExp(k + ':([\\d.]+)').exec(i)[1]); return m('used_cpu_sys') + m('used_cpu_user'); };
const C = Number(process.argv[2] ?? 16), N = Number(process.argv[3] ?? 20000);
const backend = await createBackend('redis://127.0.0.1:6379/9?prefix=ilkkun-rp');
const client = new Client(backend);
const orig = backend.pop.bind(backend); let pops = 0, empty = 0, slow = 0, got = 0;
backend.pop = async (q, o) => { const t = performance.now(); const r = await orig(q, o); pops++; got += r.length; if (!r.length) empty++; if (performance.now() - t > 20) slow++; return r; };
for (let round = 0; round < 4; round++) {
  const queue = `rp${C}-${round}`;
  for (let d = 0; d < N; d += 1000) await client.addMany(Array.from({ length: 1000 }, (_, i) => ({ queue, payload: { i: d + i } })));
  pops = empty = slow = got = 0;
  const runner = createRunner({ backend, handlers: { [queue]: async () => {} }, global: { concurrency: C, waitMs: 200 } });
  let completed = 0; let resolveDone; const done = new Promise((r) => (resolveDone = r));
  runner.on('job:complete', () => { if (++completed === N) resolveDone(); });
  const r0 = await rcpu(); const c0 = process.cpuUsage(); const t0 = performance.now();
  await runner.start(); await done;
  const ms = performance.now() - t0; const c1 = process.cpuUsage(c0); const r1 = await rcpu();
  await runner.stop({ graceMs: 0 });
  console.log(`c=${C}: ${Math.round(N / ms * 1000)}/s; wall ${ms.toFixed(0)}ms cpu ${((c1.user + c1.system) / 1000).toFixed(0)}ms redis ${((r1 - r0) * 1000).toFixed(0)}ms; pops ${pops} avg ${(got / pops).toFixed(1)} empty ${empty} slow ${slow}`);
  await backend.inspector.purge(queue);
}
await backend.close(); raw.disconnect();
