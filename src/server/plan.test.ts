/**
 * `POST /v1/plan` (what `ml explain` and `ml validate` show) against `POST /v1/tasks`: the same
 * inputs give the same plan and digest, and every refusal names what to fix and stores nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { sha256Hex } from '../core/hash.ts';
import type { PlanResponse } from '../core/schemas/api.ts';
import type { Task } from '../core/schemas/task.ts';
import { errorOf, sampleProject, sampleSpec, startTestServer } from './test-helpers.ts';
import type { TestServer } from './test-helpers.ts';

let t: TestServer;
const project = sampleProject();
beforeAll(async () => {
  t = await startTestServer();
  await t.deps.blobs.put(project.data, project.sha);
  await t.deps.store.putCommit(project.commitId, project.manifest);
});
afterAll(() => t.cleanup());

const post = (url: string, payload: unknown) =>
  t.server.app.inject({ method: 'POST', url, headers: t.auth, payload: payload as object });
const taskCount = async () =>
  Object.values(await t.deps.store.countTasksByStatus()).reduce((a, b) => a + b, 0);

describe('POST /v1/plan', () => {
  it('answers the plan POST /v1/tasks records, for a stored commit or an inline manifest', async () => {
    const body = { spec: sampleSpec, args: ['--lr', '0.1'], resources: { cpus: 2 } };
    const byId = await post('/v1/plan', { ...body, commit_id: project.commitId });
    expect(byId.statusCode).toBe(200);
    const plan = byId.json<PlanResponse>();
    expect(plan).toMatchObject({
      commit_id: project.commitId,
      commit_stored: true,
      trust_level: 'pinned',
      blocked_by: [],
      warmed_candidate: null,
      warmed_exists: false,
    });
    expect(plan.plan.resources.cpus).toBe(2);
    const inline = (
      await post('/v1/plan', { ...body, manifest: project.manifest })
    ).json<PlanResponse>();
    expect(inline).toEqual(plan);

    const created = await post('/v1/tasks', { ...body, commit_id: project.commitId });
    expect(created.statusCode).toBe(201);
    const task = created.json<Task>();
    expect(task.plan_sha256).toBe(plan.plan_sha256);
    expect(task.plan).toEqual(plan.plan);
    expect(task.trust_level).toBe(plan.trust_level);
  });

  it('reports an unstored manifest as such and stores nothing', async () => {
    const other = sampleProject('print("other")\n');
    const res = await post('/v1/plan', { spec: sampleSpec, manifest: other.manifest });
    expect(res.json<PlanResponse>()).toMatchObject({
      commit_id: other.commitId,
      commit_stored: false,
    });
    expect(await t.deps.store.hasCommit(other.commitId)).toBe(false);
  });

  it('names the blocking checks and what to fix; the same submission is refused', async () => {
    const before = await taskCount();
    const spec = { name: 'demo', command: 'python3 train.py', datasets: [{ name: 'mnist' }] };
    const res = await post('/v1/plan', { spec, commit_id: project.commitId });
    const plan = res.json<PlanResponse>();
    expect(plan.blocked_by).toEqual([
      'deps manifest present',
      'datasets pinned by checksum',
      'datasets in the catalog',
    ]);
    expect(plan.trust_level).toBe('unverified');
    const deps = plan.checks.find((c) => c.name === 'deps manifest present');
    expect(deps?.message).toContain('no dependency manifest: add one to the project root');

    const refused = await post('/v1/tasks', { spec, commit_id: project.commitId });
    expect(refused.statusCode).toBe(422);
    expect(errorOf(refused).code).toBe('ML_ERR_PREFLIGHT_FAILED');
    expect(errorOf(refused).message).toContain('no dependency manifest');
    expect(errorOf(refused).message).toContain('mnist');
    expect(await taskCount()).toBe(before);
  });

  it('relaxed must be asked for, and records the lower trust level', async () => {
    const spec = { name: 'demo', command: 'python3 train.py' };
    const plan = (
      await post('/v1/plan', { spec, commit_id: project.commitId, repro_policy: 'relaxed' })
    ).json<PlanResponse>();
    expect(plan.blocked_by).toEqual([]);
    expect(plan.plan.repro_policy).toBe('relaxed');
    expect(plan.trust_level).toBe('unverified');
    const res = await post('/v1/tasks', {
      spec,
      commit_id: project.commitId,
      repro_policy: 'relaxed',
    });
    expect(res.statusCode).toBe(201);
    expect(res.json<Task>()).toMatchObject({
      repro_policy: 'relaxed',
      trust_level: 'unverified',
      plan_sha256: plan.plan_sha256,
    });
  });

  it('blocks resources no registered worker could ever provide', async () => {
    await t.deps.store.upsertWorker({
      id: 'w-small',
      host: 'h',
      runtime: 'process',
      resources: { cpus: 4, memory_mb: 8192, gpus: 0 },
      labels: [],
      version: 'test',
      last_seen_at: new Date().toISOString(),
      status: 'offline',
    });
    const before = await taskCount();
    const body = { spec: sampleSpec, commit_id: project.commitId, resources: { gpus: 1 } };
    const plan = (await post('/v1/plan', body)).json<PlanResponse>();
    expect(plan.blocked_by).toEqual(['resources within worker limits']);
    const refused = await post('/v1/tasks', body);
    expect(refused.statusCode).toBe(422);
    expect(errorOf(refused).message).toContain(
      'asks 1 cpus, 1.0 GiB, 1 gpus, but no registered worker has that much (the largest offer 4 cpus, 8.0 GiB, 0 gpus)',
    );
    expect(await taskCount()).toBe(before);
    const fits = await post('/v1/plan', { ...body, resources: { cpus: 4 } });
    expect(fits.json<PlanResponse>().blocked_by).toEqual([]);
  });

  it('shows the catalog check POST /v1/tasks refuses an unknown dataset with', async () => {
    const before = await taskCount();
    const spec = {
      ...sampleSpec,
      datasets: [{ name: 'mnist', checksum: `sha256:${'a'.repeat(64)}` }],
    };
    for (const repro_policy of ['strict', 'relaxed'] as const) {
      const plan = (
        await post('/v1/plan', { spec, commit_id: project.commitId, repro_policy })
      ).json<PlanResponse>();
      expect(plan.blocked_by).toEqual(['datasets in the catalog']);
      expect(plan.checks.at(-1)?.message).toContain(
        'dataset mnist is not in the catalog of this server: upload it with `ml data upload <dir> --name mnist`',
      );
    }
    const refused = await post('/v1/tasks', { spec, commit_id: project.commitId });
    expect(errorOf(refused).code).toBe('ML_ERR_DATASET_NOT_FOUND');
    expect(await taskCount()).toBe(before);
  });

  it('refuses bad requests naming what is wrong', async () => {
    const both = await post('/v1/plan', {
      spec: sampleSpec,
      commit_id: project.commitId,
      manifest: project.manifest,
    });
    expect(both.statusCode).toBe(400);
    expect(errorOf(both).message).toContain('give exactly one of commit_id or manifest');
    const neither = await post('/v1/plan', { spec: sampleSpec });
    expect(errorOf(neither).message).toContain('give exactly one of commit_id or manifest');

    const unknown = await post('/v1/plan', { spec: sampleSpec, commit_id: sha256Hex('nope') });
    expect(unknown.statusCode).toBe(404);
    expect(errorOf(unknown)).toMatchObject({ code: 'ML_ERR_COMMIT_NOT_FOUND' });
    expect(errorOf(unknown).message).toContain(sha256Hex('nope'));

    const policy = await post('/v1/plan', {
      spec: sampleSpec,
      commit_id: project.commitId,
      repro_policy: 'lax',
    });
    expect(policy.statusCode).toBe(400);
    expect(errorOf(policy).message).toContain('repro_policy');

    const hostile = await post('/v1/plan', {
      spec: sampleSpec,
      manifest: {
        version: 1,
        entries: [{ path: '../x', type: 'file', mode: 0o644, size: 1, sha256: sha256Hex('x') }],
      },
    });
    expect(hostile.statusCode).toBe(400);
    expect(errorOf(hostile)).toMatchObject({ code: 'ML_ERR_PATH_HOSTILE' });
    expect(errorOf(hostile).message).toContain('manifest.entries.0.path');
  });
});
