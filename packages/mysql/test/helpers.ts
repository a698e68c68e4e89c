import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createConnection, type RowDataPacket } from 'mysql2/promise';
import { inject } from 'vitest';
import { parseMysqlUrl } from '../src/parse-url.js';

/** The database this test run created (see global-setup.ts). */
export const runUrl = inject('mysqlUrl');
const base = parseMysqlUrl(runUrl);

/** A URL for another database of this run: `<run database>_<suffix>`, created empty (dropped at the end of the run). */
export async function scratchDatabase(suffix: string): Promise<{ url: string; database: string }> {
  if (!/^[a-z0-9_]{1,20}$/.test(suffix)) throw new Error(`bad scratch suffix ${suffix}`);
  const database = `${base.database}_${suffix}`;
  await adminQuery(`DROP DATABASE IF EXISTS \`${database}\``);
  await adminQuery(`CREATE DATABASE \`${database}\``);
  const url = new URL(runUrl);
  url.pathname = `/${database}`;
  return { url: url.toString(), database };
}

/** One statement on its own connection (test set-up and inspection of raw rows). */
export async function adminQuery<T extends RowDataPacket[]>(
  sql: string,
  params: unknown[] = [],
  database?: string,
): Promise<T> {
  const conn = await createConnection({
    host: base.host,
    port: base.port,
    ...(base.user === undefined ? {} : { user: base.user }),
    ...(base.password === undefined ? {} : { password: base.password }),
    ...(database === undefined ? {} : { database }),
    multipleStatements: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
  });
  try {
    const [rows] = await conn.query(sql, params);
    return rows as T;
  } finally {
    await conn.end();
  }
}

export const fixture = (name: string): string =>
  fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

const run = promisify(execFile);

/**
 * Run one of the Perl TheSchwartz helper scripts (test/fixtures/schwartz-*.pl, from
 * shared/research/seed-anchors) against `database`; returns its JSON line. Exit 2/3 (nothing
 * inserted / no job) are answers, not failures.
 */
export async function perl(
  script: string,
  args: readonly string[],
  database: string,
): Promise<Record<string, unknown>> {
  const env = {
    ...process.env,
    SCHWARTZ_DSN: `dbi:mysql:database=${database};host=${base.host};port=${base.port}`,
    SCHWARTZ_USER: base.user ?? '',
    SCHWARTZ_PASS: base.password ?? '',
  };
  try {
    const { stdout } = await run('perl', [fixture(script), ...args], { env, timeout: 30_000 });
    return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string; stderr?: string };
    if ((e.code === 2 || e.code === 3) && e.stdout)
      return JSON.parse(e.stdout.trim()) as Record<string, unknown>;
    throw new Error(`perl ${script} failed: ${e.stderr ?? String(err)}`);
  }
}

export const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
