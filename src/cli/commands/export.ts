/**
 * @module cli/commands/export
 * `ml export <task> [-o file]`: downloads the task's export archive (manifest, plan, task record,
 * log, artifacts, the snapshot as tree + files, and checksums.sha256 — see export/format), gzips it
 * when the name ends in `.gz`/`.tgz` or with `--gzip`, verifies the file it wrote exactly as
 * `ml verify-export` would, and only then gives it its name (a failed or interrupted export leaves
 * nothing behind). Shows download progress.
 *
 * `ml verify-export <archive>`: the offline check, no server needed: refuses hostile archives
 * (traversal, absolute paths, links, devices, duplicates, bombs) and checks every checksum and
 * record (see export/verify). Exit 1 naming the first problem.
 */
import type { Command } from 'commander';
import { createWriteStream, existsSync } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

import { FetchmlError } from '../../core/errors.ts';
import { formatBytes } from '../../core/units.ts';
import type { ArchiveLimits } from '../../export/limits.ts';
import { DEFAULT_ARCHIVE_LIMITS } from '../../export/limits.ts';
import { ARTIFACT_PREFIX, SNAPSHOT_PREFIX } from '../../export/members.ts';
import type { VerifiedExport } from '../../export/verify.ts';
import { withClient } from '../shared/connect.ts';
import type { CliContext } from '../shared/context.ts';
import type { CommandDeps } from '../shared/deps.ts';
import { writeJson } from '../shared/output.ts';
import { examples } from '../shared/program.ts';
import { createProgress, progressMode } from '../shared/progress.ts';
import { resolveTaskId } from '../shared/task-ref.ts';
import { positiveFlag, sizeFlag } from './flags.ts';

/** What `ml export --json` and `ml verify-export --json` print. */
export interface ArchiveSummary {
  path: string;
  task_id: string;
  commit_id: string;
  status: string;
  compressed: boolean;
  archive_bytes: number;
  members: number;
  /** Bytes of member content. */
  bytes: number;
  snapshot_files: number;
  artifacts: number;
  has_log: boolean;
  /** sha256 of checksums.sha256: names the export (what `ml import` records). */
  checksums_sha256: string;
}

/** Summarises a verified archive. */
export function summarize(path: string, v: VerifiedExport): ArchiveSummary {
  const names = [...v.members.keys()];
  return {
    path,
    task_id: v.task.id,
    commit_id: v.task.commit_id,
    status: v.task.status,
    compressed: v.compressed,
    archive_bytes: v.archiveBytes,
    members: v.members.size,
    bytes: v.bytes,
    snapshot_files: names.filter((n) => n.startsWith(SNAPSHOT_PREFIX)).length,
    artifacts: names.filter((n) => n.startsWith(ARTIFACT_PREFIX)).length,
    has_log: v.log !== null,
    checksums_sha256: v.checksums_sha256,
  };
}

function describe(s: ArchiveSummary): string {
  return (
    `  task ${s.task_id} (${s.status}), commit ${s.commit_id}\n` +
    `  ${s.members} members (${formatBytes(s.bytes)}${s.compressed ? `, ${formatBytes(s.archive_bytes)} gzip-compressed` : ''}): ` +
    `${s.snapshot_files} snapshot files, ${s.artifacts} artifacts, ${s.has_log ? 'the log' : 'no log'}\n` +
    `  every member matches checksums.sha256 (${s.checksums_sha256})\n`
  );
}

/** Limits from the command's flags. */
export function limitsFrom(opts: { maxSize?: number; maxRatio?: number }): ArchiveLimits {
  return {
    ...DEFAULT_ARCHIVE_LIMITS,
    ...(opts.maxSize !== undefined ? { maxBytes: Math.floor(opts.maxSize * 1024 * 1024) } : {}),
    ...(opts.maxRatio !== undefined ? { maxRatio: opts.maxRatio } : {}),
  };
}

interface ExportOptions {
  output?: string;
  gzip?: boolean;
  force?: boolean;
  json?: boolean;
  server?: string;
}

/** Runs `ml export`. */
export async function runExport(
  deps: CommandDeps,
  ref: string,
  opts: ExportOptions,
): Promise<ArchiveSummary> {
  const summary = await withClient(deps, opts.server, async (client) => {
    const id = await resolveTaskId(client, ref);
    const gzip = opts.gzip === true || /\.(t?gz)$/.test(opts.output ?? '');
    const out = resolve(deps.cwd, opts.output ?? `${id}.tar${gzip ? '.gz' : ''}`);
    if (!opts.force && existsSync(out)) {
      throw new FetchmlError('ML_ERR_CONFLICT', `${out} exists; pass --force to replace it`, {
        details: { path: out },
      });
    }
    const { body, bytes } = await client.exportTask(id);
    const partial = `${out}.partial-${process.pid}`;
    const progress = createProgress(
      deps.io.stderr,
      progressMode(deps.io.stderr, opts.json),
      { blobs: 1, bytes: bytes ?? 0 },
      deps.now,
      { label: 'exporting', unit: 'archive' },
    );
    let received = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        received += chunk.length;
        progress.update({ blobs: 0, bytes: Math.min(received, bytes ?? received) });
        cb(null, chunk);
      },
    });
    try {
      await (gzip
        ? pipeline(body, counter, createGzip(), createWriteStream(partial))
        : pipeline(body, counter, createWriteStream(partial)));
      progress.update({ blobs: 1, bytes: bytes ?? received });
      progress.done();
      const { verifyExport } = await import('../../export/verify.ts');
      const verified = await verifyExport(partial);
      if (verified.task.id !== id) {
        throw new FetchmlError(
          'ML_ERR_ARCHIVE_INVALID',
          `the server sent an export of ${verified.task.id}, not ${id}`,
        );
      }
      await rename(partial, out);
      const s = summarize(out, verified);
      s.archive_bytes = (await stat(out)).size;
      return s;
    } catch (err) {
      progress.done();
      await rm(partial, { force: true });
      throw err;
    }
  });
  if (opts.json) writeJson(deps.io.stdout, summary);
  else deps.io.stdout.write(`exported to ${summary.path}\n${describe(summary)}`);
  return summary;
}

/** Runs `ml verify-export`. */
export async function runVerifyExport(
  deps: CommandDeps,
  archive: string,
  opts: { json?: boolean; maxSize?: number; maxRatio?: number },
): Promise<ArchiveSummary> {
  const path = resolve(deps.cwd, archive);
  if (!existsSync(path)) {
    throw new FetchmlError('ML_ERR_VALIDATION', `${archive}: no such file`, {
      details: { field: 'archive', value: archive },
    });
  }
  const { verifyExport } = await import('../../export/verify.ts');
  const summary = summarize(path, await verifyExport(path, limitsFrom(opts)));
  if (opts.json) writeJson(deps.io.stdout, summary);
  else deps.io.stdout.write(`ok: ${path} is a valid fetchml export\n${describe(summary)}`);
  return summary;
}

/** The archive-limit flags shared by verify-export and import. */
export function addLimitFlags(cmd: Command): Command {
  return cmd
    .option(
      '--max-size <size>',
      'refuse an archive holding more than this, e.g. 200g (default 64g)',
      sizeFlag,
    )
    .option(
      '--max-ratio <n>',
      'refuse a gzip archive inflating more than n times its size (default 200)',
      positiveFlag,
    );
}

/** Registers `ml export` and `ml verify-export`. */
export function registerExport(program: Command, ctx: CliContext): void {
  program
    .command('export')
    .description("write one archive with a run's manifest, plan, log, artifacts and snapshot")
    .argument('<task>', 'task id (or a unique prefix)')
    .option('-o, --output <file>', 'archive to write (default <task-id>.tar; .gz/.tgz compresses)')
    .option('-z, --gzip', 'gzip-compress the archive')
    .option('--force', 'replace an existing file')
    .addHelpText(
      'after',
      examples(
        'ml export 01JD3Q3Z4X6V',
        'ml export 01JD3Q3Z4X6V -o run.tar.gz',
        'ml verify-export run.tar.gz && ml import run.tar.gz --server https://other:9101',
      ) +
        '\nThe archive is checked after it is written; `tar tf` lists it and `sha256sum -c\n' +
        'checksums.sha256` checks an extracted copy.\n',
    )
    .action(async (ref: string, opts: Omit<ExportOptions, 'json' | 'server'>, cmd: Command) => {
      const g = ctx.globals(cmd);
      await runExport(ctx.deps(), ref, {
        ...opts,
        json: g.json,
        ...(g.server ? { server: g.server } : {}),
      });
    });

  addLimitFlags(
    program
      .command('verify-export')
      .description('check an export archive offline: safe members, every checksum and record')
      .argument('<archive>', 'a file written by ml export (.tar or .tar.gz)'),
  )
    .addHelpText(
      'after',
      examples('ml verify-export run.tar.gz', 'ml verify-export big.tar --max-size 500g --json'),
    )
    .action(
      async (archive: string, opts: { maxSize?: number; maxRatio?: number }, cmd: Command) => {
        await runVerifyExport(ctx.deps(), archive, { ...opts, json: ctx.globals(cmd).json });
      },
    );
}
