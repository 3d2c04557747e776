/**
 * `GET /v1/compare` refusals and ownership: every refusal names the task or field, and a task the
 * caller may not read answers like one that does not exist. (The comparison itself is exercised
 * end to end with real runs in cli/provenance.test.ts.)
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { taskFiles } from '../core/layout.ts';
import type { CompareResponse } from '../core/schemas/compare.ts';
import type { Task } from '../core/schemas/task.ts';
import { buildManifest, writeManifest } from '../worker/manifest-writer.ts';
import { generateApiKey, hashApiKey } from './auth/api-keys.ts';
import { errorOf, sampleProject, sampleSpec, startTestServer } from './test-helpers.ts';
import type { TestServer } from './test-helpers.ts';

let t: TestServer;
let ran: Task;
let queued: Task;
let other: string;
const project = sampleProject();

const get = (url: string, key?: string) =>
  t.server.app.inject({
    method: 'GET',
    url,
    headers: key ? { authorization: `Bearer ${key}` } : t.auth,
  });

beforeAll(async () => {
  t = await startTestServer();
  await t.deps.blobs.put(project.data, project.sha);
  await t.deps.store.putCommit(project.commitId, project.manifest);
  const submit = async () =>
    (
      await t.server.app.inject({
        method: 'POST',
        url: '/v1/tasks',
        headers: t.auth,
        payload: { commit_id: project.commitId, spec: sampleSpec },
      })
    ).json<Task>();
  ran = await submit();
  queued = await submit();
  const manifest = buildManifest({
    task: ran,
    status: 'completed',
    attempt: 1,
    worker: { id: 'w', host: 'h', runtime: 'process', version: 'test' },
    imageDigest: null,
    assigned: { cpus: 1, memory_mb: 1024, gpu_indices: [] },
    warnings: [],
    startedAt: ran.queued_at,
    endedAt: ran.queued_at,
    exitCode: 0,
    error: null,
    artifacts: [],
    metrics: { loss: 0.5 },
    environment: {},
  });
  const file = taskFiles(t.home).manifestPath(ran.id);
  await mkdir(dirname(file), { recursive: true });
  await writeManifest(file, manifest);
  other = generateApiKey();
  await t.server.keys.add(hashApiKey(other, { user: 'bo', role: 'researcher' }));
});
afterAll(() => t.cleanup());

describe('GET /v1/compare', () => {
  it('compares a run with itself', async () => {
    const res = await get(`/v1/compare?a=${ran.id}&b=${ran.id}&diff=true`);
    expect(res.statusCode).toBe(200);
    const body = res.json<CompareResponse>();
    expect(body.same_plan).toBe(true);
    expect(body.code).toEqual({ same: true, unchanged: 1, files: [] });
    expect(body.metrics).toEqual([{ key: 'loss', a: 0.5, b: 0.5, delta: 0, same: true }]);
  });

  it('names a task that has no run manifest yet', async () => {
    const res = await get(`/v1/compare?a=${ran.id}&b=${queued.id}`);
    expect(res.statusCode).toBe(404);
    expect(errorOf(res)).toMatchObject({
      code: 'ML_ERR_MANIFEST_NOT_FOUND',
      message: `task ${queued.id} has no run manifest yet`,
    });
  });

  it('refuses bad queries naming the field', async () => {
    const missing = await get(`/v1/compare?a=${ran.id}`);
    expect(missing.statusCode).toBe(400);
    expect(errorOf(missing).message).toContain('b:');
    const diff = await get(`/v1/compare?a=${ran.id}&b=${ran.id}&diff=maybe`);
    expect(errorOf(diff).message).toContain('diff: must be true or false');
    const bad = await get(`/v1/compare?a=${ran.id}&b=../etc`);
    expect(bad.statusCode).toBe(404);
    expect(errorOf(bad).message).toBe('no such task: "../etc"');
  });

  it("answers another user's task like an unknown one", async () => {
    const res = await get(`/v1/compare?a=${ran.id}&b=${ran.id}`, other);
    expect(res.statusCode).toBe(404);
    expect(errorOf(res)).toMatchObject({
      code: 'ML_ERR_TASK_NOT_FOUND',
      message: `no such task: ${ran.id}`,
    });
  });
});
