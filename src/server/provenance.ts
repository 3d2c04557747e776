/**
 * @module server/provenance
 * What the provenance routes do, as functions over the injected backends:
 *
 * - {@link verifyTask}: re-checks every hash a task recorded — its plan, its run manifest, every
 *   blob of its snapshot (and the tree itself), every dataset it ran on (catalog entry, tree and
 *   blobs) and every artifact. `ml reproduce --verify` shows the result item by item.
 * - {@link exportMembers}: the members of the task's export archive (export/format), streamed from
 *   the store, the blob store and the task's files.
 * - {@link importTask}: records an exported task (whose blobs and commit were uploaded first) as an
 *   imported, read-only task: same id, status, times and plan; owned by the importing user; label
 *   `imported`; never queued. Its run manifest and log are written where the worker would have
 *   written them, and `imported.json` beside them says where it came from.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';

import { FetchmlError, isFetchmlError } from '../core/errors.ts';
import { canonicalJson, canonicalSha256 } from '../core/hash.ts';
import type { IntegrityItem } from '../core/schemas/dataset.ts';
import type { RunManifest } from '../core/schemas/manifest.ts';
import { IMPORTED_LABEL } from '../core/schemas/provenance.ts';
import type {
  ImportTaskRequest,
  ImportTaskResponse,
  TaskVerifyResponse,
} from '../core/schemas/provenance.ts';
import { TERMINAL_STATUSES } from '../core/schemas/task.ts';
import type { Task } from '../core/schemas/task.ts';
import { checkBlob, verifyTreeBlobs } from '../data/verify.ts';
import {
  ARTIFACT_PREFIX,
  EXPORT_FORMAT,
  EXPORT_FORMAT_VERSION,
  MEMBER,
  SNAPSHOT_PREFIX,
} from '../export/format.ts';
import type { ExportInfo } from '../export/format.ts';
import type { PackMember } from '../export/pack.ts';
import type { RouteContext } from './context.ts';
import { nowIso } from './context.ts';
import { loadRunManifest } from './routes/files.ts';
import { verifyDatasetVersion } from './routes/datasets.ts';
import type { Principal } from './types.ts';

/** The run manifest, or null before the worker wrote one. */
async function manifestOrNull(ctx: RouteContext, id: string): Promise<RunManifest | null> {
  try {
    return await loadRunManifest(ctx, id);
  } catch (err) {
    if (isFetchmlError(err, 'ML_ERR_MANIFEST_NOT_FOUND')) return null;
    throw err;
  }
}

/** Re-checks every hash task `task` recorded (see the module doc). */
export async function verifyTask(ctx: RouteContext, task: Task): Promise<TaskVerifyResponse> {
  const items: IntegrityItem[] = [];
  let files = 0;
  let bytes = 0;
  const fail = (kind: IntegrityItem['kind'], name: string, problem: string) =>
    items.push({ kind, name, ok: false, problem });

  const planSha = canonicalSha256(task.plan);
  if (planSha === task.plan_sha256) items.push({ kind: 'plan', name: 'plan', ok: true });
  else fail('plan', 'plan', `hashes to ${planSha}, the task records ${task.plan_sha256}`);

  const manifest = await manifestOrNull(ctx, task.id);
  if (manifest) {
    const problems: string[] = [];
    if (manifest.plan_sha256 !== task.plan_sha256)
      problems.push(`records plan ${manifest.plan_sha256}, the task ${task.plan_sha256}`);
    if (canonicalSha256(manifest.plan) !== task.plan_sha256)
      problems.push('its plan does not hash to the recorded plan_sha256');
    if (manifest.commit_id !== task.commit_id)
      problems.push(`records commit ${manifest.commit_id}, the task ${task.commit_id}`);
    if (problems.length > 0) fail('manifest', 'run manifest', problems.join('; '));
    else items.push({ kind: 'manifest', name: 'run manifest', ok: true });
  }

  const snapshot = `snapshot ${task.commit_id}`;
  const tree = await ctx.store.getCommit(task.commit_id);
  if (!tree) fail('commit', snapshot, 'the commit is missing from the store');
  else {
    const actual = canonicalSha256(tree);
    const check = await verifyTreeBlobs(ctx.blobs, tree, 'snapshot');
    files += check.files;
    bytes += check.bytes;
    if (actual !== task.commit_id) fail('commit', snapshot, `its tree hashes to ${actual}`);
    else if (check.problems.length > 0)
      fail(
        'commit',
        snapshot,
        `${check.problems.length} of ${check.files} files changed or missing`,
      );
    else
      items.push({
        kind: 'commit',
        name: snapshot,
        ok: true,
        note: `${check.files} files re-hashed`,
      });
    items.push(...check.problems);
  }

  const datasets = manifest?.datasets ?? task.plan.datasets;
  for (const d of datasets) {
    const name = `dataset ${d.name}`;
    if (d.checksum === null) {
      fail('dataset', name, 'no checksum was recorded, so there is nothing to verify against');
      continue;
    }
    const version = await ctx.store.findDatasetVersion(d.name, d.checksum);
    if (!version) {
      fail('dataset', name, `no catalog version has checksum ${d.checksum}`);
      continue;
    }
    const check = await verifyDatasetVersion(ctx, version);
    files += check.checked_files;
    bytes += check.checked_bytes;
    if (check.ok) {
      items.push({
        kind: 'dataset',
        name,
        ok: true,
        note: `v${version.version} ${d.checksum}: ${check.checked_files} files re-hashed`,
      });
    } else {
      const n = check.problems.length;
      fail(
        'dataset',
        name,
        `v${version.version} ${d.checksum}: ${n} file${n === 1 ? '' : 's'} changed or missing`,
      );
      items.push(...check.problems);
    }
  }

  for (const a of manifest?.artifacts ?? []) {
    const check = await checkBlob(ctx.blobs, a.sha256, a.size);
    files++;
    bytes += check.size;
    if (!check.ok) fail('artifact', `artifact ${a.path}`, check.problem ?? 'does not match');
  }
  if (manifest && manifest.artifacts.length > 0 && !items.some((i) => i.kind === 'artifact')) {
    items.push({
      kind: 'artifact',
      name: 'artifacts',
      ok: true,
      note: `${manifest.artifacts.length} re-hashed`,
    });
  }

  if (manifest?.image.digest) {
    items.push({
      kind: 'image',
      name: `image ${manifest.image.reference ?? '(runtime default)'}`,
      ok: true,
      note: `recorded digest ${manifest.image.digest}; the worker that runs a reproduction records its own, compared when it ends`,
    });
  }
  return {
    task_id: task.id,
    ok: items.every((i) => i.ok),
    checked_files: files,
    checked_bytes: bytes,
    items,
  };
}

/** Everything an export of `task` needs, checked before the first byte is sent. */
export interface ExportPlan {
  members: PackMember[];
  /** Bytes of member content (without checksums.sha256). */
  bytes: number;
  mtime: Date;
}

/**
 * The members of `task`'s export archive. Throws before anything is streamed when the task has not
 * finished, has no run manifest, or a blob it needs is missing (named by path).
 */
export async function exportMembers(ctx: RouteContext, task: Task): Promise<ExportPlan> {
  if (!TERMINAL_STATUSES.includes(task.status)) {
    throw new FetchmlError(
      'ML_ERR_TASK_STATE',
      `task ${task.id} is ${task.status}: export it once it has finished`,
      { details: { task_id: task.id, status: task.status } },
    );
  }
  const manifestPath = ctx.files.manifestPath(task.id);
  let manifestText: string;
  try {
    manifestText = await readFile(manifestPath, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    throw new FetchmlError(
      'ML_ERR_MANIFEST_NOT_FOUND',
      `task ${task.id} has no run manifest (it never ran): there is nothing to export`,
      { details: { task_id: task.id } },
    );
  }
  const manifest = await loadRunManifest(ctx, task.id);
  const tree = await ctx.store.getCommit(task.commit_id);
  if (!tree) {
    throw new FetchmlError('ML_ERR_COMMIT_NOT_FOUND', `snapshot ${task.commit_id} is missing`, {
      details: { commit_id: task.commit_id },
    });
  }
  const fileEntries = tree.entries.filter((e) => e.type === 'file');
  const needed = new Map<string, string>();
  for (const e of fileEntries) needed.set(e.sha256, `snapshot file ${e.path}`);
  for (const a of manifest.artifacts) needed.set(a.sha256, `artifact ${a.path}`);
  const missing = await ctx.blobs.missing([...needed.keys()]);
  if (missing.length > 0) {
    const names = missing.map((s) => needed.get(s) ?? s);
    throw new FetchmlError(
      'ML_ERR_BLOB_NOT_FOUND',
      `cannot export ${task.id}: missing from the blob store: ${names.slice(0, 5).join(', ')}` +
        (names.length > 5 ? ` (and ${names.length - 5} more)` : ''),
      { details: { task_id: task.id, missing: names } },
    );
  }

  const json = (value: unknown) => Buffer.from(`${JSON.stringify(value, null, 2)}\n`);
  const info: ExportInfo = {
    format: EXPORT_FORMAT,
    version: EXPORT_FORMAT_VERSION,
    task_id: task.id,
    commit_id: task.commit_id,
    exported_at: nowIso(ctx),
    fetchml_version: ctx.version,
  };
  const members: PackMember[] = [];
  const add = (name: string, data: Buffer) => members.push({ name, size: data.length, data });
  add(MEMBER.info, json(info));
  add(MEMBER.task, json(task));
  add(MEMBER.plan, Buffer.from(canonicalJson(task.plan)));
  add(MEMBER.manifest, Buffer.from(manifestText));
  const logPath = ctx.files.logPath(task.id);
  const logSize = await stat(logPath).then(
    (s) => s.size,
    () => null,
  );
  if (logSize !== null) {
    members.push({
      name: MEMBER.log,
      size: logSize,
      open: () =>
        Promise.resolve(createReadStream(logPath, { start: 0, end: Math.max(0, logSize - 1) })),
      ...(logSize === 0 ? { data: Buffer.alloc(0) } : {}),
    });
  }
  add(MEMBER.tree, json(tree));
  const blob = (sha256: string) => () => ctx.blobs.get(sha256);
  for (const e of fileEntries) {
    members.push({
      name: SNAPSHOT_PREFIX + e.path,
      size: e.size,
      mode: e.mode,
      open: blob(e.sha256),
    });
  }
  for (const a of manifest.artifacts) {
    members.push({ name: ARTIFACT_PREFIX + a.path, size: a.size, open: blob(a.sha256) });
  }
  const mtime = new Date(task.ended_at ?? task.updated_at);
  return { members, bytes: members.reduce((n, m) => n + m.size, 0), mtime };
}

/** Writes `data` to `path` via a temp file and a rename (readers see old or new, never half). */
async function writeAtomic(path: string, data: string | NodeJS.ReadableStream): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.import.tmp`;
  try {
    if (typeof data === 'string') await writeFile(tmp, data, { mode: 0o644 });
    else await pipeline(data, createWriteStream(tmp, { mode: 0o644 }));
    const fh = await open(tmp, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

function invalid(field: string, message: string): FetchmlError {
  return new FetchmlError('ML_ERR_VALIDATION', `${field}: ${message}`, { details: { field } });
}

/** Records an exported task on this server (see the module doc). */
export async function importTask(
  ctx: RouteContext,
  input: ImportTaskRequest,
  principal: Principal,
): Promise<ImportTaskResponse> {
  const { task, run_manifest: m } = input;
  if (!TERMINAL_STATUSES.includes(task.status))
    throw invalid('task.status', `${task.status}: only finished tasks can be imported`);
  if (m.task_id !== task.id)
    throw invalid('run_manifest.task_id', `${m.task_id} is not the task ${task.id}`);
  if (m.commit_id !== task.commit_id)
    throw invalid('run_manifest.commit_id', `${m.commit_id} is not the task's ${task.commit_id}`);
  if (canonicalSha256(task.plan) !== task.plan_sha256)
    throw invalid('task.plan', `does not hash to plan_sha256 ${task.plan_sha256}`);
  if (m.plan_sha256 !== task.plan_sha256)
    throw invalid('run_manifest.plan_sha256', `${m.plan_sha256} is not the task's`);
  if (!(await ctx.store.hasCommit(task.commit_id))) {
    throw new FetchmlError(
      'ML_ERR_COMMIT_NOT_FOUND',
      `snapshot ${task.commit_id} is not on this server: upload it (POST /v1/commits) first`,
      { details: { commit_id: task.commit_id } },
    );
  }
  const needed = new Map<string, string>(m.artifacts.map((a) => [a.sha256, `artifact ${a.path}`]));
  if (input.log_sha256) needed.set(input.log_sha256, 'the log');
  const missing = await ctx.blobs.missing([...needed.keys()]);
  if (missing.length > 0) {
    throw new FetchmlError(
      'ML_ERR_BLOB_NOT_FOUND',
      `upload these blobs first: ${missing.map((s) => needed.get(s) ?? s).join(', ')}`,
      { details: { missing } },
    );
  }

  const files = ctx.files;
  const importedPath = join(files.dir(task.id), 'imported.json');
  const existing = await ctx.store.getTask(task.id);
  if (existing) {
    const record = await readFile(importedPath, 'utf8').then(
      (t) => JSON.parse(t) as { export_sha256?: string },
      () => null,
    );
    if (record?.export_sha256 === input.export_sha256) return { task: existing, created: false };
    throw new FetchmlError(
      'ML_ERR_CONFLICT',
      `task ${task.id} already exists on this server` +
        (record ? ' (imported from another export)' : ' (it ran here: nothing to import)'),
      { details: { task_id: task.id } },
    );
  }

  const now = nowIso(ctx);
  const imported: Task = {
    ...task,
    user: principal.user,
    labels: [...new Set([...task.labels, IMPORTED_LABEL])],
    cancel_requested: false,
    updated_at: now,
  };
  if (input.log_sha256) {
    await writeAtomic(files.logPath(task.id), await ctx.blobs.get(input.log_sha256));
  }
  await writeAtomic(files.manifestPath(task.id), `${JSON.stringify(m, null, 2)}\n`);
  await writeAtomic(
    importedPath,
    `${JSON.stringify(
      {
        export_sha256: input.export_sha256,
        imported_at: now,
        imported_by: principal.user,
        original_user: task.user,
      },
      null,
      2,
    )}\n`,
  );
  try {
    await ctx.store.createTask(imported);
  } catch (err) {
    // Another import of the same export won the race: it wrote the same files.
    if (isFetchmlError(err, 'ML_ERR_CONFLICT')) {
      const now2 = await ctx.store.getTask(task.id);
      if (now2) return { task: now2, created: false };
    }
    throw err;
  }
  return { task: imported, created: true };
}
