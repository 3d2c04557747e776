/**
 * @module export/verify
 * `ml verify-export`: checks an export archive offline, with nothing but the file. One pass over
 * the archive through the safe reader (./read.ts: hostile names, links, devices, duplicates, size,
 * ratio and member-count caps), hashing every member; then:
 *
 * 1. `checksums.sha256` lists every other member exactly once, and each hashes as listed.
 * 2. Every member is one the layout (./format.ts) has a place for.
 * 3. `export.json`, `task.json`, `plan.json`, `run_manifest.json` and `snapshot/tree.json` are valid.
 * 4. They agree: one task id; the tree hashes to the task's commit id; the plan hashes to the
 *    task's plan_sha256 (and the manifest records the same); every file of the tree and every
 *    artifact of the manifest is present with the recorded size and sha256, and nothing else is.
 *
 * Every problem found is listed; the error thrown names the first, with all of them in
 * `details.problems`. Checksums problems are ML_ERR_ARCHIVE_CHECKSUM; layout and document
 * problems ML_ERR_ARCHIVE_INVALID.
 */
import { createHash } from 'node:crypto';
import type { z } from 'zod';

import { FetchmlError } from '../core/errors.ts';
import type { ErrorCode } from '../core/errors.ts';
import { canonicalSha256 } from '../core/hash.ts';
import { formatIssues } from '../core/schemas/common.ts';
import { RunManifest } from '../core/schemas/manifest.ts';
import { Plan, Task } from '../core/schemas/task.ts';
import { TreeManifest } from '../core/schemas/tree.ts';
import { ARTIFACT_PREFIX, ExportInfo, MEMBER, parseChecksums, SNAPSHOT_PREFIX } from './format.ts';
import { DEFAULT_ARCHIVE_LIMITS, readArchive } from './read.ts';
import type { ArchiveLimits } from './read.ts';

/** Largest JSON member read into memory. */
const MAX_DOC_BYTES = 256 * 1024 * 1024;
const DOCS = new Set<string>([
  MEMBER.info,
  MEMBER.task,
  MEMBER.plan,
  MEMBER.manifest,
  MEMBER.tree,
  MEMBER.checksums,
]);

/** One member as the verifier saw it. */
export interface VerifiedMember {
  sha256: string;
  size: number;
}

/** A verified export: its documents and every member's hash. */
export interface VerifiedExport {
  info: ExportInfo;
  task: Task;
  plan: Plan;
  manifest: RunManifest;
  tree: TreeManifest;
  members: Map<string, VerifiedMember>;
  /** sha256 of `checksums.sha256`: names this export. */
  checksums_sha256: string;
  /** The log member's hash, or null when the export has no log. */
  log: VerifiedMember | null;
  bytes: number;
  compressed: boolean;
  archiveBytes: number;
}

interface Problem {
  code: ErrorCode;
  message: string;
}

function parseDoc<S extends z.ZodType>(
  schema: S,
  name: string,
  text: string | undefined,
  problems: Problem[],
): z.output<S> | null {
  if (text === undefined) {
    problems.push({ code: 'ML_ERR_ARCHIVE_INVALID', message: `${name} is missing` });
    return null;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    problems.push({ code: 'ML_ERR_ARCHIVE_INVALID', message: `${name} is not valid JSON` });
    return null;
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issues = formatIssues(parsed.error).slice(0, 3).join('; ');
    problems.push({ code: 'ML_ERR_ARCHIVE_INVALID', message: `${name} is invalid: ${issues}` });
    return null;
  }
  return parsed.data;
}

/** Checks that the files `expected` (path → sha/size) are exactly the members under `prefix`. */
function checkFiles(
  what: string,
  prefix: string,
  expected: Map<string, VerifiedMember>,
  members: Map<string, VerifiedMember>,
  problems: Problem[],
): void {
  for (const [path, want] of expected) {
    const got = members.get(prefix + path);
    if (!got) {
      problems.push({
        code: 'ML_ERR_ARCHIVE_INVALID',
        message: `${what} ${path} is recorded but ${prefix}${path} is not in the archive`,
      });
    } else if (got.sha256 !== want.sha256 || got.size !== want.size) {
      problems.push({
        code: 'ML_ERR_ARCHIVE_CHECKSUM',
        message: `${what} ${path}: content hashes to ${got.sha256} (${got.size} bytes), the record says ${want.sha256} (${want.size} bytes)`,
      });
    }
  }
  for (const name of members.keys()) {
    if (name.startsWith(prefix) && !expected.has(name.slice(prefix.length))) {
      problems.push({
        code: 'ML_ERR_ARCHIVE_INVALID',
        message: `${name} is in the archive but no record lists it`,
      });
    }
  }
}

/**
 * Verifies the export archive at `path` (see the module doc). Resolves with its contents when
 * everything checks; rejects with a named FetchmlError otherwise.
 */
export async function verifyExport(
  path: string,
  limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS,
): Promise<VerifiedExport> {
  const members = new Map<string, VerifiedMember>();
  const docs = new Map<string, string>();
  const summary = await readArchive(
    path,
    async (header, content) => {
      const hash = createHash('sha256');
      const keep = DOCS.has(header.name) && header.size <= MAX_DOC_BYTES;
      const parts: Buffer[] = [];
      for await (const chunk of content) {
        hash.update(chunk);
        if (keep) parts.push(chunk);
      }
      members.set(header.name, { sha256: hash.digest('hex'), size: header.size });
      if (keep) docs.set(header.name, Buffer.concat(parts).toString('utf8'));
    },
    limits,
  );

  const problems: Problem[] = [];
  // 1. The checksums file.
  const checksumsText = docs.get(MEMBER.checksums);
  const listed = checksumsText === undefined ? null : parseChecksums(checksumsText);
  if (listed === null) {
    problems.push({ code: 'ML_ERR_ARCHIVE_INVALID', message: `${MEMBER.checksums} is missing` });
  } else if (typeof listed === 'string') {
    problems.push({ code: 'ML_ERR_ARCHIVE_INVALID', message: `${MEMBER.checksums}: ${listed}` });
  } else {
    for (const [name, sha] of listed) {
      const got = members.get(name);
      if (!got) {
        problems.push({
          code: 'ML_ERR_ARCHIVE_INVALID',
          message: `${MEMBER.checksums} lists ${name}, which is not in the archive`,
        });
      } else if (got.sha256 !== sha) {
        problems.push({
          code: 'ML_ERR_ARCHIVE_CHECKSUM',
          message: `${name}: content hashes to ${got.sha256}, ${MEMBER.checksums} says ${sha}`,
        });
      }
    }
    for (const name of members.keys()) {
      if (name !== MEMBER.checksums && !listed.has(name)) {
        problems.push({
          code: 'ML_ERR_ARCHIVE_INVALID',
          message: `${name} is not listed in ${MEMBER.checksums}`,
        });
      }
    }
  }
  // 2. Layout.
  const fixed = new Set<string>(Object.values(MEMBER));
  for (const name of members.keys()) {
    if (
      !fixed.has(name) &&
      !name.startsWith(SNAPSHOT_PREFIX) &&
      !name.startsWith(ARTIFACT_PREFIX)
    ) {
      problems.push({
        code: 'ML_ERR_ARCHIVE_INVALID',
        message: `${name} has no place in an export archive`,
      });
    }
  }
  // 3. Documents.
  const info = parseDoc(ExportInfo, MEMBER.info, docs.get(MEMBER.info), problems);
  const task = parseDoc(Task, MEMBER.task, docs.get(MEMBER.task), problems);
  const plan = parseDoc(Plan, MEMBER.plan, docs.get(MEMBER.plan), problems);
  const manifest = parseDoc(RunManifest, MEMBER.manifest, docs.get(MEMBER.manifest), problems);
  const tree = parseDoc(TreeManifest, MEMBER.tree, docs.get(MEMBER.tree), problems);
  // 4. Agreement.
  const disagree = (message: string) => problems.push({ code: 'ML_ERR_ARCHIVE_INVALID', message });
  if (task) {
    if (info && info.task_id !== task.id)
      disagree(`export.json names task ${info.task_id}, task.json is ${task.id}`);
    if (manifest && manifest.task_id !== task.id)
      disagree(`run_manifest.json is of task ${manifest.task_id}, task.json is ${task.id}`);
    if (plan) {
      const sha = canonicalSha256(plan);
      if (sha !== task.plan_sha256)
        problems.push({
          code: 'ML_ERR_ARCHIVE_CHECKSUM',
          message: `plan.json hashes to ${sha}, the task records plan_sha256 ${task.plan_sha256}`,
        });
    }
    if (manifest && manifest.plan_sha256 !== task.plan_sha256)
      disagree(
        `run_manifest.json records plan_sha256 ${manifest.plan_sha256}, the task ${task.plan_sha256}`,
      );
    if (tree) {
      const commit = canonicalSha256(tree);
      if (commit !== task.commit_id)
        problems.push({
          code: 'ML_ERR_ARCHIVE_CHECKSUM',
          message: `snapshot/tree.json hashes to ${commit}, the task's commit is ${task.commit_id}`,
        });
    }
    if (info && info.commit_id !== task.commit_id)
      disagree(`export.json names commit ${info.commit_id}, the task's is ${task.commit_id}`);
    if (manifest && manifest.commit_id !== task.commit_id)
      disagree(
        `run_manifest.json records commit ${manifest.commit_id}, the task ${task.commit_id}`,
      );
  }
  if (tree) {
    const files = new Map<string, VerifiedMember>();
    for (const e of tree.entries) {
      if (e.type === 'file') files.set(e.path, { sha256: e.sha256, size: e.size });
    }
    checkFiles('snapshot file', SNAPSHOT_PREFIX, files, members, problems);
  }
  if (manifest) {
    const files = new Map<string, VerifiedMember>();
    for (const a of manifest.artifacts) files.set(a.path, { sha256: a.sha256, size: a.size });
    checkFiles('artifact', ARTIFACT_PREFIX, files, members, problems);
  }

  if (problems.length > 0 || !info || !task || !plan || !manifest || !tree) {
    const [firstProblem] = problems as [Problem, ...Problem[]];
    const n = problems.length - 1;
    const more = n > 0 ? ` (and ${n} more problem${n === 1 ? '' : 's'})` : '';
    throw new FetchmlError(firstProblem.code, `${path}: ${firstProblem.message}${more}`, {
      details: { archive: path, problems: problems.map((p) => p.message) },
    });
  }
  const checksums = members.get(MEMBER.checksums) as VerifiedMember;
  return {
    info,
    task,
    plan,
    manifest,
    tree,
    members,
    checksums_sha256: checksums.sha256,
    log: members.get(MEMBER.log) ?? null,
    bytes: summary.bytes,
    compressed: summary.compressed,
    archiveBytes: summary.archiveBytes,
  };
}
