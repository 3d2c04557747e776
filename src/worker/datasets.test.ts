/**
 * Dataset staging by a real worker: a cataloged dataset is staged, re-hashed and readable at
 * `$FETCHML_DATA/<name>`, read-only in the sandbox, and recorded in the run manifest with its
 * checksum; a blob edited on disk or deleted fails the task before the job runs, naming the
 * dataset and the file; the relaxed policy without a checksum stages the latest version.
 */
import { chmod, readFile, rm, writeFile } from 'node:fs/promises';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { canonicalSha256, sha256Hex } from '../core/hash.ts';
import { taskFiles } from '../core/layout.ts';
import { manifestChecks } from '../core/manifest-checks.ts';
import { RunManifest } from '../core/schemas/manifest.ts';
import type { TreeManifest } from '../core/schemas/tree.ts';
import type { Runtime } from '../runtime/index.ts';
import { ProcessRuntime, SandboxRuntime } from '../runtime/index.ts';
import type { TestBackends } from './test-helpers.ts';
import { openTestBackends, submitProject, testWorker, waitForStatus } from './test-helpers.ts';
import type { FetchmlWorker } from './types.ts';

const sandbox = new SandboxRuntime({ killGraceMs: 1000 });
const sandboxOk = (await sandbox.available()).ok;

let b: TestBackends;
let worker: FetchmlWorker | null = null;

beforeEach(async () => {
  b = await openTestBackends();
});
afterEach(async () => {
  await worker?.stop({ graceful: false });
  worker = null;
  await b.cleanup();
});

const TRAIN = 'x,y\n1,2\n3,4\n';
const LABELS = 'cat\ndog\n';

/** Stores `files` as a dataset version of `name` (blobs, tree commit, catalog row). */
async function addDataset(name: string, files: Record<string, string>): Promise<string> {
  const entries = Object.entries(files)
    .sort(([x], [y]) => (x < y ? -1 : 1))
    .map(([path, content]) => ({
      path,
      type: 'file' as const,
      mode: 0o644 as const,
      size: Buffer.byteLength(content),
      sha256: sha256Hex(content),
    }));
  const tree: TreeManifest = { version: 1, entries };
  for (const content of Object.values(files)) await b.blobs.put(content);
  const treeId = canonicalSha256(tree);
  await b.store.putCommit(treeId, tree);
  const { dataset } = await b.store.addDatasetVersion({
    name,
    tree_id: treeId,
    size: entries.reduce((n, e) => n + e.size, 0),
    files: entries.length,
    creator: 'tester',
    created_at: new Date().toISOString(),
  });
  return dataset.checksum;
}

const readManifest = async (id: string) =>
  RunManifest.parse(JSON.parse(await readFile(taskFiles(b.home).manifestPath(id), 'utf8')));
const readLog = (id: string) => readFile(taskFiles(b.home).logPath(id), 'utf8');

async function run(
  runtime: Runtime,
  script: string,
  datasets: Array<{ name: string; checksum?: string }>,
) {
  const task = await submitProject(b, {
    files: { 'run.sh': script },
    spec: { name: 'data', command: 'sh run.sh', deps: 'none', datasets },
  });
  worker ??= testWorker(b, runtime);
  await worker.start();
  return waitForStatus(b, task.id, ['failed', 'completed'], 30_000);
}

describe.each([
  ['process', new ProcessRuntime({ killGraceMs: 1000 }) as Runtime, true],
  ['sandbox', sandbox as Runtime, sandboxOk],
] as const)('datasets on the %s runtime', (name, runtime, ok) => {
  it.skipIf(!ok)('are staged, verified, readable and recorded in the manifest', async () => {
    const checksum = await addDataset('mnist', { 'train.csv': TRAIN, 'meta/labels.txt': LABELS });
    const done = await run(
      runtime,
      'cat "$FETCHML_DATA/mnist/train.csv" "$FETCHML_DATA/mnist/meta/labels.txt" > "$FETCHML_OUTPUT/copy.txt"\n',
      [{ name: 'mnist', checksum }],
    );
    expect(done.status, await readLog(done.id)).toBe('completed');
    const m = await readManifest(done.id);
    expect(m.datasets).toEqual([{ name: 'mnist', checksum, verified: true }]);
    expect(m.artifacts.find((a) => a.path === 'copy.txt')?.sha256).toBe(sha256Hex(TRAIN + LABELS));
    expect(await readLog(done.id)).toContain(`dataset mnist v1 (${checksum}): 2 files`);
  });

  it.skipIf(!ok || name !== 'sandbox')('are read-only inside the sandbox', async () => {
    const checksum = await addDataset('mnist', { 'train.csv': TRAIN });
    const done = await run(
      runtime,
      'if echo evil > "$FETCHML_DATA/mnist/train.csv"; then echo WROTE; else echo REFUSED; fi\n',
      [{ name: 'mnist', checksum }],
    );
    const log = await readLog(done.id);
    expect(log).toContain('REFUSED');
    expect(log).not.toContain('WROTE');
    const blob = await b.blobs.get(sha256Hex(TRAIN));
    let text = '';
    for await (const c of blob) text += String(c);
    expect(text).toBe(TRAIN);
  });
});

describe('a dataset that does not verify fails the task before the job runs', () => {
  const runtime = new ProcessRuntime({ killGraceMs: 1000 });

  it('a blob edited on disk: ML_ERR_DATASET_CORRUPT naming the dataset and file', async () => {
    const checksum = await addDataset('mnist', { 'train.csv': TRAIN, 'meta/labels.txt': LABELS });
    const path = b.blobs.localPath!(sha256Hex(LABELS));
    await chmod(path, 0o644);
    await writeFile(path, 'cat\ncow\n');
    const done = await run(runtime, 'echo RAN\n', [{ name: 'mnist', checksum }]);
    expect(done.status).toBe('failed');
    expect(done.error?.code).toBe('ML_ERR_DATASET_CORRUPT');
    expect(done.error?.message).toContain('dataset mnist: file meta/labels.txt: its bytes hash to');
    expect(done.error?.message).toContain('ml data verify mnist');
    expect(await readLog(done.id)).not.toContain('RAN');
  });

  it('a blob deleted: ML_ERR_DATASET_UNAVAILABLE naming the dataset and file', async () => {
    const checksum = await addDataset('mnist', { 'train.csv': TRAIN });
    await rm(b.blobs.localPath!(sha256Hex(TRAIN)));
    const done = await run(runtime, 'echo RAN\n', [{ name: 'mnist', checksum }]);
    expect(done.error?.code).toBe('ML_ERR_DATASET_UNAVAILABLE');
    expect(done.error?.message).toContain('dataset mnist: file train.csv: blob');
    expect(done.error?.message).toContain('is missing from the blob store');
    expect(await readLog(done.id)).not.toContain('RAN');
  });

  it('a dataset the catalog does not have: ML_ERR_DATASET_UNAVAILABLE naming it', async () => {
    const done = await run(runtime, 'echo RAN\n', [
      { name: 'imagenet', checksum: `sha256:${'a'.repeat(64)}` },
    ]);
    expect(done.error?.code).toBe('ML_ERR_DATASET_UNAVAILABLE');
    expect(done.error?.message).toContain('dataset imagenet is not in the catalog');
  });

  it('without a checksum (relaxed policy) the latest version is staged and recorded', async () => {
    await addDataset('mnist', { 'train.csv': 'old\n' });
    const latest = await addDataset('mnist', { 'train.csv': TRAIN });
    const done = await run(runtime, 'cat "$FETCHML_DATA/mnist/train.csv"\n', [{ name: 'mnist' }]);
    expect(done.status).toBe('completed');
    const m = await readManifest(done.id);
    expect(m.datasets).toEqual([{ name: 'mnist', checksum: latest, verified: true }]);
    // The plan named no checksum: the one staged is not a disagreement with it.
    expect(manifestChecks(m).filter((c) => c.name.startsWith('datasets'))).toEqual([
      { name: 'datasets recorded with checksums', ok: true, blocking: true },
      { name: 'datasets verified at staging', ok: true, blocking: false },
    ]);
    expect(await readLog(done.id)).toContain('x,y\n1,2');
  });
});
