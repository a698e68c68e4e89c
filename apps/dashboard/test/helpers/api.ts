import { request } from 'node:http';
import { type Dashboard, type DashboardOptions, startDashboard } from '../../src/index.js';

export interface ApiResult<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

export interface TestApi {
  dashboard: Dashboard;
  get<T = unknown>(path: string): Promise<ApiResult<T>>;
  post<T = unknown>(
    path: string,
    body?: unknown,
    options?: { token?: string; headers?: Record<string, string> },
  ): Promise<ApiResult<T>>;
  close(): Promise<void>;
}

async function result<T>(res: Response): Promise<ApiResult<T>> {
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, headers: res.headers, body: body as T };
}

/** A dashboard on a free loopback port, and small fetch helpers for its API. */
export async function startApi(options: DashboardOptions): Promise<TestApi> {
  const dashboard = await startDashboard({ port: 0, sampleIntervalMs: 60_000, ...options });
  return {
    dashboard,
    get: async (path) => result(await fetch(`${dashboard.url}${path}`)),
    post: async (path, body = {}, { token, headers = {} } = {}) => {
      const all: Record<string, string> = { 'content-type': 'application/json', ...headers };
      if (token !== undefined) all['authorization'] = `Bearer ${token}`;
      return result(
        await fetch(`${dashboard.url}${path}`, { method: 'POST', headers: all, body: JSON.stringify(body) }),
      );
    },
    close: () => dashboard.close(),
  };
}

/** A raw GET with a chosen Host header (fetch does not let a caller set it). */
export function getWithHost(
  url: string,
  path: string,
  host: string,
): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The error body every refusal has. */
export interface ErrorBody {
  error: { status: number; code: string; message: string };
}
