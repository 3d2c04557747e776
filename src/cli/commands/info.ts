/**
 * @module cli/commands/info
 * `ml info <task>`: the run manifest (`run_manifest.json`, the provenance record the worker
 * writes) as a human summary — status, commit, plan sha, policy and trust, experiment and deps
 * manifest shas, datasets with checksums, image and digest, times, exit, resources, worker and
 * runtime, environment, warnings, final metrics, artifacts, and whether the record is complete
 * (core/manifest-checks, as `ml validate --task` checks it) — or as stored with `--json`. A task that has not started
 * has no manifest yet: the human view then shows the task record and says so; `--json` fails with
 * ML_ERR_MANIFEST_NOT_FOUND, so scripts always get a manifest or an error.
 */
import type { Command } from 'commander';

import { isFetchmlError } from '../../core/errors.ts';
import { manifestProblems } from '../../core/manifest-checks.ts';
import type { RunManifest } from '../../core/schemas/manifest.ts';
import type { Task } from '../../core/schemas/task.ts';
import { formatBytes } from '../../core/units.ts';
import { withClient } from '../shared/connect.ts';
import type { CliContext } from '../shared/context.ts';
import type { CommandDeps } from '../shared/deps.ts';
import { elapsedMs, formatDuration } from '../shared/format.ts';
import { formatCell, formatTable, writeJson } from '../shared/output.ts';
import { examples } from '../shared/program.ts';
import { resolveTaskId } from '../shared/task-ref.ts';

function kv(rows: [string, string][]): string {
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${`${k}:`.padEnd(width + 2)}${v}\n`).join('');
}

function duration(start: string | null, end: string | null, now: number): string {
  const ms = elapsedMs(start, end, now);
  return ms === null ? '-' : formatDuration(ms) + (end ? '' : ' (so far)');
}

/** Whether the manifest is complete (`ml validate --task` lists each problem). */
function recordLine(m: RunManifest): string {
  const problems = manifestProblems(m);
  if (problems.length === 0) return 'complete';
  return `${problems.length} problem${problems.length === 1 ? '' : 's'}: ${problems.join('; ')} (ml validate --task ${m.task_id})`;
}

/** The human summary of a run manifest. */
export function formatManifest(m: RunManifest, now: number): string {
  const l = m.lifecycle;
  const req = m.resources.requested;
  const got = m.resources.assigned;
  const gpus = got.gpu_indices.length > 0 ? ` [${got.gpu_indices.join(',')}]` : '';
  let out = kv([
    ['task', `${m.task_id} (${m.name}, user ${m.user}, attempt ${m.attempt})`],
    ['status', m.status + (l.exit_code !== null ? ` (exit ${l.exit_code})` : '')],
    ...(m.error ? [['reason', `${m.error.message} (${m.error.code})`] as [string, string]] : []),
    ['commit', m.commit_id],
    ['plan', `${m.plan_sha256} (${m.repro_policy}, trust ${m.trust_level})`],
    ['experiment', `fetchml.yaml sha256 ${m.experiment_manifest_sha256}`],
    ['command', [...m.plan.command, ...m.plan.args].join(' ')],
    ['queued', l.queued_at],
    ['started', l.started_at ?? '-'],
    ['ended', l.ended_at ?? '-'],
    ['duration', duration(l.started_at, l.ended_at, now)],
    [
      'resources',
      `requested ${req.cpus} cpus, ${req.memory_mb} MiB, ${req.gpus} gpus; assigned ${got.cpus} cpus, ${got.memory_mb} MiB, ${got.gpu_indices.length} gpus${gpus}`,
    ],
    [
      'worker',
      `${m.worker.id} on ${m.worker.host} (runtime ${m.worker.runtime}, ${m.worker.version})`,
    ],
    [
      'image',
      m.image.reference ? `${m.image.reference}${m.image.digest ? `@${m.image.digest}` : ''}` : '-',
    ],
    ['deps', m.deps_manifest ? `${m.deps_manifest.name} ${m.deps_manifest.sha256}` : '-'],
    [
      'datasets',
      m.datasets.length === 0
        ? '-'
        : m.datasets
            .map(
              (d) =>
                `${d.name} ${d.checksum ?? '(no checksum)'}${d.verified ? ' (verified)' : ' (not verified)'}`,
            )
            .join(', '),
    ],
    [
      'environment',
      Object.keys(m.environment).length === 0
        ? '-'
        : Object.entries(m.environment)
            .map(([k, v]) => `${k}=${v}`)
            .join(' '),
    ],
    ['record', recordLine(m)],
  ]);
  for (const w of m.warnings) out += `warning: ${w}\n`;
  const metrics = Object.entries(m.metrics);
  out += '\nmetrics (final values):\n';
  out +=
    metrics.length > 0
      ? kv(metrics.map(([k, v]) => [`  ${k}`, formatCell(v)]))
      : '  none (a run writes JSON lines to $FETCHML_METRICS, e.g. {"step": 1, "loss": 0.3})\n';
  out += `\nartifacts (${m.artifacts.length}):\n`;
  out +=
    m.artifacts.length === 0
      ? '  none (files the run writes to $FETCHML_OUTPUT are kept)\n'
      : formatTable(
          ['PATH', 'SIZE', 'SHA256'],
          m.artifacts.map((a) => [a.path, formatBytes(a.size), a.sha256.slice(0, 16)]),
        );
  return out;
}

/** The human summary of a task that has no manifest yet. */
export function formatTaskOnly(t: Task, now: number): string {
  return (
    kv([
      ['task', `${t.id} (${t.name}, user ${t.user}, attempt ${t.attempt}/${t.max_attempts})`],
      ['status', t.status + (t.exit_code !== null ? ` (exit ${t.exit_code})` : '')],
      ...(t.error ? [['reason', `${t.error.message} (${t.error.code})`] as [string, string]] : []),
      ['commit', t.commit_id],
      ['plan', `${t.plan_sha256} (${t.repro_policy}, trust ${t.trust_level})`],
      ['experiment', `fetchml.yaml sha256 ${t.plan.experiment_manifest_sha256}`],
      ['command', [...t.plan.command, ...t.plan.args].join(' ')],
      ['deps', t.plan.deps ? `${t.plan.deps.name} ${t.plan.deps.sha256}` : '-'],
      [
        'datasets',
        t.plan.datasets.length === 0
          ? '-'
          : t.plan.datasets.map((d) => `${d.name} ${d.checksum ?? '(no checksum)'}`).join(', '),
      ],
      ['image', t.plan.image.base ?? '-'],
      ['priority', String(t.priority)],
      [
        'resources',
        `${t.resources.cpus} cpus, ${t.resources.memory_mb} MiB, ${t.resources.gpus} gpus`,
      ],
      ['queued', t.queued_at],
      ['started', t.started_at ?? '-'],
      ['duration', duration(t.started_at, t.ended_at, now)],
      ...(t.error
        ? ([['error', `${t.error.code}: ${t.error.message}`]] as [string, string][])
        : []),
    ]) + 'no run manifest yet (a worker writes it when the task starts)\n'
  );
}

/** Runs `ml info`. */
export async function runInfo(
  deps: CommandDeps,
  ref: string,
  opts: { json?: boolean; server?: string },
): Promise<RunManifest | Task> {
  return withClient(deps, opts.server, async (client) => {
    const id = await resolveTaskId(client, ref);
    try {
      const manifest = await client.getManifest(id);
      if (opts.json) writeJson(deps.io.stdout, manifest);
      else deps.io.stdout.write(formatManifest(manifest, deps.now()));
      return manifest;
    } catch (err) {
      if (opts.json || !isFetchmlError(err, 'ML_ERR_MANIFEST_NOT_FOUND')) throw err;
    }
    const task = await client.getTask(id);
    deps.io.stdout.write(formatTaskOnly(task, deps.now()));
    return task;
  });
}

/** Registers `ml info`. */
export function registerInfo(program: Command, ctx: CliContext): void {
  program
    .command('info')
    .description(
      "a task's run manifest: status, commit, plan, times, resources, metrics, artifacts",
    )
    .argument('<task>', 'task id or a unique prefix of it')
    .addHelpText('after', examples('ml info 01JD3Q3Z4X6V', 'ml info 01JD3Q --json | jq .artifacts'))
    .action(async (task: string, _opts: unknown, cmd: Command) => {
      const g = ctx.globals(cmd);
      await runInfo(ctx.deps(), task, { json: g.json, ...(g.server ? { server: g.server } : {}) });
    });
}
