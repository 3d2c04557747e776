import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { taskFiles } from '../core/layout.ts';
import { sha256Hex } from '../core/hash.ts';
import type { RunManifest } from '../core/schemas/manifest.ts';
import type { Task } from '../core/schemas/task.ts';
import { completeUtf8Length } from './log-file.ts';
import { errorOf, sampleProject, sampleSpec, startTestServer } from './test-helpers.ts';
import type { TestServer } from './test-helpers.ts';

let t: TestServer;
let task: Task;
const LOG = 'step 1 ✓\nstep 2 — naïve 🚀\ndone\n';

beforeAll(async () => {
  t = await startTestServer();
  const project = sampleProject();
  await t.deps.blobs.put(project.data, project.sha);
  await t.deps.store.putCommit(project.commitId, project.manifest);
  const res = await t.server.app.inject({
    method: 'POST',
    url: '/v1/tasks',
    headers: t.auth,
    payload: { commit_id: project.commitId, spec: sampleSpec },
  });
  task = res.json<Task>();
  const files = taskFiles(t.home);
  await mkdir(dirname(files.logPath(task.id)), { recursive: true });
  await writeFile(files.logPath(task.id), LOG);
});
afterAll(() => t.cleanup());

const get = (url: string) => t.server.app.inject({ method: 'GET', url, headers: t.auth });

describe('logs', () => {
  it('never splits a UTF-8 character', () => {
    const buf = Buffer.from('a🚀');
    expect(completeUtf8Length(buf.subarray(0, 3))).toBe(1);
    expect(completeUtf8Length(buf)).toBe(5);
  });

  it('reads the log in ranges that stitch back to the file', async () => {
    let offset = 0;
    let text = '';
    for (let i = 0; i < 100; i++) {
      const body = (await get(`/v1/tasks/${task.id}/logs?offset=${offset}&limit=5`)).json<{
        text: string;
        next_offset: number;
        eof: boolean;
        finished: boolean;
      }>();
      text += body.text;
      offset = body.next_offset;
      expect(body.finished).toBe(false); // still queued
      if (body.eof) break;
    }
    expect(text).toBe(LOG);
    expect(offset).toBe(Buffer.byteLength(LOG));
  });

  it('reports finished once the task is terminal and the end is reached', async () => {
    const other = await get(`/v1/tasks/${task.id}/logs?offset=0`);
    expect(other.json()).toMatchObject({ eof: true, finished: false, status: 'queued', text: LOG });
    const bad = await get(`/v1/tasks/${task.id}/logs?offset=-1`);
    expect(bad.statusCode).toBe(400);
    expect(errorOf(bad).message).toContain('offset');
  });
});

describe('artifacts and manifest', () => {
  const model = Buffer.from('weights');
  it('is 404 ML_ERR_MANIFEST_NOT_FOUND before the worker writes it', async () => {
    const res = await get(`/v1/tasks/${task.id}/artifacts`);
    expect(res.statusCode).toBe(404);
    expect(errorOf(res).code).toBe('ML_ERR_MANIFEST_NOT_FOUND');
  });

  it('lists and streams artifacts named in the run manifest', async () => {
    const sha = sha256Hex(model);
    await t.deps.blobs.put(model, sha);
    const manifest: RunManifest = {
      schema_version: 1,
      task_id: task.id,
      name: task.name,
      user: task.user,
      status: 'completed',
      attempt: 1,
      plan: task.plan,
      plan_sha256: task.plan_sha256,
      repro_policy: task.repro_policy,
      trust_level: task.trust_level,
      commit_id: task.commit_id,
      experiment_manifest_sha256: task.plan.experiment_manifest_sha256,
      deps_manifest: null,
      datasets: [],
      image: { reference: null, digest: null },
      resources: {
        requested: task.resources,
        assigned: { cpus: 1, memory_mb: 1024, gpu_indices: [] },
      },
      worker: { id: 'w1', host: 'h', runtime: 'process', version: '0.1.0' },
      warnings: [],
      lifecycle: {
        queued_at: task.queued_at,
        started_at: task.queued_at,
        ended_at: task.queued_at,
        exit_code: 0,
      },
      error: null,
      artifacts: [{ path: 'output/model.bin', size: model.length, sha256: sha }],
      metrics: {},
      environment: {},
    };
    await writeFile(taskFiles(t.home).manifestPath(task.id), JSON.stringify(manifest));
    expect((await get(`/v1/tasks/${task.id}/manifest`)).json()).toEqual(manifest);
    expect((await get(`/v1/tasks/${task.id}/artifacts`)).json()).toEqual({
      task_id: task.id,
      artifacts: manifest.artifacts,
    });
    const dl = await get(`/v1/tasks/${task.id}/artifacts/output/model.bin`);
    expect(dl.statusCode).toBe(200);
    expect(dl.rawPayload.equals(model)).toBe(true);
    expect(dl.headers['x-fetchml-sha256']).toBe(sha);
  });

  it('refuses unknown and hostile artifact paths', async () => {
    const unknown = await get(`/v1/tasks/${task.id}/artifacts/output/nope.bin`);
    expect(errorOf(unknown).code).toBe('ML_ERR_ARTIFACT_NOT_FOUND');
    const hostile = await get(`/v1/tasks/${task.id}/artifacts/output%2F..%2F..%2Fkeys.json`);
    expect(hostile.statusCode).toBe(400);
    expect(errorOf(hostile).code).toBe('ML_ERR_PATH_HOSTILE');
  });
});
