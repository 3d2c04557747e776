/**
 * @module cli/commands/explain
 * `ml explain [dir] [-- args]`: the plan `ml queue` would submit and its preflight checks, without
 * queueing or uploading anything. The project is snapshotted locally and its tree manifest sent to
 * `POST /v1/plan`, which resolves it with the same server function that `POST /v1/tasks` runs
 * before it blocks a failing strict preflight — with the same flags, `ml explain` shows exactly
 * what `ml queue` would record (commit id, plan, plan_sha256, trust level) or be refused with.
 * Exit 1 when the strict preflight would block (each failing check says what to fix).
 */
import type { Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { ExitError, FetchmlError } from '../../core/errors.ts';
import type { PlanResponse } from '../../core/schemas/api.ts';
import type { ExperimentSpec } from '../../core/schemas/spec.ts';
import type { TreeManifest } from '../../core/schemas/tree.ts';
import { formatBytes } from '../../core/units.ts';
import { withClient } from '../shared/connect.ts';
import type { CliContext } from '../shared/context.ts';
import type { CommandDeps } from '../shared/deps.ts';
import { writeJson } from '../shared/output.ts';
import { examples } from '../shared/program.ts';
import { loadSpec, requireProjectRoot, SPEC_FILE } from '../shared/project.ts';
import { choiceFlag, durationFlag, positiveFlag, sizeFlag, intFlag } from './flags.ts';
import type { QueueOptions } from './queue.ts';
import { buildTaskRequest } from './queue.ts';

/** Options of {@link runExplain}: `ml queue`'s overrides (priority and name do not change a plan). */
export type ExplainOptions = Pick<
  QueueOptions,
  'cpus' | 'memory' | 'gpus' | 'timeout' | 'reproPolicy' | 'json' | 'server'
>;

/** What `ml explain --json` prints: the server's answer plus where it came from. */
export interface ExplainResult extends PlanResponse {
  project: string;
  files: number;
  bytes: number;
}

/** The project root `dir` names (itself, holding fetchml.yaml), or the one around the cwd. */
export function projectRootOf(deps: CommandDeps, dir: string | undefined): string {
  if (dir === undefined) return requireProjectRoot(deps.cwd);
  const root = resolve(deps.cwd, dir);
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new FetchmlError('ML_ERR_VALIDATION', `${dir}: not a directory`, {
      details: { field: 'dir', value: dir },
    });
  }
  if (!existsSync(join(root, SPEC_FILE))) {
    throw new FetchmlError(
      'ML_ERR_SPEC_INVALID',
      `no ${SPEC_FILE} in ${root}: run \`ml init\` there first`,
      { details: { dir: root } },
    );
  }
  return root;
}

/** Snapshots `root` locally (nothing is uploaded) and asks the server for the plan. */
export async function planProject(
  deps: CommandDeps,
  root: string,
  opts: ExplainOptions,
  args: readonly string[],
  spec?: ExperimentSpec,
): Promise<ExplainResult> {
  const theSpec = spec ?? (await loadSpec(root));
  const { snapshotTree } = await import('../../snapshot/index.ts');
  const snap = await snapshotTree(root);
  for (const w of snap.warnings) deps.io.stderr.write(`warning: ${w.path}: ${w.reason}\n`);
  const manifest: TreeManifest = snap.manifest;
  const {
    commit_id: _commit,
    priority: _priority,
    max_attempts: _attempts,
    ...request
  } = buildTaskRequest(snap.commitId, theSpec, opts, args);
  const answer = await withClient(deps, opts.server, (client) =>
    client.planTask({ ...request, manifest }),
  );
  return {
    ...answer,
    project: root,
    files: snap.stats.files + snap.stats.symlinks,
    bytes: snap.stats.bytes,
  };
}

function kv(rows: [string, string][]): string {
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${`${k}:`.padEnd(width + 2)}${v}\n`).join('');
}

/** The preflight checks, one line each: ok, FAIL (blocking) or warn (lowers the trust level). */
export function formatChecks(checks: PlanResponse['checks']): string {
  return checks
    .map((c) => {
      const mark = c.ok ? 'ok  ' : c.blocking ? 'FAIL' : 'warn';
      const why = c.ok ? (c.note ? ` — ${c.note}` : '') : ` — ${c.message ?? 'failed'}`;
      return `  ${mark}  ${c.name}${why}\n`;
    })
    .join('');
}

/** The verdict line(s) after the checks. */
export function formatVerdict(blockedBy: readonly string[], trust: string, policy: string): string {
  if (blockedBy.length > 0) {
    return (
      `blocked: ${blockedBy.length} check${blockedBy.length === 1 ? '' : 's'} fail under the strict policy; ` +
      'fix them, or queue with --repro-policy relaxed (recorded as trust unverified)\n'
    );
  }
  return `would be queued with trust level ${trust} (${policy} policy)\n`;
}

/** The human view of a plan. */
export function formatExplain(r: ExplainResult): string {
  const p = r.plan;
  const image = p.image.base
    ? `${p.image.base} (base)`
    : "none: runs on the worker's own software (sandbox or process runtime)";
  const warmed = p.image.warmed_tag
    ? `${p.image.warmed_tag}`
    : r.warmed_candidate
      ? `none (it would be ${r.warmed_candidate}; ${r.warmed_exists ? 'present' : 'not built'})`
      : 'none';
  let out = `plan for ${r.project}\n`;
  out += kv([
    [
      'commit',
      `${r.commit_id}${r.commit_stored ? '' : ' (not on the server yet: ml queue uploads it)'}`,
    ],
    ['snapshot', `${p.snapshot_id} (${r.files} files, ${formatBytes(r.bytes)})`],
    ['experiment', `${SPEC_FILE} sha256 ${p.experiment_manifest_sha256}`],
    ['deps', p.deps ? `${p.deps.name} sha256 ${p.deps.sha256}` : 'none'],
    [
      'datasets',
      p.datasets.length === 0
        ? 'none'
        : p.datasets.map((d) => `${d.name} ${d.checksum ?? '(no checksum)'}`).join(', '),
    ],
    ['command', [...p.command, ...p.args].join(' ')],
    [
      'resources',
      `${p.resources.cpus} cpus, ${formatBytes(p.resources.memory_mb * 1024 * 1024)}, ${p.resources.gpus} gpus`,
    ],
    ['image', image],
    ['warmed image', warmed],
    ['network', p.network],
    ['timeout', p.timeout_s === null ? 'none' : `${p.timeout_s} s`],
    ['policy', `${p.repro_policy} → trust ${r.trust_level}`],
    ['plan_sha256', r.plan_sha256],
  ]);
  out += `\npreflight:\n${formatChecks(r.checks)}\n${formatVerdict(r.blocked_by, r.trust_level, p.repro_policy)}`;
  return out;
}

/** Runs `ml explain`; throws ExitError(1) when the strict preflight would block. */
export async function runExplain(
  deps: CommandDeps,
  dir: string | undefined,
  opts: ExplainOptions,
  args: readonly string[] = [],
): Promise<ExplainResult> {
  const root = projectRootOf(deps, dir);
  const result = await planProject(deps, root, opts, args);
  if (opts.json) writeJson(deps.io.stdout, result);
  else deps.io.stdout.write(formatExplain(result));
  if (result.blocked_by.length > 0) throw new ExitError(1);
  return result;
}

/**
 * `[dir] [args...]` as typed: operands after `--` are always command arguments, so
 * `ml explain -- --lr 0.1` has no dir (commander would otherwise take `--lr` as one).
 */
export function dirAndArgs(
  cmd: Command,
  dir: string | undefined,
  args: string[],
): { dir: string | undefined; args: string[] } {
  // commander keeps the argv it parsed on the root command (not in its typings).
  const rawArgs: unknown = cmd.parent ? Reflect.get(cmd.parent, 'rawArgs') : undefined;
  const raw: readonly unknown[] = Array.isArray(rawArgs) ? rawArgs : [];
  const dash = raw.indexOf('--');
  const afterDash = dash === -1 ? 0 : raw.length - dash - 1;
  const operands = (dir === undefined ? 0 : 1) + args.length;
  if (dir !== undefined && afterDash >= operands) return { dir: undefined, args: [dir, ...args] };
  return { dir, args };
}

/** Registers `ml explain`. */
export function registerExplain(program: Command, ctx: CliContext): void {
  program
    .command('explain')
    .description('show the plan `ml queue` would submit and its preflight checks, without queueing')
    .argument('[dir]', 'project directory (default: the project around the working directory)')
    .argument('[args...]', 'extra arguments appended to the command (after --)')
    .option('--cpus <n>', 'CPUs (overrides resources.cpus)', positiveFlag)
    .option('--memory <size>', 'memory, e.g. 512m or 4g (overrides resources.memory)', sizeFlag)
    .option('--gpus <n>', 'GPUs (overrides resources.gpus)', intFlag(0, 64))
    .option('--timeout <duration>', 'timeout, e.g. 90s, 30m, 2h', durationFlag)
    .option(
      '--repro-policy <policy>',
      'strict (default) or relaxed: see what relaxed would record',
      choiceFlag(['strict', 'relaxed'] as const),
    )
    .addHelpText(
      'after',
      examples(
        'ml explain',
        'ml explain ../other-project --gpus 1 -- --lr 0.01',
        'ml explain --json | jq -r .plan_sha256',
        'ml explain --repro-policy relaxed',
      ) +
        '\nExit codes: 0 the plan would be queued; 1 the strict preflight would block it (each\n' +
        'failing check says what to fix) or an error.\n',
    )
    .action(async (dir: string | undefined, args: string[], opts: ExplainOptions, cmd: Command) => {
      const g = ctx.globals(cmd);
      const split = dirAndArgs(cmd, dir, args);
      await runExplain(
        ctx.deps(),
        split.dir,
        { ...opts, json: g.json, ...(g.server ? { server: g.server } : {}) },
        split.args,
      );
    });
}
