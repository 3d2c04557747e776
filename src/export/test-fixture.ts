/**
 * @module export/test-fixture
 * A small, valid export's members (a finished task with two snapshot files, one artifact and a
 * log), built through the real schemas, and a way to write any list of members as a tar with
 * tar-stream — for the export tests, including hostile archives. Test-only.
 */
import { writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';

import { pack as tarPack } from 'tar-stream';
import type { Header } from 'tar-stream';

import { canonicalJson, canonicalSha256, sha256Hex } from '../core/hash.ts';
import { newQueuedTask } from '../core/new-task.ts';
import { resolvePlan } from '../core/plan.ts';
import { RUN_MANIFEST_SCHEMA_VERSION, RunManifest } from '../core/schemas/manifest.ts';
import { ExperimentSpec } from '../core/schemas/spec.ts';
import { Task } from '../core/schemas/task.ts';
import type { TreeManifest } from '../core/schemas/tree.ts';
import { checksumLine, EXPORT_FORMAT, EXPORT_FORMAT_VERSION, MEMBER } from './format.ts';

/** A raw tar member: any header tar-stream can write, and its bytes. */
export interface RawMember {
  header: Partial<Header> & { name: string };
  data?: Buffer;
}

/** Writes `members` as a tar (gzip with `gzip`) at `path`. */
export async function writeTar(
  path: string,
  members: readonly RawMember[],
  gzip = false,
): Promise<void> {
  const pack = tarPack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of pack) chunks.push(chunk as Buffer);
  })();
  for (const m of members) {
    await new Promise<void>((resolve, reject) => {
      pack.entry({ mtime: new Date(0), ...m.header }, m.data ?? Buffer.alloc(0), (err) =>
        err ? reject(err) : resolve(),
      );
    });
  }
  pack.finalize();
  await collected;
  const tar = Buffer.concat(chunks);
  await writeFile(path, gzip ? gzipSync(tar) : tar);
}

/** File members plus a matching `checksums.sha256` (pass `lie` to misstate one member's hash). */
export function withChecksums(files: ReadonlyArray<[string, Buffer]>, lie?: string): RawMember[] {
  const lines = files
    .map(([name, data]) => checksumLine(name === lie ? sha256Hex('lie') : sha256Hex(data), name))
    .join('');
  return [
    ...files.map(([name, data]) => ({ header: { name, size: data.length }, data })),
    { header: { name: MEMBER.checksums }, data: Buffer.from(lines) },
  ];
}

/** The files of a valid export of a completed task, in archive order (checksums not included). */
export function validExportFiles(): Array<[string, Buffer]> {
  const train = Buffer.from('print("hello")\n');
  const data = Buffer.from('a,b\n1,2\n');
  const model = Buffer.from('{"w": 1}\n');
  const log = Buffer.from('hello\n');
  const tree: TreeManifest = {
    version: 1,
    entries: [
      { path: 'data/x.csv', type: 'file', mode: 0o644, size: data.length, sha256: sha256Hex(data) },
      { path: 'link', type: 'symlink', target: 'train.py' },
      { path: 'train.py', type: 'file', mode: 0o644, size: train.length, sha256: sha256Hex(train) },
    ],
  };
  const commitId = canonicalSha256(tree);
  const spec = ExperimentSpec.parse({ name: 'demo', command: 'python3 train.py', deps: 'none' });
  const resolved = resolvePlan({ commitId, manifest: tree, spec });
  const queued = newQueuedTask({
    id: 'task_01JD3Q3Z4X6V0000000000000A',
    user: 'alice',
    commitId,
    spec,
    resolved,
    maxAttempts: 3,
    now: '2030-01-01T00:00:00.000Z',
  });
  const task = Task.parse({
    ...queued,
    status: 'completed',
    attempt: 1,
    worker_id: 'worker_1',
    exit_code: 0,
    started_at: '2030-01-01T00:00:01.000Z',
    ended_at: '2030-01-01T00:00:02.000Z',
    updated_at: '2030-01-01T00:00:02.000Z',
  });
  const manifest = RunManifest.parse({
    schema_version: RUN_MANIFEST_SCHEMA_VERSION,
    task_id: task.id,
    name: task.name,
    user: task.user,
    status: 'completed',
    attempt: 1,
    plan: task.plan,
    plan_sha256: task.plan_sha256,
    repro_policy: task.repro_policy,
    trust_level: task.trust_level,
    commit_id: commitId,
    experiment_manifest_sha256: task.plan.experiment_manifest_sha256,
    deps_manifest: task.plan.deps,
    datasets: [],
    image: { reference: null, digest: null },
    resources: {
      requested: task.plan.resources,
      assigned: { cpus: 1, memory_mb: 1024, gpu_indices: [] },
    },
    worker: { id: 'worker_1', host: 'box', runtime: 'process', version: '0.0.0' },
    warnings: [],
    lifecycle: {
      queued_at: task.queued_at,
      started_at: task.started_at,
      ended_at: task.ended_at,
      exit_code: 0,
    },
    error: null,
    artifacts: [{ path: 'model.json', size: model.length, sha256: sha256Hex(model) }],
    metrics: {},
    environment: {},
  });
  const info = {
    format: EXPORT_FORMAT,
    version: EXPORT_FORMAT_VERSION,
    task_id: task.id,
    commit_id: commitId,
    exported_at: '2030-01-02T00:00:00.000Z',
    fetchml_version: '0.0.0-test',
  };
  const json = (v: unknown) => Buffer.from(`${JSON.stringify(v, null, 2)}\n`);
  return [
    [MEMBER.info, json(info)],
    [MEMBER.task, json(task)],
    [MEMBER.plan, Buffer.from(canonicalJson(task.plan))],
    [MEMBER.manifest, json(manifest)],
    [MEMBER.log, log],
    [MEMBER.tree, json(tree)],
    ['snapshot/files/data/x.csv', data],
    ['snapshot/files/train.py', train],
    ['artifacts/model.json', model],
  ];
}
