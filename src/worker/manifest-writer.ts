/**
 * @module worker/manifest-writer
 * Building and writing `run_manifest.json`. The manifest is written twice per attempt: with status
 * `running` when the job starts (so a worker that dies mid-run leaves a valid record of what was
 * running) and with the final status at the end. Both writes are atomic (temp file in the same
 * dir, fsync, rename, fsync of the dir): a reader sees the old manifest or the new one, never a
 * torn one. Every manifest is validated against the schema before it is written; an invalid one is
 * a worker bug and throws rather than reaching the disk.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

import { FetchmlError } from '../core/errors.ts';
import { formatIssues } from '../core/schemas/common.ts';
import type { Artifact } from '../core/schemas/manifest.ts';
import { RUN_MANIFEST_SCHEMA_VERSION, RunManifest } from '../core/schemas/manifest.ts';
import type { Task, TaskStatus } from '../core/schemas/task.ts';

/** The parts of a manifest the worker knows about one attempt. */
export interface ManifestInput {
  task: Task;
  status: TaskStatus;
  attempt: number;
  worker: RunManifest['worker'];
  /** Image digest (container runtimes); null otherwise. */
  imageDigest: string | null;
  /** The datasets staged and verified (worker/stage); unset: the plan's, not verified. */
  datasets?: RunManifest['datasets'];
  assigned: RunManifest['resources']['assigned'];
  warnings: readonly string[];
  startedAt: string | null;
  endedAt: string | null;
  exitCode: number | null;
  /** Why the run failed or was cancelled; null while running and when it completed. */
  error: { code: string; message: string } | null;
  artifacts: readonly Artifact[];
  metrics: Record<string, unknown>;
  /** Already redacted and sanitized (./redact.ts). */
  environment: Record<string, string>;
}

/** Assembles and validates a manifest. @throws FetchmlError ML_ERR_INTERNAL when invalid. */
export function buildManifest(input: ManifestInput): RunManifest {
  const { task } = input;
  const { plan } = task;
  const candidate: RunManifest = {
    schema_version: RUN_MANIFEST_SCHEMA_VERSION,
    task_id: task.id,
    name: task.name,
    user: task.user,
    status: input.status,
    attempt: input.attempt,
    plan,
    plan_sha256: task.plan_sha256,
    repro_policy: task.repro_policy,
    trust_level: task.trust_level,
    commit_id: task.commit_id,
    experiment_manifest_sha256: plan.experiment_manifest_sha256,
    deps_manifest: plan.deps,
    // Once staged (./stage.ts), each dataset is recorded with the checksum it was verified against.
    datasets:
      input.datasets ??
      plan.datasets.map((d) => ({ name: d.name, checksum: d.checksum, verified: false })),
    image: { reference: plan.image.base, digest: input.imageDigest },
    resources: { requested: plan.resources, assigned: input.assigned },
    worker: input.worker,
    warnings: [...new Set(input.warnings)],
    lifecycle: {
      queued_at: task.queued_at,
      started_at: input.startedAt,
      ended_at: input.endedAt,
      exit_code: input.exitCode,
    },
    error: input.error,
    artifacts: [...input.artifacts],
    metrics: input.metrics,
    environment: input.environment,
  };
  const parsed = RunManifest.safeParse(candidate);
  if (!parsed.success) {
    throw new FetchmlError(
      'ML_ERR_INTERNAL',
      `refusing to write an invalid run manifest for ${task.id}: ${formatIssues(parsed.error).join('; ')}`,
      { details: { task_id: task.id } },
    );
  }
  return parsed.data;
}

/** Writes `data` to `path` atomically (temp + fsync + rename + dir fsync). */
export async function writeFileAtomic(path: string, data: string): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const fh = await open(tmp, 'wx', 0o644);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } catch {
    // Some filesystems refuse fsync on a directory; the rename is still atomic.
  } finally {
    await dh.close();
  }
}

/** Writes a manifest atomically as pretty JSON. */
export async function writeManifest(path: string, manifest: RunManifest): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(manifest, null, 2)}\n`);
}

/** The `attempt` of the manifest at `path`, or null when there is none (or it is unreadable). */
export async function manifestAttempt(path: string): Promise<number | null> {
  try {
    const value = JSON.parse(await readFile(path, 'utf8')) as { attempt?: unknown };
    return typeof value.attempt === 'number' ? value.attempt : null;
  } catch {
    return null;
  }
}

/** Removes the manifest at `path` when it belongs to `attempt` (a newer attempt's stays). */
export async function removeManifestOf(path: string, attempt: number): Promise<void> {
  if ((await manifestAttempt(path)) === attempt) await rm(path, { force: true });
}
