/**
 * The dataset catalog routes on a real server (SQLite + fs blobs, app.inject): upload with
 * missing blobs, versions, list/show, verify (a blob edited on disk is named), ownership, bad
 * input, and the submission check (an unknown dataset or checksum blocks enqueueing).
 */
import { chmod, rm, writeFile } from 'node:fs/promises';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { canonicalSha256, sha256Hex } from '../core/hash.ts';
import type {
  CreateDatasetResponse,
  DatasetListResponse,
  DatasetShowResponse,
  DatasetVerifyResponse,
} from '../core/schemas/dataset.ts';
import type { TreeManifest } from '../core/schemas/tree.ts';
import { generateApiKey, hashApiKey } from './auth/api-keys.ts';
import { errorOf, sampleProject, sampleSpec, startTestServer } from './test-helpers.ts';
import type { TestServer } from './test-helpers.ts';

let t: TestServer;
const keys: Record<string, { authorization: string }> = {};

beforeAll(async () => {
  t = await startTestServer();
  for (const [user, role] of [
    ['ana', 'researcher'],
    ['bob', 'researcher'],
    ['vic', 'viewer'],
  ] as const) {
    const key = generateApiKey();
    await t.server.keys.add(hashApiKey(key, { user, role }));
    keys[user] = { authorization: `Bearer ${key}` };
  }
});
afterAll(() => t.cleanup());

const inject = (user: string, method: 'GET' | 'POST', url: string, payload?: object) =>
  t.server.app.inject({ method, url, headers: keys[user] ?? t.auth, payload });

/** A dataset tree of `files` (path → content) and the blobs it needs. */
function dataset(files: Record<string, string>) {
  const entries = Object.entries(files)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([path, content]) => ({
      path,
      type: 'file' as const,
      mode: 0o644 as const,
      size: Buffer.byteLength(content),
      sha256: sha256Hex(content),
    }));
  const manifest: TreeManifest = { version: 1, entries };
  return { manifest, checksum: `sha256:${canonicalSha256(manifest)}`, files };
}

async function upload(user: string, name: string, d: ReturnType<typeof dataset>) {
  const first = await inject(user, 'POST', '/v1/datasets', { name, manifest: d.manifest });
  if (first.statusCode !== 200 || first.json<CreateDatasetResponse>().dataset) return first;
  for (const content of Object.values(d.files)) await t.deps.blobs.put(content);
  return inject(user, 'POST', '/v1/datasets', { name, manifest: d.manifest });
}

describe('dataset catalog routes', () => {
  const v1 = dataset({ 'train.csv': 'a,b\n1,2\n', 'test.csv': 'a,b\n3,4\n' });
  const v2 = dataset({ 'train.csv': 'a,b\n1,2\n5,6\n', 'test.csv': 'a,b\n3,4\n' });

  it('stores nothing while blobs are missing, then records v1; same content is v1 again', async () => {
    const before = await inject('ana', 'POST', '/v1/datasets', {
      name: 'mnist',
      manifest: v1.manifest,
    });
    expect(before.statusCode).toBe(200);
    expect(before.json<CreateDatasetResponse>()).toMatchObject({ dataset: null, created: false });
    expect(before.json<CreateDatasetResponse>().missing).toHaveLength(2);
    expect(
      (await inject('ana', 'GET', '/v1/datasets')).json<DatasetListResponse>().datasets,
    ).toEqual([]);

    const created = await upload('ana', 'mnist', v1);
    expect(created.statusCode).toBe(201);
    expect(created.json<CreateDatasetResponse>().dataset).toMatchObject({
      name: 'mnist',
      version: 1,
      checksum: v1.checksum,
      files: 2,
      size: 16,
      creator: 'ana',
    });
    const again = await upload('ana', 'mnist', v1);
    expect(again.statusCode).toBe(200);
    expect(again.json<CreateDatasetResponse>()).toMatchObject({
      created: false,
      dataset: { version: 1 },
    });
  });

  it('changed content is a new version; list, show, show a version with its files', async () => {
    const res = await upload('ana', 'mnist', v2);
    expect(res.json<CreateDatasetResponse>().dataset).toMatchObject({
      version: 2,
      checksum: v2.checksum,
    });

    const list = (await inject('vic', 'GET', '/v1/datasets')).json<DatasetListResponse>();
    expect(list.datasets).toEqual([
      expect.objectContaining({ name: 'mnist', version: 2, versions: 2 }),
    ]);
    const show = (await inject('vic', 'GET', '/v1/datasets/mnist')).json<DatasetShowResponse>();
    expect(show.dataset.version).toBe(2);
    expect(show.versions.map((v) => v.version)).toEqual([2, 1]);
    expect(show.manifest).toBeUndefined();
    const old = (
      await inject('vic', 'GET', '/v1/datasets/mnist?version=1&files=1')
    ).json<DatasetShowResponse>();
    expect(old.dataset.checksum).toBe(v1.checksum);
    expect(old.manifest).toEqual(v1.manifest);
  });

  it('an unknown name or version is ML_ERR_DATASET_NOT_FOUND saying what to do', async () => {
    const none = await inject('ana', 'GET', '/v1/datasets/cifar');
    expect(none.statusCode).toBe(404);
    expect(errorOf(none)).toMatchObject({
      code: 'ML_ERR_DATASET_NOT_FOUND',
      message:
        'no dataset named cifar (ml data list shows the catalog; ml data upload <dir> --name cifar adds it)',
    });
    const v9 = await inject('ana', 'GET', '/v1/datasets/mnist?version=9');
    expect(errorOf(v9).message).toBe(
      'dataset mnist has no version 9 (ml data show mnist lists its versions)',
    );
    const verify = await inject('ana', 'POST', '/v1/datasets/cifar/verify', {});
    expect(errorOf(verify).code).toBe('ML_ERR_DATASET_NOT_FOUND');
  });

  it('verify re-hashes every blob: an edited or missing blob file is named by its path', async () => {
    const ok = (
      await inject('vic', 'POST', '/v1/datasets/mnist/verify', {})
    ).json<DatasetVerifyResponse>();
    expect(ok).toMatchObject({ ok: true, checked_files: 2, problems: [] });

    const d = dataset({ 'labels.txt': 'cat\ndog\n', 'images.bin': 'xxxxxxxx' });
    await upload('ana', 'pets', d);
    const sha = sha256Hex('cat\ndog\n');
    const path = t.deps.blobs.localPath!(sha);
    await chmod(path, 0o644);
    await writeFile(path, 'cat\ncow\n');
    const bad = (
      await inject('ana', 'POST', '/v1/datasets/pets/verify', {})
    ).json<DatasetVerifyResponse>();
    expect(bad.ok).toBe(false);
    expect(bad.problems).toEqual([
      {
        kind: 'file',
        name: 'dataset pets file labels.txt',
        ok: false,
        problem: `content changed: the stored bytes hash to ${sha256Hex('cat\ncow\n')}, not ${sha}`,
      },
    ]);
    await rm(path);
    const gone = (
      await inject('ana', 'POST', '/v1/datasets/pets/verify?version=1', {})
    ).json<DatasetVerifyResponse>();
    expect(gone.problems[0]).toMatchObject({
      name: 'dataset pets file labels.txt',
      problem: `blob ${sha} is missing from the store`,
    });
  });

  it('ownership: another researcher may not add a version; a viewer may not upload', async () => {
    const bob = await upload('bob', 'mnist', dataset({ 'x.csv': 'bob\n' }));
    expect(bob.statusCode).toBe(403);
    expect(errorOf(bob)).toMatchObject({
      code: 'ML_ERR_FORBIDDEN',
      message:
        'dataset mnist belongs to ana: role researcher may add versions only to its own datasets (pick another name, or ask an admin)',
    });
    const vic = await inject('vic', 'POST', '/v1/datasets', { name: 'v', manifest: v1.manifest });
    expect(vic.statusCode).toBe(403);
    expect(errorOf(vic).message).toContain('lacks permission data:write');
    // The admin (data:write at any scope) may.
    expect((await upload('admin', 'mnist', dataset({ 'x.csv': 'admin\n' }))).statusCode).toBe(201);
    const versions = (await inject('ana', 'GET', '/v1/datasets/mnist')).json<DatasetShowResponse>();
    expect(versions.versions.map((v) => v.creator)).toEqual(['admin', 'ana', 'ana']);
  });

  it('bad input is refused naming the field, and nothing is recorded', async () => {
    const name = await inject('ana', 'POST', '/v1/datasets', {
      name: '../x',
      manifest: v1.manifest,
    });
    expect(errorOf(name)).toMatchObject({ code: 'ML_ERR_VALIDATION' });
    expect(errorOf(name).message).toContain('name');
    const hostile = await inject('ana', 'POST', '/v1/datasets', {
      name: 'evil',
      manifest: { version: 1, entries: [{ ...v1.manifest.entries[0], path: '../../etc/passwd' }] },
    });
    expect(errorOf(hostile)).toMatchObject({ code: 'ML_ERR_PATH_HOSTILE' });
    expect(errorOf(hostile).message).toContain('../../etc/passwd');
    const empty = await inject('ana', 'POST', '/v1/datasets', {
      name: 'empty',
      manifest: { version: 1, entries: [] },
    });
    expect(errorOf(empty)).toMatchObject({
      code: 'ML_ERR_VALIDATION',
      message: 'manifest: dataset empty has no files',
    });
    const list = (await inject('ana', 'GET', '/v1/datasets')).json<DatasetListResponse>();
    expect(list.datasets.map((d) => d.name)).toEqual(['mnist', 'pets']);
  });
});

describe('submitting a task that names datasets', () => {
  const project = sampleProject();
  beforeAll(async () => {
    await t.deps.blobs.put(project.data, project.sha);
    await t.deps.store.putCommit(project.commitId, project.manifest);
  });
  const submit = (datasets: object[]) =>
    inject('ana', 'POST', '/v1/tasks', {
      commit_id: project.commitId,
      spec: { ...sampleSpec, datasets },
    });

  it('an unknown dataset blocks enqueueing, saying how to upload it', async () => {
    const res = await submit([{ name: 'imagenet', checksum: `sha256:${'a'.repeat(64)}` }]);
    expect(res.statusCode).toBe(404);
    expect(errorOf(res)).toMatchObject({
      code: 'ML_ERR_DATASET_NOT_FOUND',
      message:
        'dataset imagenet is not in the catalog of this server: upload it with `ml data upload <dir> --name imagenet` (ml data list shows what is there)',
    });
    expect(await t.deps.store.listTasks({ limit: 10 })).toEqual([]);
  });

  it('a checksum no version has blocks enqueueing, naming the latest', async () => {
    const latest = (await t.deps.store.getDatasetVersion('mnist'))!;
    const wrong = `sha256:${'b'.repeat(64)}`;
    const res = await submit([{ name: 'mnist', checksum: wrong }]);
    expect(errorOf(res)).toMatchObject({
      code: 'ML_ERR_DATASET_NOT_FOUND',
      message: `dataset mnist: no version has checksum ${wrong} (the latest, v3, is ${latest.checksum}): fix the checksum in fetchml.yaml (ml data show mnist lists every version) or upload the data it names`,
    });
    expect(await t.deps.store.listTasks({ limit: 10 })).toEqual([]);
  });

  it('a pinned checksum of any version is accepted', async () => {
    const v1 = (await t.deps.store.getDatasetVersion('mnist', 1))!;
    const res = await submit([{ name: 'mnist', checksum: v1.checksum }]);
    expect(res.statusCode).toBe(201);
  });
});
