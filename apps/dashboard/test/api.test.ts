import { type Backend, Client, createMemoryBackend, type JobState } from '@ilkkun/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { addDeadJob } from '../scripts/seed.js';
import type {
  ActionResponse,
  HistoryResponse,
  JobDetail,
  JobListResponse,
  MetaResponse,
  QueueSummary,
  QueuesResponse,
} from '../src/index.js';
import { CONTENT_SECURITY_POLICY } from '../src/index.js';
import { type ErrorBody, getWithHost, startApi, type TestApi } from './helpers/api.js';

const TOKEN = 'api-test-token';

describe('API: reading', () => {
  let backend: Backend;
  let api: TestApi;
  const ids: string[] = [];
  beforeAll(async () => {
    backend = createMemoryBackend();
    const client = new Client(backend);
    ids.push(
      ...(
        await client.addMany(Array.from({ length: 45 }, (_, n) => ({ queue: 'paging', payload: { n } })))
      ).map((r) => r.id),
    );
    await client.add('other', { hello: 'world' });
    api = await startApi({ backend, token: TOKEN });
  });
  afterAll(async () => {
    await api.close();
    await backend.close();
  });

  it('reports the backend, its features and the mode', async () => {
    const { status, body } = await api.get<MetaResponse>('/api/meta');
    expect(status).toBe(200);
    expect(body.backend.name).toBe('memory');
    expect(body.readOnly).toBe(false);
    expect(body.tokenRequired).toBe(true);
    expect(body.features.counts).toEqual({ supported: true });
    expect(body.features.retryDead).toEqual({ supported: true });
    expect(body.features.pause).toEqual({
      supported: false,
      reason: 'pausing a queue is not supported by the memory backend',
    });
  });

  it('lists queues with counts per state', async () => {
    const { body } = await api.get<QueuesResponse>('/api/queues');
    expect(body.queues.map((q) => q.name)).toEqual(['other', 'paging']);
    expect(body.queues[1]).toEqual({
      name: 'paging',
      counts: { waiting: 45, delayed: 0, active: 0, completed: 0, dead: 0 },
      paused: null,
    });
  });

  it('pages through jobs of one state, in pop order', async () => {
    const first = await api.get<JobListResponse>('/api/queues/paging/jobs?state=waiting&limit=20');
    expect(first.status).toBe(200);
    expect(first.body.total).toBe(45);
    expect(first.body.jobs.map((j) => j.id)).toEqual(ids.slice(0, 20));
    const second = await api.get<JobListResponse>('/api/queues/paging/jobs?state=waiting&limit=20&offset=20');
    expect(second.body.jobs.map((j) => j.id)).toEqual(ids.slice(20, 40));
    const last = await api.get<JobListResponse>('/api/queues/paging/jobs?state=waiting&limit=20&offset=40');
    expect(last.body.jobs.map((j) => j.id)).toEqual(ids.slice(40));
    const past = await api.get<JobListResponse>('/api/queues/paging/jobs?state=waiting&offset=100');
    expect(past.body.jobs).toEqual([]);
    // default page size, default state
    const plain = await api.get<JobListResponse>('/api/queues/paging/jobs');
    expect(plain.body).toMatchObject({ state: 'waiting', offset: 0, limit: 20 });
    expect(plain.body.jobs[0]).toMatchObject({
      queue: 'paging',
      state: 'waiting',
      payloadPreview: '{"n":0}',
      attemptsMade: 0,
    });
  });

  it('refuses bad paging with core’s CONFIG code (400)', async () => {
    for (const query of ['offset=-1', 'limit=0', 'limit=5000', 'limit=abc', 'offset=1.5']) {
      const res = await api.get<ErrorBody>(`/api/queues/paging/jobs?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.error.code, query).toBe('CONFIG');
    }
  });

  it('refuses invalid queue names with 400 INVALID_QUEUE_NAME before the backend sees them', async () => {
    for (const name of [
      'bad%20name',
      encodeURIComponent('<script>'),
      'x'.repeat(201),
      encodeURIComponent('a/b'),
    ]) {
      const res = await api.get<ErrorBody>(`/api/queues/${name}/jobs`);
      expect(res.status, name).toBe(400);
      expect(res.body.error).toMatchObject({ status: 400, code: 'INVALID_QUEUE_NAME' });
    }
    const res = await api.post<ErrorBody>('/api/queues/bad%20name/retry', { all: true }, { token: TOKEN });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('INVALID_QUEUE_NAME');
  });

  it('refuses other bad input with 400 and a code', async () => {
    const state = await api.get<ErrorBody>('/api/queues/paging/jobs?state=finished');
    expect([state.status, state.body.error.code]).toEqual([400, 'CONFIG']);
    const encoding = await api.get<ErrorBody>('/api/queues/%E0%A4%A/jobs');
    expect([encoding.status, encoding.body.error.code]).toEqual([400, 'BAD_REQUEST']);
    const id = await api.get<ErrorBody>('/api/queues/paging/jobs/a%00b');
    expect([id.status, id.body.error.code]).toEqual([400, 'BAD_REQUEST']);
  });

  it('shows one job, and 404 JOB_NOT_FOUND for one that is not there', async () => {
    const found = await api.get<JobDetail>(`/api/queues/paging/jobs/${ids[3]}`);
    expect(found.status).toBe(200);
    expect(found.body).toMatchObject({ id: ids[3], state: 'waiting', payload: { ok: true, json: { n: 3 } } });
    const missing = await api.get<ErrorBody>('/api/queues/paging/jobs/no-such-job');
    expect([missing.status, missing.body.error.code]).toEqual([404, 'JOB_NOT_FOUND']);
    // a job of another queue is not found through this one
    const elsewhere = await api.get<ErrorBody>(`/api/queues/other/jobs/${ids[3]}`);
    expect(elsewhere.status).toBe(404);
  });

  it('answers unknown paths with 404 and wrong methods with 405', async () => {
    const unknown = await api.get<ErrorBody>('/api/nothing');
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'NOT_FOUND']);
    const method = await api.post<ErrorBody>('/api/queues', {}, { token: TOKEN });
    expect([method.status, method.body.error.code]).toEqual([405, 'METHOD_NOT_ALLOWED']);
    expect(method.headers.get('allow')).toBe('GET');
  });

  it('keeps a bounded history and samples after a change', async () => {
    const before = await api.get<HistoryResponse>('/api/history');
    expect(before.body.samples.length).toBeGreaterThanOrEqual(1);
    const last = before.body.samples.at(-1)!;
    expect(last.queues['paging']).toMatchObject({ waiting: 45 });
  });
});

describe('API: the write gate', () => {
  let backend: Backend;
  let api: TestApi;
  let readOnly: TestApi;
  let open: TestApi;
  let dead: string[];
  beforeAll(async () => {
    backend = createMemoryBackend();
    dead = [];
    for (let i = 0; i < 4; i++)
      dead.push(await addDeadJob(backend, 'gate', { i }, { message: `failed ${i}` }));
    api = await startApi({ backend, token: TOKEN });
    readOnly = await startApi({ backend, token: TOKEN, readOnly: true });
    open = await startApi({ backend });
  });
  afterAll(async () => {
    await api.close();
    await readOnly.close();
    await open.close();
    await backend.close();
  });

  it('needs the token: none or a wrong one is 401, never a change', async () => {
    const none = await api.post<ErrorBody>('/api/queues/gate/retry', { ids: [dead[0]] });
    expect([none.status, none.body.error.code]).toEqual([401, 'UNAUTHORIZED']);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const wrong = await api.post<ErrorBody>(
      '/api/queues/gate/retry',
      { ids: [dead[0]] },
      { token: 'not-the-token' },
    );
    expect([wrong.status, wrong.body.error.code]).toEqual([401, 'UNAUTHORIZED']);
    const check = await api.post<ErrorBody>('/api/token-check', {}, { token: 'not-the-token' });
    expect(check.status).toBe(401);
    expect((await backend.inspector!.counts('gate')).dead).toBe(4);
  });

  it('read-only refuses every write with 403 READ_ONLY, token or not', async () => {
    for (const [path, body] of [
      ['/api/queues/gate/retry', { all: true }],
      ['/api/queues/gate/delete', { state: 'dead', all: true }],
      ['/api/queues/gate/purge', { confirm: 'gate' }],
      ['/api/queues/gate/pause', {}],
      ['/api/token-check', {}],
    ] as const) {
      const res = await readOnly.post<ErrorBody>(path, body, { token: TOKEN });
      expect(res.status, path).toBe(403);
      expect(res.body.error.code, path).toBe('READ_ONLY');
    }
    const meta = await readOnly.get<MetaResponse>('/api/meta');
    expect(meta.body.readOnly).toBe(true);
    expect((await backend.inspector!.counts('gate')).dead).toBe(4);
  });

  it('refuses cross-site writes even without a token configured', async () => {
    const origin = await open.post<ErrorBody>(
      '/api/queues/gate/retry',
      { all: true },
      { headers: { origin: 'http://evil.example' } },
    );
    expect([origin.status, origin.body.error.code]).toEqual([403, 'FORBIDDEN']);
    const site = await open.post<ErrorBody>(
      '/api/queues/gate/retry',
      { all: true },
      { headers: { 'sec-fetch-site': 'cross-site' } },
    );
    expect(site.status).toBe(403);
    const form = await fetch(`${open.dashboard.url}/api/queues/gate/retry`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{"all":true}',
    });
    expect(form.status).toBe(415);
    expect((await backend.inspector!.counts('gate')).dead).toBe(4);
  });

  it('answers only loopback Host names (DNS rebinding)', async () => {
    const evil = await getWithHost(api.dashboard.url, '/api/meta', 'evil.example');
    expect(evil.status).toBe(403);
    expect(JSON.parse(evil.body)).toMatchObject({ error: { code: 'FORBIDDEN' } });
    const local = await getWithHost(api.dashboard.url, '/api/meta', `localhost:${api.dashboard.port}`);
    expect(local.status).toBe(200);
  });

  it('retries selected dead jobs, then all; "all" must be said explicitly', async () => {
    const missing = await api.post<ErrorBody>('/api/queues/gate/retry', {}, { token: TOKEN });
    expect([missing.status, missing.body.error.code]).toEqual([400, 'BAD_REQUEST']);
    const empty = await api.post<ErrorBody>('/api/queues/gate/retry', { ids: [] }, { token: TOKEN });
    expect(empty.status).toBe(400);
    const badIds = await api.post<ErrorBody>('/api/queues/gate/retry', { ids: [42] }, { token: TOKEN });
    expect(badIds.status).toBe(400);
    const notJson = await fetch(`${api.dashboard.url}/api/queues/gate/retry`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: '{ids:',
    });
    expect(notJson.status).toBe(400);

    const one = await api.post<ActionResponse>(
      '/api/queues/gate/retry',
      { ids: [dead[0]] },
      { token: TOKEN },
    );
    expect(one.body).toEqual({ ok: true, affected: 1 });
    expect(await backend.inspector!.counts('gate')).toMatchObject({ dead: 3, waiting: 1 });
    const rest = await api.post<ActionResponse>('/api/queues/gate/retry', { all: true }, { token: TOKEN });
    expect(rest.body.affected).toBe(3);
    expect(await backend.inspector!.counts('gate')).toMatchObject({ dead: 0, waiting: 4 });
    // the action sampled at once: the history already shows it
    const history = await api.get<HistoryResponse>('/api/history');
    expect(history.body.samples.at(-1)?.queues['gate']).toMatchObject({ dead: 0, waiting: 4 });
  });

  it('deletes jobs of a state (not active), selected or all', async () => {
    const active = await api.post<ErrorBody>(
      '/api/queues/gate/delete',
      { state: 'active', all: true },
      { token: TOKEN },
    );
    expect([active.status, active.body.error.code]).toEqual([400, 'CONFIG']);
    const noState = await api.post<ErrorBody>('/api/queues/gate/delete', { all: true }, { token: TOKEN });
    expect(noState.status).toBe(400);
    const one = await api.post<ActionResponse>(
      '/api/queues/gate/delete',
      { state: 'waiting', ids: [dead[1]] },
      { token: TOKEN },
    );
    expect(one.body.affected).toBe(1);
    const all = await api.post<ActionResponse>(
      '/api/queues/gate/delete',
      { state: 'waiting', all: true },
      { token: TOKEN },
    );
    expect(all.body.affected).toBe(3);
    expect(await backend.inspector!.counts('gate')).toMatchObject({ waiting: 0, dead: 0 });
  });

  it('purges only with the queue name repeated', async () => {
    const client = new Client(backend);
    await client.addMany([
      { queue: 'purged', payload: 1 },
      { queue: 'purged', payload: 2 },
    ]);
    const wrong = await api.post<ErrorBody>(
      '/api/queues/purged/purge',
      { confirm: 'other' },
      { token: TOKEN },
    );
    expect([wrong.status, wrong.body.error.code]).toEqual([400, 'BAD_REQUEST']);
    const ok = await api.post<ActionResponse>(
      '/api/queues/purged/purge',
      { confirm: 'purged' },
      { token: TOKEN },
    );
    expect(ok.body.affected).toBe(2);
  });

  it('answers pause/resume with 501 UNSUPPORTED_FEATURE when the backend lacks them', async () => {
    const res = await api.post<ErrorBody>('/api/queues/gate/pause', {}, { token: TOKEN });
    expect([res.status, res.body.error.code]).toEqual([501, 'UNSUPPORTED_FEATURE']);
    expect(res.body.error.message).toContain('memory backend');
  });
});

/** A backend that announces no inspection at all, like a message broker might. */
function blindBackend(): Backend {
  const inner = createMemoryBackend();
  return {
    name: 'amqp',
    capabilities: {
      ...inner.capabilities,
      inspect: { counts: false, list: false, retryDead: false, deleteJobs: false, purge: false },
    },
    push: (jobs) => inner.push(jobs),
    pop: (queues, options) => inner.pop(queues, options),
    ack: (job) => inner.ack(job),
    requeue: (job, options) => inner.requeue(job, options),
    extend: (job, ms) => inner.extend(job, ms),
    close: () => inner.close(),
  };
}

/** The memory backend with pause/resume, the way a backend could add them (see capabilities.ts). */
function pausableBackend(): Backend & { paused: Set<string> } {
  const inner = createMemoryBackend();
  const paused = new Set<string>();
  const inspector = Object.assign(Object.create(inner.inspector) as object, {
    pause: async (queue: string) => void paused.add(queue),
    resume: async (queue: string) => void paused.delete(queue),
    isPaused: async (queue: string) => paused.has(queue),
  });
  return Object.assign(Object.create(inner) as Backend, {
    paused,
    inspector,
    capabilities: { ...inner.capabilities, inspect: { ...inner.capabilities.inspect, pause: true } },
  });
}

describe('API: capabilities a backend lacks', () => {
  const apis: TestApi[] = [];
  afterEach(async () => {
    for (const api of apis.splice(0)) await api.close();
  });

  it('reports each missing feature with the backend’s name, and refuses its routes with 501', async () => {
    const backend = blindBackend();
    const api = await startApi({ backend, token: TOKEN });
    apis.push(api);
    const meta = await api.get<MetaResponse>('/api/meta');
    for (const [feature, support] of Object.entries(meta.body.features)) {
      expect(support.supported, feature).toBe(false);
      expect(support.reason, feature).toMatch(/not supported by the amqp backend$/);
    }
    // not an error: an empty list, and the features say why
    const queues = await api.get<QueuesResponse>('/api/queues');
    expect([queues.status, queues.body.queues]).toEqual([200, []]);
    const summary = await api.get<QueueSummary>('/api/queues/emails');
    expect(summary.body).toEqual({ name: 'emails', counts: null, paused: null });
    for (const [path, body] of [
      ['/api/queues/emails/retry', { all: true }],
      ['/api/queues/emails/delete', { state: 'dead', all: true }],
      ['/api/queues/emails/purge', { confirm: 'emails' }],
    ] as const) {
      const res = await api.post<ErrorBody>(path, body, { token: TOKEN });
      expect([res.status, res.body.error.code], path).toEqual([501, 'UNSUPPORTED_FEATURE']);
    }
    const list = await api.get<ErrorBody>('/api/queues/emails/jobs?state=dead');
    expect([list.status, list.body.error.code]).toEqual([501, 'UNSUPPORTED_FEATURE']);
    await backend.close();
  });

  it('offers pause/resume once a backend announces and implements them', async () => {
    const backend = pausableBackend();
    await new Client(backend).add('emails', {});
    const api = await startApi({ backend, token: TOKEN });
    apis.push(api);
    expect((await api.get<MetaResponse>('/api/meta')).body.features.pause).toEqual({ supported: true });
    expect((await api.post('/api/queues/emails/pause', {}, { token: TOKEN })).status).toBe(200);
    expect(backend.paused.has('emails')).toBe(true);
    expect((await api.get<QueueSummary>('/api/queues/emails')).body.paused).toBe(true);
    expect((await api.post('/api/queues/emails/resume', {}, { token: TOKEN })).status).toBe(200);
    expect((await api.get<QueueSummary>('/api/queues/emails')).body.paused).toBe(false);
    await backend.close();
  });
});

describe('API: the page and its headers', () => {
  let api: TestApi;
  let backend: Backend;
  beforeAll(async () => {
    backend = createMemoryBackend();
    api = await startApi({ backend });
  });
  afterAll(async () => {
    await api.close();
    await backend.close();
  });

  it('serves the page and its modules with a strict CSP', async () => {
    const page = await fetch(`${api.dashboard.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toBe(CONTENT_SECURITY_POLICY);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("require-trusted-types-for 'script'");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    const html = await page.text();
    // no inline script or style for the CSP to have to allow
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(html).not.toMatch(/\sstyle=/);
    const main = await fetch(`${api.dashboard.url}/assets/js/web/main.js`);
    expect([main.status, main.headers.get('content-type')]).toEqual([200, 'text/javascript; charset=utf-8']);
    const css = await fetch(`${api.dashboard.url}/assets/style.css`);
    expect(css.status).toBe(200);
  });

  it('sends the CSP on API answers and errors too, and nothing outside the asset list', async () => {
    const json = await fetch(`${api.dashboard.url}/api/meta`);
    expect(json.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(json.headers.get('cache-control')).toBe('no-store');
    const missing = await fetch(`${api.dashboard.url}/assets/js/web/main.ts`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    for (const path of [
      '/assets/js/../../package.json',
      '/assets/js/%2e%2e/%2e%2e/package.json',
      '/package.json',
    ]) {
      expect((await fetch(`${api.dashboard.url}${path}`)).status, path).toBe(404);
    }
  });

  it('streams samples over Server-Sent Events', async () => {
    const controller = new AbortController();
    const res = await fetch(`${api.dashboard.url}/api/events`, { signal: controller.signal });
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    // the stream opens with the latest sample
    for (let i = 0; i < 20 && !text.includes('event: sample'); i++) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    expect(text).toContain('event: sample');
    // a change made elsewhere shows up once sampled
    await new Client(backend).add('streamed', { hi: 1 });
    await api.dashboard.refresh();
    for (let i = 0; i < 20 && !text.includes('"streamed"'); i++) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    expect(text).toContain('"streamed":{"waiting":1');
    controller.abort();
  });
});

describe('API: every state lists', () => {
  it('lists each state the backend reports', async () => {
    const backend = createMemoryBackend();
    const client = new Client(backend);
    await client.add('states', { w: 1 });
    await client.add('states', { d: 1 }, { delay: 60_000 });
    await addDeadJob(backend, 'solo', { x: 1 }, { message: 'boom' });
    const api = await startApi({ backend });
    const seen: Record<string, number> = {};
    for (const state of ['waiting', 'delayed', 'active', 'completed', 'dead'] as JobState[]) {
      const res = await api.get<JobListResponse>(`/api/queues/states/jobs?state=${state}`);
      expect(res.status).toBe(200);
      seen[state] = res.body.jobs.length;
    }
    expect(seen).toEqual({ waiting: 1, delayed: 1, active: 0, completed: 0, dead: 0 });
    const dead = await api.get<JobListResponse>('/api/queues/solo/jobs?state=dead');
    expect(dead.body.jobs[0]?.lastError).toMatchObject({ message: 'boom', attempt: 1 });
    await api.close();
    await backend.close();
  });
});
