/**
 * @module server/compare
 * Building `ml compare`'s answer from two run manifests and their commits' tree manifests
 * (schema: core/schemas/compare). Pure except for reading blobs when text diffs are asked for.
 *
 * Diffs are bounded so a compare never streams a repository: only regular files up to
 * {@link DIFF_MAX_FILE_BYTES} that are valid UTF-8 without NUL bytes are diffed, at most
 * {@link DIFF_MAX_FILES} files and {@link DIFF_MAX_TOTAL_BYTES} of diff text in all; everything
 * else is listed with a note saying why it has no diff.
 */
import type { Readable } from 'node:stream';

import type {
  CompareResponse,
  CompareRow,
  FileChange,
  MetricRow,
} from '../core/schemas/compare.ts';
import type { RunManifest } from '../core/schemas/manifest.ts';
import type { TreeEntry, TreeManifest } from '../core/schemas/tree.ts';
import { diffTrees } from '../snapshot/diff.ts';
import { unifiedDiff } from '../snapshot/text-diff.ts';
import { canonicalJson } from '../core/hash.ts';

export const DIFF_MAX_FILE_BYTES = 1024 * 1024;
export const DIFF_MAX_FILES = 200;
export const DIFF_MAX_TOTAL_BYTES = 2 * 1024 * 1024;

type Json = CompareRow['a'];

/** Reads a blob (the server's blob store). */
export type ReadBlob = (sha256: string) => Promise<Readable>;

function row(key: string, a: Json | undefined, b: Json | undefined): CompareRow {
  const av = a === undefined ? null : a;
  const bv = b === undefined ? null : b;
  return { key, a: av, b: bv, same: canonicalJson(av) === canonicalJson(bv) };
}

/** Rows for every key of two records (union, sorted). */
function recordRows<T extends Json>(
  a: Readonly<Record<string, T>>,
  b: Readonly<Record<string, T>>,
): CompareRow[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])]
    .sort()
    .map((k) =>
      row(k, Object.hasOwn(a, k) ? a[k] : undefined, Object.hasOwn(b, k) ? b[k] : undefined),
    );
}

function side(m: RunManifest): CompareResponse['a'] {
  return {
    task_id: m.task_id,
    name: m.name,
    status: m.status,
    commit_id: m.commit_id,
    plan_sha256: m.plan_sha256,
    repro_policy: m.repro_policy,
    trust_level: m.trust_level,
  };
}

function finalNumbers(m: RunManifest): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(m.metrics)) {
    if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
  }
  return out;
}

function metricRows(a: RunManifest, b: RunManifest): MetricRow[] {
  const ma = finalNumbers(a);
  const mb = finalNumbers(b);
  return [...new Set([...Object.keys(ma), ...Object.keys(mb)])].sort().map((key) => {
    const av = ma[key] ?? null;
    const bv = mb[key] ?? null;
    return {
      key,
      a: av,
      b: bv,
      delta: av !== null && bv !== null ? bv - av : null,
      same: av === bv,
    };
  });
}

async function readText(read: ReadBlob, entry: TreeEntry): Promise<string | { note: string }> {
  if (entry.type !== 'file') return { note: 'symlink: no diff' };
  if (entry.size > DIFF_MAX_FILE_BYTES) {
    return { note: `larger than ${DIFF_MAX_FILE_BYTES / (1024 * 1024)} MiB: no diff` };
  }
  const chunks: Buffer[] = [];
  for await (const chunk of await read(entry.sha256)) chunks.push(chunk as Buffer);
  const data = Buffer.concat(chunks);
  if (data.includes(0)) return { note: 'binary: no diff' };
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch {
    return { note: 'not UTF-8 text: no diff' };
  }
}

/** The changed files, with diffs when `read` is given (see the module doc for the bounds). */
async function codeChanges(
  ta: TreeManifest,
  tb: TreeManifest,
  read: ReadBlob | null,
): Promise<CompareResponse['code']> {
  const d = diffTrees(ta, tb);
  type Changed = FileChange & { before: TreeEntry | null; after: TreeEntry | null };
  const files: Changed[] = [
    ...d.added.map((e): Changed => ({ path: e.path, change: 'added', before: null, after: e })),
    ...d.removed.map((e): Changed => ({ path: e.path, change: 'removed', before: e, after: null })),
    ...d.modified.map((m): Changed => ({
      path: m.path,
      change: 'modified',
      before: m.before,
      after: m.after,
    })),
  ].sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
  let budget = DIFF_MAX_TOTAL_BYTES;
  let diffed = 0;
  const out: FileChange[] = [];
  for (const f of files) {
    const { before, after, ...change } = f;
    if (!read) {
      out.push(change);
      continue;
    }
    if (diffed >= DIFF_MAX_FILES || budget <= 0) {
      out.push({ ...change, diff: null, note: 'diff budget spent (too many changed files)' });
      continue;
    }
    const left = before ? await readText(read, before) : '';
    const right = after ? await readText(read, after) : '';
    if (typeof left !== 'string' || typeof right !== 'string') {
      const note = typeof left !== 'string' ? left.note : (right as { note: string }).note;
      out.push({ ...change, diff: null, note });
      continue;
    }
    if (left === right) {
      out.push({ ...change, diff: null, note: 'same content (mode changed)' });
      continue;
    }
    const text = unifiedDiff(left, right, {
      from: before ? `a/${f.path}` : '/dev/null',
      to: after ? `b/${f.path}` : '/dev/null',
    });
    diffed += 1;
    if (text === null) {
      out.push({ ...change, diff: null, note: 'too many changed lines to show' });
    } else if (text.length > budget) {
      out.push({ ...change, diff: null, note: 'diff budget spent (diff too large)' });
      budget = 0;
    } else {
      budget -= text.length;
      out.push({ ...change, diff: text });
    }
  }
  return { same: out.length === 0, unchanged: d.unchanged, files: out };
}

/** The comparison of run `a` with run `b`. `read` given: text diffs of changed files. */
export async function compareRuns(
  a: { manifest: RunManifest; tree: TreeManifest },
  b: { manifest: RunManifest; tree: TreeManifest },
  read: ReadBlob | null,
): Promise<CompareResponse> {
  const ma = a.manifest;
  const mb = b.manifest;
  const pa = ma.plan;
  const pb = mb.plan;
  const datasets = (m: RunManifest) =>
    Object.fromEntries(
      m.datasets.map((d) => [d.name, { checksum: d.checksum, verified: d.verified }]),
    );
  return {
    a: side(ma),
    b: side(mb),
    same_plan: ma.plan_sha256 === mb.plan_sha256,
    code: await codeChanges(a.tree, b.tree, read),
    sections: {
      run: [
        row('status', ma.status, mb.status),
        row('exit_code', ma.lifecycle.exit_code, mb.lifecycle.exit_code),
        row('command', pa.command, pb.command),
        row('args', pa.args, pb.args),
        row('kind', pa.kind, pb.kind),
        row('network', pa.network, pb.network),
        row('timeout_s', pa.timeout_s, pb.timeout_s),
        row('repro_policy', ma.repro_policy, mb.repro_policy),
        row('trust_level', ma.trust_level, mb.trust_level),
        row(
          'experiment_manifest_sha256',
          ma.experiment_manifest_sha256,
          mb.experiment_manifest_sha256,
        ),
      ],
      dependencies: [
        row('manifest', ma.deps_manifest?.name ?? null, mb.deps_manifest?.name ?? null),
        row('sha256', ma.deps_manifest?.sha256 ?? null, mb.deps_manifest?.sha256 ?? null),
      ],
      datasets: recordRows(datasets(ma), datasets(mb)),
      image: [
        row('reference', ma.image.reference, mb.image.reference),
        row('digest', ma.image.digest, mb.image.digest),
      ],
      resources: [
        row('requested.cpus', ma.resources.requested.cpus, mb.resources.requested.cpus),
        row(
          'requested.memory_mb',
          ma.resources.requested.memory_mb,
          mb.resources.requested.memory_mb,
        ),
        row('requested.gpus', ma.resources.requested.gpus, mb.resources.requested.gpus),
        row('assigned.cpus', ma.resources.assigned.cpus, mb.resources.assigned.cpus),
        row('assigned.memory_mb', ma.resources.assigned.memory_mb, mb.resources.assigned.memory_mb),
        row(
          'assigned.gpu_indices',
          ma.resources.assigned.gpu_indices,
          mb.resources.assigned.gpu_indices,
        ),
      ],
      worker: [
        row('id', ma.worker.id, mb.worker.id),
        row('host', ma.worker.host, mb.worker.host),
        row('runtime', ma.worker.runtime, mb.worker.runtime),
        row('version', ma.worker.version, mb.worker.version),
      ],
      environment: recordRows(ma.environment, mb.environment),
    },
    metrics: metricRows(ma, mb),
  };
}
