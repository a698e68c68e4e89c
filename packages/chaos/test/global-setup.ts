import { ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { redactUrl } from '@ilkkun/core';
import amqp from 'amqplib';
import { Redis } from 'ioredis';
import { createConnection } from 'mysql2/promise';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    chaosUrls: ChaosUrls;
  }
}

export interface ChaosUrls {
  redis: string;
  mysql: string;
  mysqlQudo: string;
  amqp: string;
  amqpQuorum: string;
  sqs: string;
}

/**
 * The chaos suite needs every shared test server (never a mock): one that does not answer
 * within ~2 s fails the run loudly with the command that starts it, as the backend packages'
 * own setups do. Redis db 12 is used by no other package's tests; MariaDB gets two databases of
 * its own (`ilkkun_chaos`, `ilkkun_chaos_qudo`), created fresh and dropped afterwards.
 * `ILKKUN_CHAOS_<REDIS|MYSQL|AMQP|SQS>_URL` point a run elsewhere.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // the SDK's notice that its 2027 releases need Node 22 is noise in test output
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  const env = (name: string, fallback: string) => process.env[`ILKKUN_CHAOS_${name}_URL`] || fallback;
  const redisUrl = env('REDIS', 'redis://127.0.0.1:6379/12');
  const mysqlServer = env('MYSQL', 'mysql://root@127.0.0.1:3306');
  const amqpUrl = env('AMQP', 'amqp://guest:guest@127.0.0.1:5672');
  const sqsUrl = env('SQS', 'sqs://127.0.0.1:4566?region=us-east-1&tls=false');

  await probe('Redis', redisUrl, 'redis', () => pingRedis(redisUrl));
  await probe('RabbitMQ', amqpUrl, 'rabbitmq', async () =>
    (await amqp.connect(amqpUrl, { timeout: 2000 })).close(),
  );
  await probe('SQS emulator', sqsUrl, 'fauxqs', () => listQueues(sqsUrl));
  const databases = ['ilkkun_chaos', 'ilkkun_chaos_qudo'];
  await probe('MariaDB', mysqlServer, 'mariadb', () => recreate(mysqlServer, databases));

  const db = (name: string, query = '') => {
    const u = new URL(mysqlServer);
    u.pathname = `/${name}`;
    return `${u.toString()}${query}`;
  };
  project.provide('chaosUrls', {
    redis: redisUrl,
    mysql: db('ilkkun_chaos'),
    mysqlQudo: db('ilkkun_chaos_qudo', '?flavor=qudo'),
    amqp: amqpUrl,
    amqpQuorum: `${amqpUrl}${amqpUrl.includes('?') ? '&' : '?'}queueType=quorum`,
    sqs: sqsUrl,
  });
  return async () => {
    await drop(mysqlServer, databases);
  };
}

async function probe(what: string, url: string, service: string, check: () => Promise<unknown>) {
  try {
    await Promise.race([
      check(),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('no answer within 2.5 s')), 2500).unref(),
      ),
    ]);
  } catch (err) {
    throw new Error(
      `${what} not reachable at ${redactUrl(url)}; start it with: bash scripts/services/start.sh ${service} (${redactUrl((err as Error).message)})`,
    );
  }
}

async function pingRedis(url: string): Promise<void> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
  } finally {
    client.disconnect();
  }
}

async function listQueues(url: string): Promise<void> {
  const u = new URL(url);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname)) {
    throw new Error('the chaos tests only ever talk to a loopback SQS emulator, never to AWS');
  }
  const client = new SQSClient({
    endpoint: `http://${u.host}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  try {
    await client.send(new ListQueuesCommand({ MaxResults: 1 }));
  } finally {
    client.destroy();
  }
}

function connectMysql(url: string) {
  const u = new URL(url);
  return createConnection({
    host: u.hostname,
    port: u.port === '' ? 3306 : Number(u.port),
    user: decodeURIComponent(u.username) || 'root',
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    connectTimeout: 2000,
  });
}

async function recreate(url: string, databases: readonly string[]): Promise<void> {
  const conn = await connectMysql(url);
  try {
    for (const name of databases) {
      await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await conn.query(`CREATE DATABASE \`${name}\``);
    }
  } finally {
    await conn.end();
  }
}

async function drop(url: string, databases: readonly string[]): Promise<void> {
  const conn = await connectMysql(url);
  try {
    for (const name of databases) await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
  } finally {
    await conn.end();
  }
}
