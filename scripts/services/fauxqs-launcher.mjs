// Loopback-only launcher for fauxqs (the SQS emulator the @ilkkun/sqs tests use).
// fauxqs's own CLI and startFauxqs() listen on 0.0.0.0 (hard-coded), so this imports its exported
// buildApp() and listens on 127.0.0.1 only. fauxqs is installed outside the workspace (fauxqs.sh).
// Usage: node fauxqs-launcher.mjs [install-prefix] [port] [log requests: true|false]
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [prefix = '/var/tmp/ilkkun-fauxqs', portArg = '4566', logArg = 'false'] = process.argv.slice(2);
const port = Number(portArg);
const entry = pathToFileURL(join(prefix, 'node_modules', 'fauxqs', 'dist', 'app.js')).href;
const { buildApp } = await import(entry);

const app = buildApp({ logger: logArg === 'true', defaultRegion: 'us-east-1' });
await app.listen({ port, host: '127.0.0.1' });
process.stdout.write(`fauxqs listening on http://127.0.0.1:${port} (pid ${process.pid})\n`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await app.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
