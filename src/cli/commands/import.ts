/**
 * @module cli/commands/import
 * `ml import <archive>`: loads an export into the server `ml` points at (another machine, another
 * base dir). First the whole archive is verified offline exactly as `ml verify-export` does, so a
 * hostile or damaged archive is refused with a named error before anything is sent and nothing is
 * written anywhere. Then, in a second pass, only the blobs the server lacks (snapshot files,
 * artifacts, the log) are uploaded with progress — small ones batched, large ones streamed — the
 * snapshot is registered as a commit, and `POST /v1/imports` records the task.
 *
 * How an imported task appears: same id, name, status, exit code, times, plan and plan_sha256 as
 * the original; owned by the importing user (the run manifest keeps who ran it); labelled
 * `imported`; never queued, so it is read-only (cancel answers `already_finished`). `ml info`,
 * `ml logs`, artifact downloads, `ml reproduce` (once its datasets exist here) and `ml export`
 * work on it like on any finished task. Importing the same archive again changes nothing.
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Readable } from 'node:stream';

import { FetchmlError } from '../../core/errors.ts';
import type { Task } from '../../core/schemas/task.ts';
import { formatBytes } from '../../core/units.ts';
import { ARTIFACT_PREFIX, MEMBER, SNAPSHOT_PREFIX } from '../../export/members.ts';
import { withClient } from '../shared/connect.ts';
import type { CliClient, CommandDeps } from '../shared/deps.ts';
import type { CliContext } from '../shared/context.ts';
import { writeJson } from '../shared/output.ts';
import { examples } from '../shared/program.ts';
import { createProgress, progressMode } from '../shared/progress.ts';
import type { Progress } from '../shared/progress.ts';
import { addLimitFlags, limitsFrom } from './export.ts';

/** Members up to this size are buffered and sent in batches; larger ones are streamed alone. */
const SMALL_BLOB = 8 * 1024 * 1024;
/** Bytes buffered per batch request. */
const BATCH_BYTES = 32 * 1024 * 1024;

/** What `ml import --json` prints. */
export interface ImportResult {
  task: Task;
  /** False when this export had been imported into this server already. */
  created: boolean;
  archive: string;
  uploaded_blobs: number;
  uploaded_bytes: number;
}

interface ImportOptions {
  json?: boolean;
  server?: string;
  maxSize?: number;
  maxRatio?: number;
}

/** Uploads the members of `archive` whose blobs are in `want`, in one more pass. */
async function uploadMembers(
  client: CliClient,
  archive: string,
  opts: ImportOptions,
  want: Map<string, string>,
  progress: Progress,
): Promise<{ blobs: number; bytes: number }> {
  const { readArchive } = await import('../../export/read.ts');
  const sent = { blobs: 0, bytes: 0 };
  let batch: { sha256: string; size: number; data: Uint8Array }[] = [];
  let batchBytes = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const base = { ...sent };
    await client.uploadBlobs(batch, (p) =>
      progress.update({ blobs: base.blobs + p.blobs, bytes: base.bytes + p.bytes }),
    );
    sent.blobs += batch.length;
    sent.bytes += batchBytes;
    batch = [];
    batchBytes = 0;
  };
  await readArchive(
    archive,
    async (header, content) => {
      const sha = want.get(header.name);
      if (sha === undefined) return;
      want.delete(header.name);
      for (const [name, other] of want) if (other === sha) want.delete(name);
      if (header.size > SMALL_BLOB) {
        await flush();
        await client.putBlob(sha, Readable.from(content), header.size);
        sent.blobs++;
        sent.bytes += header.size;
        progress.update({ ...sent });
        return;
      }
      const parts: Buffer[] = [];
      for await (const chunk of content) parts.push(chunk);
      batch.push({ sha256: sha, size: header.size, data: Buffer.concat(parts) });
      batchBytes += header.size;
      if (batchBytes >= BATCH_BYTES) await flush();
    },
    limitsFrom(opts),
  );
  await flush();
  return sent;
}

/** Runs `ml import`. */
export async function runImport(
  deps: CommandDeps,
  archive: string,
  opts: ImportOptions,
): Promise<ImportResult> {
  const path = resolve(deps.cwd, archive);
  if (!existsSync(path)) {
    throw new FetchmlError('ML_ERR_VALIDATION', `${archive}: no such file`, {
      details: { field: 'archive', value: archive },
    });
  }
  const { verifyExport } = await import('../../export/verify.ts');
  const v = await verifyExport(path, limitsFrom(opts));
  const result = await withClient(deps, opts.server, async (client) => {
    // Member → blob, for the members the server needs: snapshot files, artifacts, the log.
    const byMember = new Map<string, string>();
    for (const e of v.tree.entries) {
      if (e.type === 'file') byMember.set(SNAPSHOT_PREFIX + e.path, e.sha256);
    }
    for (const a of v.manifest.artifacts) byMember.set(ARTIFACT_PREFIX + a.path, a.sha256);
    if (v.log) byMember.set(MEMBER.log, v.log.sha256);
    const missing = new Set(await client.missingBlobs([...new Set(byMember.values())]));
    const want = new Map([...byMember].filter(([, sha]) => missing.has(sha)));
    const total = { blobs: missing.size, bytes: 0 };
    const counted = new Set<string>();
    for (const [name, sha] of want) {
      if (counted.has(sha)) continue;
      counted.add(sha);
      total.bytes += v.members.get(name)?.size ?? 0;
    }
    const progress = createProgress(
      deps.io.stderr,
      progressMode(deps.io.stderr, opts.json),
      total,
      deps.now,
      { label: 'importing' },
    );
    let sent: { blobs: number; bytes: number };
    try {
      sent = await uploadMembers(client, path, opts, want, progress);
    } finally {
      progress.done();
    }
    const commit = await client.createCommit(v.tree);
    if (commit.missing.length > 0) {
      throw new FetchmlError(
        'ML_ERR_UNAVAILABLE',
        `the server still lacks ${commit.missing.length} snapshot blobs after the upload; try again`,
      );
    }
    const answer = await client.importTask({
      task: v.task,
      run_manifest: v.manifest,
      log_sha256: v.log?.sha256 ?? null,
      export_sha256: v.checksums_sha256,
    });
    return {
      task: answer.task,
      created: answer.created,
      archive: path,
      uploaded_blobs: sent.blobs,
      uploaded_bytes: sent.bytes,
    };
  });
  if (opts.json) writeJson(deps.io.stdout, result);
  else {
    const t = result.task;
    deps.io.stdout.write(
      `${result.created ? 'imported' : 'already imported'} task ${t.id} (${t.name}, ${t.status}) from ${path}\n` +
        `  ${result.uploaded_blobs} blobs uploaded (${formatBytes(result.uploaded_bytes)}); ` +
        `owned by ${t.user}, labelled imported, read-only here\n` +
        `  ml info ${t.id} shows it; ml reproduce ${t.id} runs it again here\n`,
    );
  }
  return result;
}

/** Registers `ml import`. */
export function registerImport(program: Command, ctx: CliContext): void {
  addLimitFlags(
    program
      .command('import')
      .description('load an export archive into this server as an imported, read-only task')
      .argument('<archive>', 'a file written by ml export (.tar or .tar.gz)'),
  )
    .addHelpText(
      'after',
      examples('ml import run.tar.gz', 'ml --server https://lab:9101 import run.tar.gz --json') +
        '\nThe archive is verified first (as ml verify-export does); a hostile or damaged one is\n' +
        'refused before anything is sent.\n',
    )
    .action(
      async (archive: string, opts: Pick<ImportOptions, 'maxSize' | 'maxRatio'>, cmd: Command) => {
        const g = ctx.globals(cmd);
        await runImport(ctx.deps(), archive, {
          ...opts,
          json: g.json,
          ...(g.server ? { server: g.server } : {}),
        });
      },
    );
}
