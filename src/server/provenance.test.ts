/**
 * The provenance routes on a real server: importing an exported task (and every refusal), then
 * verifying it (a blob edited on disk is named) and exporting it again as a tar the offline
 * verifier accepts.
 */
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { canonicalSha256, sha256Hex } from '../core/hash.ts';
import { RunManifest } from '../core/schemas/manifest.ts';
import type { ImportTaskResponse, TaskVerifyResponse } from '../core/schemas/provenance.ts';
import { Task } from '../core/schemas/task.ts';
import { TreeManifest } from '../core/schemas/tree.ts';
import { validExportFiles } from '../export/test-fixture.ts';
import { verifyExport } from '../export/verify.ts';
import { generateApiKey, hashApiKey } from './auth/api-keys.ts';
import { errorOf, sampleProject, sampleSpec, startTestServer } from './test-helpers.ts';
import type { TestServer } from './test-helpers.ts';

let t: TestServer;
let dir: string;
let ana: { authorization: string };
const files = new Map(validExportFiles());
const task = Task.parse(JSON.parse(files.get('task.json')!.toString()));
const manifest = RunManifest.parse(JSON.parse(files.get('run_manifest.json')!.toString()));
const tree = TreeManifest.parse(JSON.parse(files.get('snapshot/tree.json')!.toString()));
const log = files.get('logs/output.log')!;
const exportSha = sha256Hex('checksums');

beforeAll(async () => {
  t = await startTestServer();
  dir = await mkdtemp(join(tmpdir(), 'fetchml-prov-'));
  const key = generateApiKey();
  await t.server.keys.add(hashApiKey(key, { user: 'ana', role: 'researcher' }));
  ana = { authorization: `Bearer ${key}` };
});
afterAll(async () => {
  await t.cleanup();
  await rm(dir, { recursive: true, force: true });
});

const post = (url: string, payload: object, headers = ana) =>
  t.server.app.inject({ method: 'POST', url, headers, payload });
const body = (over: object = {}) => ({
  task,
  run_manifest: manifest,
  log_sha256: sha256Hex(log),
  export_sha256: exportSha,
  ...over,
});

describe('POST /v1/imports', () => {
  it('refuses until the snapshot and blobs are uploaded, naming what is missing', async () => {
    const noCommit = await post('/v1/imports', body());
    expect(errorOf(noCommit)).toMatchObject({ code: 'ML_ERR_COMMIT_NOT_FOUND' });
    expect(errorOf(noCommit).message).toContain(task.commit_id);
    for (const [name, data] of files)
      if (name.startsWith('snapshot/files/')) await t.deps.blobs.put(data);
    await t.deps.store.putCommit(canonicalSha256(tree), tree);
    const noBlobs = await post('/v1/imports', body());
    expect(errorOf(noBlobs)).toMatchObject({
      code: 'ML_ERR_BLOB_NOT_FOUND',
      message: 'upload these blobs first: artifact model.json, the log',
    });
    expect(await t.deps.store.getTask(task.id)).toBeNull();
  });

  it('refuses inconsistent records naming the field', async () => {
    await t.deps.blobs.put(files.get('artifacts/model.json')!);
    await t.deps.blobs.put(log);
    const cases: Array<[object, string]> = [
      [
        { task: { ...task, status: 'running' } },
        'task.status: running: only finished tasks can be imported',
      ],
      [
        { run_manifest: { ...manifest, task_id: 'task_01JD3Q3Z4X6V0000000000000B' } },
        'run_manifest.task_id',
      ],
      [
        { task: { ...task, plan: { ...task.plan, args: ['--evil'] } } },
        'task.plan: does not hash to plan_sha256',
      ],
    ];
    for (const [over, message] of cases) {
      const res = await post('/v1/imports', body(over));
      expect(res.statusCode).toBe(400);
      expect(errorOf(res).message).toContain(message);
    }
    expect(await t.deps.store.getTask(task.id)).toBeNull();
  });

  it('records an imported, read-only task owned by the importer; again is a no-op', async () => {
    const res = await post('/v1/imports', body());
    expect(res.statusCode).toBe(201);
    const out = res.json<ImportTaskResponse>();
    expect(out.task).toMatchObject({
      id: task.id,
      user: 'ana',
      status: 'completed',
      labels: ['imported'],
      plan_sha256: task.plan_sha256,
    });
    expect(await readFile(join(t.home, 'experiments', task.id, 'logs', 'output.log'), 'utf8')).toBe(
      'hello\n',
    );
    const record = JSON.parse(
      await readFile(join(t.home, 'experiments', task.id, 'imported.json'), 'utf8'),
    ) as Record<string, unknown>;
    expect(record).toMatchObject({
      export_sha256: exportSha,
      imported_by: 'ana',
      original_user: 'alice',
    });

    const again = await post('/v1/imports', body());
    expect(again.statusCode).toBe(200);
    expect(again.json<ImportTaskResponse>().created).toBe(false);
    const other = await post('/v1/imports', body({ export_sha256: sha256Hex('other') }));
    expect(errorOf(other)).toMatchObject({
      code: 'ML_ERR_CONFLICT',
      message: `task ${task.id} already exists on this server (imported from another export)`,
    });
    // Read-only: cancelling a finished task changes nothing.
    const cancel = await post(`/v1/tasks/${task.id}/cancel`, {});
    expect(cancel.json<{ outcome: string }>().outcome).toBe('already_finished');
  });
});

describe('verify and export', () => {
  it('verify re-checks plan, manifest, snapshot and artifacts; an edited blob is named', async () => {
    const ok = (await post(`/v1/tasks/${task.id}/verify`, {})).json<TaskVerifyResponse>();
    expect(ok.ok).toBe(true);
    expect(ok.items.map((i) => i.name)).toEqual([
      'plan',
      'run manifest',
      `snapshot ${task.commit_id}`,
      'artifacts',
    ]);

    const sha = sha256Hex(files.get('snapshot/files/train.py')!);
    const path = t.deps.blobs.localPath!(sha);
    await chmod(path, 0o644);
    const original = await readFile(path);
    await writeFile(path, 'print("tampered")\n');
    const bad = (await post(`/v1/tasks/${task.id}/verify`, {})).json<TaskVerifyResponse>();
    expect(bad.ok).toBe(false);
    expect(bad.items.filter((i) => !i.ok).map((i) => `${i.name}: ${i.problem}`)).toEqual([
      `snapshot ${task.commit_id}: 1 of 2 files changed or missing`,
      `snapshot file train.py: content changed: the stored bytes hash to ${sha256Hex('print("tampered")\n')}, not ${sha}`,
    ]);
    await writeFile(path, original);
  });

  it('export streams a tar that verifies offline and names the same task', async () => {
    const res = await t.server.app.inject({
      method: 'GET',
      url: `/v1/tasks/${task.id}/export`,
      headers: ana,
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-tar');
    expect(Number(res.headers['x-fetchml-export-bytes'])).toBeGreaterThan(0);
    const path = join(dir, 'again.tar');
    await writeFile(path, res.rawPayload);
    const v = await verifyExport(path);
    expect(v.task.id).toBe(task.id);
    expect(v.task.labels).toEqual(['imported']);
    expect(v.manifest).toEqual(manifest);
  });

  it('export of a task that never ran is refused; of an unknown task, not found', async () => {
    const project = sampleProject();
    await t.deps.blobs.put(project.data, project.sha);
    await t.deps.store.putCommit(project.commitId, project.manifest);
    const queued = await post('/v1/tasks', { commit_id: project.commitId, spec: sampleSpec });
    const id = queued.json<{ id: string }>().id;
    const early = await t.server.app.inject({
      method: 'GET',
      url: `/v1/tasks/${id}/export`,
      headers: ana,
    });
    expect(early.statusCode).toBe(409);
    expect(errorOf(early)).toMatchObject({
      code: 'ML_ERR_TASK_STATE',
      message: `task ${id} is queued: export it once it has finished`,
    });
    const none = await t.server.app.inject({
      method: 'GET',
      url: '/v1/tasks/task_01JD3Q3Z4X6V00000000000009/export',
      headers: t.auth,
    });
    expect(errorOf(none).code).toBe('ML_ERR_TASK_NOT_FOUND');
  });
});
