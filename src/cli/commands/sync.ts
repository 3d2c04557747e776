/**
 * @module cli/commands/sync
 * `ml sync`: snapshot the project and make the server hold it. The stat cache at
 * `<project>/.fetchml/statcache` makes an unchanged tree cost one walk and no reads; the server is
 * asked which blobs it lacks (10,000 hashes per request) and only those are sent, in the client's
 * large batches (64 MiB / 5,000 blobs per request) — fewer requests than `snapshot/uploadMissing`'s
 * 256-file batches, which matters under the per-key rate limit. Then the commit is registered;
 * should the server still miss a blob (a concurrent GC), those are sent and the commit retried once.
 */
import type { Command } from 'commander';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';

import type { TreeManifest } from '../../core/schemas/tree.ts';
import { formatBytes } from '../../core/units.ts';
import { withClient } from '../shared/connect.ts';
import type { CliContext } from '../shared/context.ts';
import type { CliClient, CommandDeps } from '../shared/deps.ts';
import { formatDuration } from '../shared/format.ts';
import { writeJson } from '../shared/output.ts';
import { examples } from '../shared/program.ts';
import { createProgress, progressMode, startPhase } from '../shared/progress.ts';
import { findProjectRoot } from '../shared/project.ts';

/** What a sync did (the `--json` output of `ml sync`). */
export interface SyncResult {
  commit_id: string;
  project: string;
  files: number;
  bytes: number;
  /** Distinct blobs in the tree. */
  blobs: number;
  /** Blobs the server lacked and were uploaded. */
  new_blobs: number;
  uploaded_bytes: number;
  /** Files read and hashed (the rest came from the stat cache). */
  hashed: number;
  ms: number;
  warnings: { path: string; reason: string }[];
}

/** Uploads the blobs of `manifest` in `want` that the server lacks. */
async function uploadBlobs(
  deps: CommandDeps,
  client: CliClient,
  root: string,
  manifest: TreeManifest,
  want: readonly string[],
  json: boolean | undefined,
): Promise<{ blobs: number; bytes: number }> {
  if (want.length === 0) return { blobs: 0, bytes: 0 };
  const paths = new Map<string, { path: string; size: number }>();
  for (const e of manifest.entries) {
    if (e.type === 'file' && !paths.has(e.sha256))
      paths.set(e.sha256, { path: e.path, size: e.size });
  }
  const items = want.flatMap((sha256) => {
    const f = paths.get(sha256);
    if (!f) return [];
    const abs = join(root, ...f.path.split('/'));
    return [{ sha256, size: f.size, open: () => createReadStream(abs) }];
  });
  const total = { blobs: items.length, bytes: items.reduce((n, i) => n + i.size, 0) };
  const progress = createProgress(
    deps.io.stderr,
    progressMode(deps.io.stderr, json),
    total,
    deps.now,
    { label: 'uploading', unit: 'files' },
  );
  try {
    return await client.uploadBlobs(items, (p) => progress.update(p));
  } finally {
    progress.done();
  }
}

/** Snapshots the project and uploads what the server lacks; prints unless `print` is false. */
export async function syncProject(
  deps: CommandDeps,
  client: CliClient,
  opts: { json?: boolean; root?: string; signal?: AbortSignal },
): Promise<SyncResult> {
  const started = deps.now();
  const root = opts.root ?? findProjectRoot(deps.cwd) ?? deps.cwd;
  const mode = progressMode(deps.io.stderr, opts.json);
  const { snapshotTree } = await import('../../snapshot/index.ts');
  const scanning = startPhase(deps.io.stderr, mode, `scanning ${root}`, deps.now);
  let snap;
  try {
    snap = await snapshotTree(root);
  } finally {
    scanning.done();
  }
  opts.signal?.throwIfAborted();
  for (const w of snap.warnings) deps.io.stderr.write(`warning: ${w.path}: ${w.reason}\n`);
  const hashes = [
    ...new Set(snap.manifest.entries.flatMap((e) => (e.type === 'file' ? [e.sha256] : []))),
  ];
  const asking = startPhase(
    deps.io.stderr,
    mode,
    `asking the server which of ${hashes.length} blobs it lacks`,
    deps.now,
  );
  let missing;
  try {
    missing = await client.missingBlobs(hashes);
  } finally {
    asking.done();
  }
  opts.signal?.throwIfAborted();
  const sent = await uploadBlobs(deps, client, root, snap.manifest, missing, opts.json);
  let commit = await client.createCommit(snap.manifest);
  if (commit.missing.length > 0) {
    const again = await uploadBlobs(deps, client, root, snap.manifest, commit.missing, opts.json);
    sent.blobs += again.blobs;
    sent.bytes += again.bytes;
    commit = await client.createCommit(snap.manifest);
  }
  return {
    commit_id: commit.commit_id,
    project: root,
    files: snap.stats.files + snap.stats.symlinks,
    bytes: snap.stats.bytes,
    blobs: hashes.length,
    new_blobs: sent.blobs,
    uploaded_bytes: sent.bytes,
    hashed: snap.stats.hashed,
    ms: Math.round(deps.now() - started),
    warnings: snap.warnings,
  };
}

/** One human line about a sync. */
export function describeSync(r: SyncResult): string {
  return (
    `commit ${r.commit_id}\n` +
    `  ${r.files} files (${formatBytes(r.bytes)}), ${r.new_blobs} new blobs uploaded ` +
    `(${formatBytes(r.uploaded_bytes)}), ${r.hashed} hashed, in ${formatDuration(r.ms)}\n`
  );
}

/** Runs `ml sync`. */
export async function runSync(
  deps: CommandDeps,
  opts: { json?: boolean; server?: string },
): Promise<SyncResult> {
  const result = await withClient(deps, opts.server, (client) => syncProject(deps, client, opts));
  if (opts.json) writeJson(deps.io.stdout, result);
  else deps.io.stdout.write(describeSync(result));
  return result;
}

/** Registers `ml sync`. */
export function registerSync(program: Command, ctx: CliContext): void {
  program
    .command('sync')
    .description('snapshot the project and upload what the server lacks; prints the commit id')
    .addHelpText('after', examples('ml sync', 'ml sync --json | jq -r .commit_id'))
    .action(async (_opts: unknown, cmd: Command) => {
      const g = ctx.globals(cmd);
      await runSync(ctx.deps(), { json: g.json, ...(g.server ? { server: g.server } : {}) });
    });
}
