import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { sha256Hex } from '../core/hash.ts';
import { newId } from '../core/ids.ts';
import type { Task } from '../core/schemas/task.ts';
import { errorOf, sampleProject, sampleSpec, startTestServer } from './test-helpers.ts';
import type { TestServer } from './test-helpers.ts';

let t: TestServer;
const project = sampleProject();
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.cleanup());

const post = (url: string, payload: unknown) =>
  t.server.app.inject({ method: 'POST', url, headers: t.auth, payload: payload as object });
const get = (url: string) => t.server.app.inject({ method: 'GET', url, headers: t.auth });
const listOf = async (url: string) => (await get(url)).json<{ tasks: Task[] }>().tasks;

describe('commits', () => {
  it('refuses hostile paths with 400 ML_ERR_PATH_HOSTILE naming the entry', async () => {
    for (const path of ['../escape.py', '/etc/passwd', 'a/../../b', 'a//b']) {
      const manifest = {
        version: 1,
        entries: [{ path, type: 'file', mode: 0o644, size: 1, sha256: sha256Hex('x') }],
      };
      const res = await post('/v1/commits', { manifest });
      expect(res.statusCode).toBe(400);
      expect(errorOf(res).code).toBe('ML_ERR_PATH_HOSTILE');
      expect(errorOf(res).message).toContain('manifest.entries.0.path');
    }
    const link = {
      version: 1,
      entries: [{ path: 'l', type: 'symlink', target: '../../etc' }],
    };
    const res = await post('/v1/commits', { manifest: link });
    expect(errorOf(res)).toMatchObject({ code: 'ML_ERR_PATH_HOSTILE' });
  });

  it('answers missing blobs and stores the commit only once none is missing', async () => {
    const first = await post('/v1/commits', { manifest: project.manifest });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual({ commit_id: project.commitId, missing: [project.sha] });
    expect(errorOf(await get(`/v1/commits/${project.commitId}`)).code).toBe(
      'ML_ERR_COMMIT_NOT_FOUND',
    );
    await t.deps.blobs.put(project.data, project.sha);
    const second = await post('/v1/commits', { manifest: project.manifest });
    expect(second.json()).toEqual({ commit_id: project.commitId, missing: [] });
    const stored = await get(`/v1/commits/${project.commitId}`);
    expect(stored.json()).toEqual({ commit_id: project.commitId, manifest: project.manifest });
  });
});

describe('tasks', () => {
  let task: Task;

  it('refuses an invalid body with 400 naming the field', async () => {
    const res = await post('/v1/tasks', {
      commit_id: project.commitId,
      spec: { ...sampleSpec, resources: { memory: 'lots' } },
    });
    expect(res.statusCode).toBe(400);
    expect(errorOf(res).code).toBe('ML_ERR_VALIDATION');
    expect(errorOf(res).message).toContain('spec.resources.memory');
  });

  it('answers 404 ML_ERR_COMMIT_NOT_FOUND for an unknown commit', async () => {
    const res = await post('/v1/tasks', { commit_id: sha256Hex('nope'), spec: sampleSpec });
    expect(res.statusCode).toBe(404);
    expect(errorOf(res).code).toBe('ML_ERR_COMMIT_NOT_FOUND');
  });

  it('blocks a failing strict preflight with 422', async () => {
    const res = await post('/v1/tasks', {
      commit_id: project.commitId,
      spec: { ...sampleSpec, command: 'python3 missing.py' },
    });
    expect(res.statusCode).toBe(422);
    expect(errorOf(res).code).toBe('ML_ERR_PREFLIGHT_FAILED');
  });

  it('creates a queued task (201) in the store and the queue', async () => {
    const res = await post('/v1/tasks', {
      commit_id: project.commitId,
      spec: sampleSpec,
      priority: 5,
    });
    expect(res.statusCode).toBe(201);
    task = res.json<Task>();
    expect(task).toMatchObject({
      status: 'queued',
      user: 'admin',
      priority: 5,
      attempt: 0,
      max_attempts: 3,
    });
    expect(await t.deps.queue.get(task.id)).toMatchObject({ state: 'queued', priority: 5 });
    expect((await get(`/v1/tasks/${task.id}`)).json()).toEqual(task);
  });

  it('lists with filters', async () => {
    expect(await listOf('/v1/tasks?status=queued&user=admin')).toHaveLength(1);
    expect(await listOf('/v1/tasks?status=running&status=failed')).toHaveLength(0);
    expect(await listOf('/v1/tasks?name=other')).toHaveLength(0);
    const bad = await get('/v1/tasks?status=sleeping');
    expect(bad.statusCode).toBe(400);
    expect(errorOf(bad).message).toContain('status');
  });

  it('answers 404 ML_ERR_TASK_NOT_FOUND for unknown and malformed ids', async () => {
    for (const id of [newId('task'), 'nope', '..%2F..%2Fetc']) {
      const res = await get(`/v1/tasks/${id}`);
      expect(res.statusCode).toBe(404);
      expect(errorOf(res).code).toBe('ML_ERR_TASK_NOT_FOUND');
    }
  });

  it('says who the key belongs to', async () => {
    expect((await get('/v1/whoami')).json()).toEqual({
      user: 'admin',
      role: 'admin',
      version: '0.1.0',
    });
  });

  it('summarises in /v1/status', async () => {
    const res = await get('/v1/status');
    expect(res.json()).toMatchObject({ counts: { queued: 1, running: 0 }, workers: [] });
    expect(res.json<{ recent: Task[] }>().recent[0]?.id).toBe(task.id);
  });

  it('cancels a queued task, then reports it already finished', async () => {
    const res = await post(`/v1/tasks/${task.id}/cancel`, {});
    expect(res.json()).toMatchObject({
      task_id: task.id,
      outcome: 'removed',
      task: { status: 'cancelled' },
    });
    expect((await t.deps.queue.get(task.id))?.state).toBe('cancelled');
    const again = await post(`/v1/tasks/${task.id}/cancel`, {});
    expect(again.json<{ outcome: string }>().outcome).toBe('already_finished');
  });

  it('signals the worker when cancelling a running task', async () => {
    const res0 = await post('/v1/tasks', { commit_id: project.commitId, spec: sampleSpec });
    const created = res0.json<Task>();
    const claim = await t.deps.queue.claim({
      worker_id: 'w1',
      free: { cpus: 4, memory_mb: 8192, gpus: 0, labels: [] },
      lease_ms: 60_000,
    });
    expect(claim?.task_id).toBe(created.id);
    await t.deps.store.markTaskRunning(created.id, {
      worker_id: 'w1',
      attempt: 1,
      started_at: new Date().toISOString(),
    });
    const res = await post(`/v1/tasks/${created.id}/cancel`, {});
    expect(res.json()).toMatchObject({
      outcome: 'signalled',
      task: { cancel_requested: true, status: 'running' },
    });
  });
});
