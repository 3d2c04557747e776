/**
 * @module test/conformance/store-fixtures
 * Valid commits and tasks for the metadata store suite, built through the real schemas so a fixture
 * can never drift from what the store validates.
 */
import { canonicalSha256, sha256Hex } from '../../src/core/hash.ts';
import { ExperimentSpec } from '../../src/core/schemas/spec.ts';
import { Task } from '../../src/core/schemas/task.ts';
import type { TreeManifest } from '../../src/core/schemas/tree.ts';

/** A one-file tree manifest whose content differs by `seed`, and its commit id. */
export function commitFixture(seed = 'a'): { commitId: string; manifest: TreeManifest } {
  const manifest: TreeManifest = {
    version: 1,
    entries: [
      { path: 'README.md', type: 'file', mode: 0o644, size: 2, sha256: sha256Hex(`r${seed}`) },
      { path: 'train.py', type: 'file', mode: 0o755, size: 3, sha256: sha256Hex(seed) },
    ],
  };
  return { commitId: canonicalSha256(manifest), manifest };
}

/** A queued task on `commitId`; `created` is an ISO time (it orders listings). */
export function taskFixture(
  id: string,
  commitId: string,
  over: Partial<Pick<Task, 'name' | 'user' | 'priority' | 'created_at'>> = {},
): Task {
  const spec = ExperimentSpec.parse({ name: over.name ?? 'mnist', command: 'python train.py' });
  const created = over.created_at ?? '2030-01-01T00:00:00.000Z';
  const sha = sha256Hex(id);
  return Task.parse({
    id,
    name: spec.name,
    user: over.user ?? 'alice',
    status: 'queued',
    priority: over.priority ?? 0,
    kind: 'batch',
    commit_id: commitId,
    spec,
    plan: {
      commit_id: commitId,
      experiment_manifest_sha256: sha,
      deps: null,
      snapshot_id: commitId,
      datasets: [],
      resources: { cpus: 1, memory_mb: 1024, gpus: 0 },
      image: { base: null, warmed_tag: null },
      command: ['python', 'train.py'],
      args: [],
      env: {},
      network: 'none',
      timeout_s: null,
      kind: 'batch',
      repro_policy: 'strict',
    },
    plan_sha256: sha,
    repro_policy: 'strict',
    trust_level: 'pinned',
    resources: { cpus: 1, memory_mb: 1024, gpus: 0 },
    labels: [],
    attempt: 0,
    max_attempts: 3,
    worker_id: null,
    exit_code: null,
    error: null,
    cancel_requested: false,
    created_at: created,
    queued_at: created,
    started_at: null,
    ended_at: null,
    updated_at: created,
  });
}

/** ISO time `minutes` after 2030-01-01T00:00Z. */
export function at(minutes: number): string {
  return new Date(Date.UTC(2030, 0, 1) + minutes * 60_000).toISOString();
}
