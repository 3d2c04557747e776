/**
 * @module cli/commands/validate
 * `ml validate [dir|commit]`: is this experiment ready to queue? Local checks first (fetchml.yaml
 * parses, a command is set), then the server's preflight through `POST /v1/plan` — the same checks
 * `ml queue` is blocked by and `ml explain` shows (deps manifest, datasets pinned and known, entry
 * script present, resources within what the workers offer). A commit id (64 hex digits, as
 * `ml sync` prints) checks that stored commit with the project's fetchml.yaml.
 *
 * `ml validate --task <id>`: is a run's record complete? Its run manifest is checked by
 * core/manifest-checks (lifecycle times and exit code by status, plan digest, snapshot, datasets
 * and image digests, artifacts).
 *
 * Exit 0 when valid, 1 when a check fails (each failure says what is missing or wrong); `--json`
 * prints `{target, ok, checks, ...}` either way.
 */
import type { Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';

import { ExitError, FetchmlError, isFetchmlError } from '../../core/errors.ts';
import type { ManifestCheck } from '../../core/manifest-checks.ts';
import type { PlanResponse } from '../../core/schemas/api.ts';
import type { ExperimentSpec } from '../../core/schemas/spec.ts';
import { withClient } from '../shared/connect.ts';
import type { CliContext } from '../shared/context.ts';
import type { CommandDeps } from '../shared/deps.ts';
import { writeJson } from '../shared/output.ts';
import { examples } from '../shared/program.ts';
import { loadSpec, requireProjectRoot, SPEC_FILE } from '../shared/project.ts';
import { resolveTaskId } from '../shared/task-ref.ts';
import { formatChecks, formatVerdict, planProject, projectRootOf } from './explain.ts';
import { choiceFlag } from './flags.ts';
import { buildTaskRequest } from './queue.ts';

type Check = { name: string; ok: boolean; blocking: boolean; message?: string; note?: string };

/** What `ml validate --json` prints. */
export interface ValidateResult {
  /** The project dir, the commit id, or the task id checked. */
  target: string;
  kind: 'experiment' | 'task';
  ok: boolean;
  checks: Check[];
  /** Experiments: the plan digest and trust level it would get (absent when it did not parse). */
  plan_sha256?: string;
  trust_level?: string;
  /** Tasks: the task's status. */
  status?: string;
}

export interface ValidateOptions {
  task?: string;
  reproPolicy?: 'strict' | 'relaxed';
  json?: boolean;
  server?: string;
}

const COMMIT_RE = /^[0-9a-f]{64}$/;

/** The local checks of a spec: it parses and names a command. */
async function specChecks(root: string): Promise<{ spec: ExperimentSpec | null; checks: Check[] }> {
  try {
    const spec = await loadSpec(root);
    const command = typeof spec.command === 'string' ? spec.command : spec.command.join(' ');
    return {
      spec,
      checks: [
        { name: `${SPEC_FILE} parses`, ok: true, blocking: true },
        { name: 'command present', ok: true, blocking: true, note: command },
      ],
    };
  } catch (err) {
    if (!isFetchmlError(err, 'ML_ERR_SPEC_INVALID')) throw err;
    const missingCommand = /(^|\s)command: /m.test(err.message);
    return {
      spec: null,
      checks: [
        { name: `${SPEC_FILE} parses`, ok: false, blocking: true, message: err.message },
        ...(missingCommand
          ? [
              {
                name: 'command present',
                ok: false,
                blocking: true,
                message: 'set `command:` in fetchml.yaml (e.g. "python3 train.py")',
              },
            ]
          : []),
      ],
    };
  }
}

function fromPlan(answer: PlanResponse): Check[] {
  return answer.checks.map((c) =>
    // Under relaxed, a failing blocking check does not stop the queue: shown as a warning.
    !c.ok && c.blocking && !answer.blocked_by.includes(c.name) ? { ...c, blocking: false } : c,
  );
}

/** Validates an experiment (a project dir, or a stored commit with the project's spec). */
async function validateExperiment(
  deps: CommandDeps,
  target: string | undefined,
  opts: ValidateOptions,
): Promise<ValidateResult> {
  const isCommit = target !== undefined && COMMIT_RE.test(target);
  if (target !== undefined && !isCommit && !existsSync(resolve(deps.cwd, target))) {
    throw new FetchmlError(
      'ML_ERR_VALIDATION',
      `${target}: not a directory or a commit id (64 hex digits, as ml sync prints)`,
      { details: { field: 'target', value: target } },
    );
  }
  if (target !== undefined && !isCommit && !statSync(resolve(deps.cwd, target)).isDirectory()) {
    throw new FetchmlError('ML_ERR_VALIDATION', `${target}: not a directory`, {
      details: { field: 'target', value: target },
    });
  }
  const root = isCommit ? requireProjectRoot(deps.cwd) : projectRootOf(deps, target);
  const local = await specChecks(root);
  const result: ValidateResult = {
    target: isCommit ? target : root,
    kind: 'experiment',
    ok: false,
    checks: local.checks,
  };
  if (!local.spec) return result;
  const policy = opts.reproPolicy !== undefined ? { reproPolicy: opts.reproPolicy } : {};
  let answer: PlanResponse;
  if (isCommit) {
    const { commit_id, spec, args, repro_policy } = buildTaskRequest(
      target,
      local.spec,
      policy,
      [],
    );
    answer = await withClient(deps, opts.server, (client) =>
      client.planTask({ commit_id, spec, args, ...(repro_policy ? { repro_policy } : {}) }),
    );
  } else {
    answer = await planProject(
      deps,
      root,
      { ...policy, ...(opts.server ? { server: opts.server } : {}) },
      [],
      local.spec,
    );
  }
  result.checks.push(...fromPlan(answer));
  result.ok = answer.blocked_by.length === 0;
  result.plan_sha256 = answer.plan_sha256;
  result.trust_level = answer.trust_level;
  return result;
}

/** Validates a task's run manifest. */
async function validateTask(
  deps: CommandDeps,
  ref: string,
  opts: ValidateOptions,
): Promise<ValidateResult> {
  const { manifestChecks } = await import('../../core/manifest-checks.ts');
  return withClient(deps, opts.server, async (client) => {
    const id = await resolveTaskId(client, ref);
    const task = await client.getTask(id);
    try {
      const m = await client.getManifest(id);
      const checks: ManifestCheck[] = manifestChecks(m);
      return {
        target: id,
        kind: 'task',
        status: m.status,
        ok: checks.every((c) => c.ok || !c.blocking),
        checks,
      };
    } catch (err) {
      if (!isFetchmlError(err, 'ML_ERR_MANIFEST_NOT_FOUND')) throw err;
      // Queued, or cancelled before it started: no run, so no manifest is expected.
      const expected = task.status === 'queued' || task.started_at === null;
      const check: Check = expected
        ? {
            name: 'run manifest',
            ok: true,
            blocking: true,
            note: `none yet: the task is ${task.status} and never started`,
          }
        : {
            name: 'run manifest',
            ok: false,
            blocking: true,
            message: `task is ${task.status} (started ${task.started_at}) but has no run_manifest.json`,
          };
      return { target: id, kind: 'task', status: task.status, ok: check.ok, checks: [check] };
    }
  });
}

/** Runs `ml validate`; throws ExitError(1) when a check fails. */
export async function runValidate(
  deps: CommandDeps,
  target: string | undefined,
  opts: ValidateOptions,
): Promise<ValidateResult> {
  if (opts.task !== undefined && target !== undefined) {
    throw new FetchmlError(
      'ML_ERR_VALIDATION',
      `give a project/commit or --task, not both (got ${target} and --task ${opts.task})`,
      { details: { field: 'task' } },
    );
  }
  const result =
    opts.task !== undefined
      ? await validateTask(deps, opts.task, opts)
      : await validateExperiment(deps, target, opts);
  if (opts.json) writeJson(deps.io.stdout, result);
  else {
    const what =
      result.kind === 'task' ? `task ${result.target} (${result.status})` : result.target;
    let out = `validate ${what}\n${formatChecks(result.checks)}\n`;
    if (result.kind === 'experiment' && result.plan_sha256 !== undefined) {
      const failed = result.checks.filter((c) => !c.ok && c.blocking).map((c) => c.name);
      out += formatVerdict(
        failed,
        result.trust_level ?? 'unverified',
        opts.reproPolicy ?? 'strict',
      );
    } else if (result.ok) {
      out += result.kind === 'task' ? 'valid: the run record is complete\n' : 'valid\n';
    } else {
      const n = result.checks.filter((c) => !c.ok && c.blocking).length;
      out += `invalid: ${n} check${n === 1 ? '' : 's'} failed\n`;
    }
    deps.io.stdout.write(out);
  }
  if (!result.ok) throw new ExitError(1);
  return result;
}

/** Registers `ml validate`. */
export function registerValidate(program: Command, ctx: CliContext): void {
  program
    .command('validate')
    .description("check an experiment before queueing it, or a run's manifest (--task)")
    .argument(
      '[target]',
      'project directory or commit id (default: the project around the working directory)',
    )
    .option('--task <id>', "check this task's run manifest instead")
    .option(
      '--repro-policy <policy>',
      'strict (default) or relaxed: what relaxed would let through',
      choiceFlag(['strict', 'relaxed'] as const),
    )
    .addHelpText(
      'after',
      examples(
        'ml validate',
        'ml validate ../other-project',
        "ml validate 3f2a…(64 hex digits)   # a synced commit, with this project's fetchml.yaml",
        'ml validate --task 01JD3Q3Z4X6V',
        'ml validate --json | jq .checks',
      ) +
        '\nExit codes: 0 valid; 1 a check failed (each says what is missing or wrong) or an error.\n',
    )
    .action(async (target: string | undefined, opts: ValidateOptions, cmd: Command) => {
      const g = ctx.globals(cmd);
      await runValidate(ctx.deps(), target, {
        ...opts,
        json: g.json,
        ...(g.server ? { server: g.server } : {}),
      });
    });
}
