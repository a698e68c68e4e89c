import { randomBytes } from 'node:crypto';
import { redactUrl } from '@ilkkun/core';
import { createConnection } from 'mysql2/promise';
import type { TestProject } from 'vitest/node';
import { parseMysqlUrl } from '../src/parse-url.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of a database created for this test run (dropped afterwards) */
    mysqlUrl: string;
    /** the server-level URL the run was given (ILKKUN_MYSQL_URL), for tests that create their own databases */
    mysqlAdminUrl: string;
  }
}

const DEFAULT_URL = 'mysql://root@127.0.0.1:3306/test';

/**
 * The suite needs a real MariaDB/MySQL: there is no mock. Unreachable within ~2 s is a failure
 * with the command that starts one, never a silent skip. Each run works in its own database
 * (`ilkkun_test_<random>`), dropped at the end, so runs and other users of the server do not collide.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const url = process.env['ILKKUN_MYSQL_URL'] || DEFAULT_URL;
  const target = parseMysqlUrl(url);
  const connect = () =>
    createConnection({
      host: target.host,
      port: target.port,
      ...(target.user === undefined ? {} : { user: target.user }),
      ...(target.password === undefined ? {} : { password: target.password }),
      connectTimeout: 2000,
    });
  let conn: Awaited<ReturnType<typeof connect>>;
  try {
    conn = await Promise.race([
      connect(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no answer within 2 s')), 2500)),
    ]);
  } catch (err) {
    throw new Error(
      `MariaDB not reachable at ${redactUrl(url)}; start it with: bash scripts/services/start.sh mariadb (${(err as Error).message})`,
    );
  }
  const database = `ilkkun_test_${randomBytes(4).toString('hex')}`;
  try {
    await conn.query(`CREATE DATABASE \`${database}\``);
  } finally {
    await conn.end();
  }
  const runUrl = new URL(url);
  runUrl.pathname = `/${database}`;
  project.provide('mysqlUrl', runUrl.toString());
  project.provide('mysqlAdminUrl', url);
  return async () => {
    const c = await connect();
    try {
      // only databases this run created: ours, and the ones tests made with our name as prefix
      const [rows] = await c.query<import('mysql2/promise').RowDataPacket[]>(
        'SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ? OR SCHEMA_NAME LIKE ?',
        [database, `${database}\\_%`],
      );
      for (const row of rows) await c.query(`DROP DATABASE IF EXISTS \`${String(row['name'])}\``);
    } finally {
      await c.end();
    }
  };
}
