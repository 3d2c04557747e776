/**
 * `/metrics`, `/healthz` and `/readyz` on a real server over HTTPS (port 0), on real embedded
 * backends: the exposition text is parsed and checked sample by sample; the Grafana dashboard in
 * deploy/ may use only metric names the server exposes.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Task } from '../core/schemas/task.ts';
import { generateApiKey, hashApiKey } from './auth/api-keys.ts';
import { errorOf, sampleProject, sampleSpec, startTestServer } from './test-helpers.ts';
import type { TestServer } from './test-helpers.ts';

/** One sample of the exposition text. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses Prometheus text exposition: samples, and `# TYPE` per metric family. */
function parseExposition(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      types.set(type[1]!, type[2]!);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    expect(m, `not an exposition line: ${line}`).not.toBeNull();
    const labels: Record<string, string> = {};
    for (const l of (m![2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1]!] = l[2]!;
    }
    samples.push({ name: m![1]!, labels, value: Number(m![3]) });
  }
  return { samples, types };
}

/** The sum of the matching samples, 0 when there is none (a labelled series not yet observed). */
function sumOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const hit = samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  expect(hit.length, `${name}${JSON.stringify(labels)} in the exposition`).toBeGreaterThan(0);
  return hit.reduce((sum, s) => sum + s.value, 0);
}

let t: TestServer;
let base: string;
const keys: Record<string, string> = {};
// Stored before the first scrape: the blob numbers are computed then and cached for minutes.
const projectA = sampleProject();
const projectB = sampleProject('print(2)\n');

/** A GET over real HTTPS (the test trusts the server's self-signed certificate). */
function get(path: string, key?: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, {
      rejectUnauthorized: false,
      headers: key ? { authorization: `Bearer ${key}` } : {},
    });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          type: String(res.headers['content-type']),
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    req.end();
  });
}

async function scrape(): Promise<ReturnType<typeof parseExposition>> {
  const res = await get('/metrics', t.key);
  expect(res.status).toBe(200);
  expect(res.type).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(res.body);
}

beforeAll(async () => {
  t = await startTestServer();
  ({ url: base } = await t.server.listen());
  for (const role of ['viewer', 'researcher']) {
    const key = generateApiKey();
    await t.server.keys.add(hashApiKey(key, { user: role, role }));
    keys[role] = key;
  }
  for (const p of [projectA, projectB]) {
    await t.deps.blobs.put(p.data, p.sha);
    await t.deps.store.putCommit(p.commitId, p.manifest);
  }
});
afterAll(() => t.cleanup());

describe('GET /metrics access', () => {
  it('needs a key: none is 401, a role without metrics:read is 403, viewer and admin read it', async () => {
    const none = await get('/metrics');
    expect(none.status).toBe(401);
    expect(JSON.parse(none.body)).toMatchObject({ error: { code: 'ML_ERR_UNAUTHORIZED' } });
    const researcher = await get('/metrics', keys['researcher']);
    expect(researcher.status).toBe(403);
    const refused = JSON.parse(researcher.body) as { error: { code: string; message: string } };
    expect(refused.error.code).toBe('ML_ERR_FORBIDDEN');
    expect(refused.error.message).toContain('metrics:read');
    expect((await get('/metrics', keys['viewer'])).status).toBe(200);
    expect((await get('/metrics', t.key)).status).toBe(200);
  });
});

describe('metrics', () => {
  it('counts tasks per state, with dead ones', async () => {
    const project = projectA;
    const submit = async () => {
      const res = await t.server.app.inject({
        method: 'POST',
        url: '/v1/tasks',
        headers: t.auth,
        payload: { commit_id: project.commitId, spec: sampleSpec },
      });
      expect(res.statusCode).toBe(201);
      return res.json<Task>();
    };
    const a = await submit();
    await submit();
    const { samples } = await scrape();
    expect(value(samples, 'fetchml_tasks', { state: 'queued' })).toBeGreaterThanOrEqual(2);
    expect(value(samples, 'fetchml_tasks', { state: 'dead' })).toBe(0);
    expect(a.status).toBe('queued');
  });

  it('observes queue wait and run duration from task events', async () => {
    const project = projectB;
    const before = await scrape();
    const waits = value(before.samples, 'fetchml_task_queue_wait_seconds_count');
    const runs = sumOf(before.samples, 'fetchml_task_run_duration_seconds_count');

    const res = await t.server.app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: t.auth,
      payload: { commit_id: project.commitId, spec: sampleSpec, priority: 1000 },
    });
    const task = res.json<Task>();
    // What a worker does, on the real queue, store and event bus.
    const claim = await t.deps.queue.claim({
      worker_id: 'worker_m',
      free: { cpus: 64, memory_mb: 1 << 20, gpus: 0, labels: [] },
      lease_ms: 60_000,
    });
    expect(claim?.task_id).toBe(task.id);
    const startedAt = new Date(Date.parse(task.queued_at) + 3000).toISOString();
    await t.deps.store.markTaskRunning(task.id, {
      worker_id: 'worker_m',
      attempt: 1,
      started_at: startedAt,
    });
    await t.deps.events.publish({
      type: 'task.status',
      task_id: task.id,
      status: 'running',
      attempt: 1,
      exit_code: null,
      at: startedAt,
    });
    await t.deps.queue.complete(task.id, claim!.lease_id);
    const endedAt = new Date(Date.parse(startedAt) + 90_000).toISOString();
    await t.deps.store.finishTask(task.id, {
      status: 'completed',
      exit_code: 0,
      error: null,
      ended_at: endedAt,
    });
    await t.deps.events.publish({
      type: 'task.status',
      task_id: task.id,
      status: 'completed',
      attempt: 1,
      exit_code: 0,
      at: endedAt,
    });

    await expect
      .poll(async () => sumOf((await scrape()).samples, 'fetchml_task_run_duration_seconds_count'))
      .toBe(runs + 1);
    const { samples } = await scrape();
    expect(value(samples, 'fetchml_task_queue_wait_seconds_count')).toBe(waits + 1);
    // 3 s of waiting: in the 5 s bucket, not in the 2.5 s one.
    expect(value(samples, 'fetchml_task_queue_wait_seconds_bucket', { le: '2.5' })).toBe(
      value(before.samples, 'fetchml_task_queue_wait_seconds_bucket', { le: '2.5' }),
    );
    expect(value(samples, 'fetchml_task_queue_wait_seconds_bucket', { le: '5' })).toBe(
      value(before.samples, 'fetchml_task_queue_wait_seconds_bucket', { le: '5' }) + 1,
    );
    // 90 s of running, labelled by outcome.
    expect(
      value(samples, 'fetchml_task_run_duration_seconds_sum', { outcome: 'completed' }),
    ).toBeGreaterThanOrEqual(90);
  });

  it("reports each worker's heartbeat age and liveness, and workers per phase", async () => {
    const now = Date.now();
    const record = (id: string, ageMs: number, status: 'online' | 'offline') => ({
      id,
      host: 'box',
      runtime: 'sandbox',
      resources: { cpus: 4, memory_mb: 8192, gpus: 0 },
      labels: [],
      version: '0.1.0',
      last_seen_at: new Date(now - ageMs).toISOString(),
      status,
      heartbeat_ms: 2000,
    });
    await t.deps.store.upsertWorker(record('worker_fresh', 1000, 'online'));
    await t.deps.store.upsertWorker(record('worker_silent', 120_000, 'online'));
    await t.deps.store.upsertWorker(record('worker_gone', 600_000, 'offline'));
    const { samples } = await scrape();
    const age = (worker: string) =>
      value(samples, 'fetchml_worker_last_heartbeat_age_seconds', { worker });
    expect(age('worker_fresh')).toBeGreaterThanOrEqual(1);
    expect(age('worker_fresh')).toBeLessThan(60);
    expect(age('worker_silent')).toBeGreaterThanOrEqual(120);
    expect(value(samples, 'fetchml_worker_live', { worker: 'worker_fresh' })).toBe(1);
    expect(value(samples, 'fetchml_worker_live', { worker: 'worker_silent' })).toBe(0);
    // Offline workers are left out of the per-worker series, counted per phase.
    expect(
      samples.some(
        (s) => s.name.startsWith('fetchml_worker_') && s.labels['worker'] === 'worker_gone',
      ),
    ).toBe(false);
    expect(value(samples, 'fetchml_workers', { phase: 'offline' })).toBe(2);
    expect(value(samples, 'fetchml_workers', { phase: 'idle' })).toBe(1);
  });

  it('counts API requests and latency by route pattern and status', async () => {
    await t.server.app.inject({ method: 'GET', url: '/v1/tasks/task_NOPE', headers: t.auth });
    await t.server.app.inject({ method: 'GET', url: '/v1/whoami', headers: t.auth });
    await t.server.app.inject({ method: 'GET', url: '/no/such/route', headers: t.auth });
    const { samples, types } = await scrape();
    expect(types.get('fetchml_http_requests_total')).toBe('counter');
    expect(types.get('fetchml_http_request_duration_seconds')).toBe('histogram');
    expect(
      value(samples, 'fetchml_http_requests_total', {
        method: 'GET',
        route: '/v1/whoami',
        status: '200',
      }),
    ).toBeGreaterThanOrEqual(1);
    // The pattern, never the raw URL (ids would explode the label set).
    expect(
      value(samples, 'fetchml_http_requests_total', { route: '/v1/tasks/:id', status: '404' }),
    ).toBeGreaterThanOrEqual(1);
    expect(samples.some((s) => s.labels['route']?.includes('task_NOPE'))).toBe(false);
    expect(
      value(samples, 'fetchml_http_requests_total', { route: 'unmatched', status: '404' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      value(samples, 'fetchml_http_request_duration_seconds_count', { route: '/v1/whoami' }),
    ).toBeGreaterThanOrEqual(1);
  });

  it('counts authentication failures and denials by code', async () => {
    const before = (await scrape()).samples;
    const failures0 = value(before, 'fetchml_auth_failures_total');
    await get('/v1/whoami', 'fml_not_a_key');
    await get('/v1/users', keys['viewer']);
    const { samples } = await scrape();
    expect(value(samples, 'fetchml_auth_failures_total')).toBe(failures0 + 1);
    expect(
      value(samples, 'fetchml_auth_denials_total', { code: 'ML_ERR_UNAUTHORIZED' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      value(samples, 'fetchml_auth_denials_total', { code: 'ML_ERR_FORBIDDEN' }),
    ).toBeGreaterThanOrEqual(1);
  });

  it('reports blob store bytes and the dedup ratio of snapshots', async () => {
    const { samples } = await scrape();
    const bytes = value(samples, 'fetchml_blob_store_bytes');
    const logical = value(samples, 'fetchml_snapshot_logical_bytes');
    expect(bytes).toBeGreaterThan(0);
    expect(logical).toBe(projectA.data.length + projectB.data.length);
    expect(value(samples, 'fetchml_blob_dedup_ratio')).toBeCloseTo(logical / bytes, 6);
    expect(value(samples, 'fetchml_blob_store_blobs')).toBeGreaterThanOrEqual(2);
    expect(value(samples, 'fetchml_blob_stats_age_seconds')).toBeGreaterThanOrEqual(0);
  });

  it('registers the prewarm metrics before any worker prewarms', async () => {
    const { samples, types } = await scrape();
    expect(types.get('fetchml_prewarm_hits_total')).toBe('counter');
    expect(types.get('fetchml_prewarm_misses_total')).toBe('counter');
    expect(types.get('fetchml_prewarm_duration_seconds')).toBe('histogram');
    expect(types.get('fetchml_task_enqueue_to_start_seconds')).toBe('histogram');
    expect(value(samples, 'fetchml_prewarm_hits_total')).toBe(0);
  });
});

describe('bans in metrics', () => {
  let b: TestServer;
  beforeAll(async () => {
    b = await startTestServer({
      security: { ipAllowlist: ['0.0.0.0/0', '::/0'], banAfterFailures: 2, banMinutes: 60 },
    });
  });
  afterAll(() => b.cleanup());

  it('counts bans issued and the addresses banned now', async () => {
    for (let i = 0; i < 2; i++) {
      const res = await b.server.app.inject({
        method: 'GET',
        url: '/v1/whoami',
        remoteAddress: '203.0.113.77',
        headers: { authorization: 'Bearer fml_wrong' },
      });
      expect(res.statusCode).toBe(401);
    }
    const res = await b.server.app.inject({ method: 'GET', url: '/metrics', headers: b.auth });
    expect(res.statusCode).toBe(200);
    const { samples } = parseExposition(res.body);
    expect(value(samples, 'fetchml_bans_total')).toBe(1);
    expect(value(samples, 'fetchml_banned_addresses')).toBe(1);
    expect(value(samples, 'fetchml_auth_failures_total')).toBe(2);
  });
});

describe('GET /healthz and /readyz', () => {
  it('answer without a key while everything is reachable', async () => {
    const health = await get('/healthz');
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toEqual({ ok: true, version: '0.1.0' });
    const ready = await get('/readyz');
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toEqual({
      ok: true,
      version: '0.1.0',
      checks: { store: 'ok', queue: 'ok', blobs: 'ok' },
    });
  });

  it('/readyz is 503 naming the blob store when its directory is gone', async () => {
    const r = await startTestServer();
    try {
      const root = join(r.home, 'objects');
      await rm(root, { recursive: true, force: true });
      await writeFile(root, 'not a directory');
      const res = await r.server.app.inject({ method: 'GET', url: '/readyz' });
      expect(res.statusCode).toBe(503);
      const err = errorOf(res);
      expect(err.code).toBe('ML_ERR_UNAVAILABLE');
      expect(err.message).toMatch(/^not ready: blob store \(/);
      expect(err.message).not.toContain('metadata store');
      const checks = res.json<{ error: { details: { checks: Record<string, string> } } }>().error
        .details.checks;
      expect(checks).toMatchObject({ store: 'ok', queue: 'ok' });
      expect(checks['blobs']).not.toBe('ok');
      // /healthz does not touch the backends: still alive.
      expect((await r.server.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    } finally {
      await r.cleanup();
    }
  });

  it('/readyz is 503 naming the metadata store and the queue when they are closed', async () => {
    const r = await startTestServer();
    try {
      await r.deps.store.close();
      await r.deps.queue.close();
      const res = await r.server.app.inject({ method: 'GET', url: '/readyz' });
      expect(res.statusCode).toBe(503);
      expect(errorOf(res).message).toBe(
        'not ready: metadata store (read commit: store is closed); queue (read queue entry: queue is closed)',
      );
    } finally {
      await r.cleanup();
    }
  });
});

describe('deploy/grafana-dashboard.json', () => {
  it('is a Grafana dashboard whose every metric name the server exposes', async () => {
    const text = await readFile(
      new URL('../../deploy/grafana-dashboard.json', import.meta.url),
      'utf8',
    );
    const dashboard = JSON.parse(text) as {
      title: string;
      uid: string;
      schemaVersion: number;
      panels: Array<{ title: string; type: string; targets?: Array<{ expr: string }> }>;
    };
    expect(dashboard.title).toBe('fetchml');
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(30);
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((x) => x.expr));
    expect(exprs.length).toBeGreaterThan(10);
    const { types } = await scrape();
    const used = new Set(
      exprs.flatMap((e) => [...e.matchAll(/\bfetchml_[a-z0-9_]+/g)].map((m) => m[0])),
    );
    expect(used.size).toBeGreaterThan(10);
    for (const name of used) {
      const family = name.replace(/_(bucket|sum|count)$/, '');
      const known = types.has(name) || (family !== name && types.get(family) === 'histogram');
      expect(known, `${name} (used by the dashboard) is not exposed on /metrics`).toBe(true);
    }
    for (const p of dashboard.panels.filter((x) => x.type !== 'row')) {
      expect(p.targets?.length ?? 0, `panel ${p.title} has a query`).toBeGreaterThan(0);
    }
  });
});
