/**
 * @module cli/commands/reproduce
 * `ml reproduce <task>`: submits a new task from what the original's run manifest recorded — the
 * same commit, spec, arguments, resources, timeout, policy and priority, and every dataset pinned
 * to the checksum that was staged (a relaxed run that named none gets the one it ran on). With the
 * same inputs the server resolves the same plan, so the new task's plan_sha256 equals the
 * original's unless a dataset had to be pinned.
 *
 * `--verify` first has the server re-check every recorded hash (plan, manifest, snapshot tree and
 * blobs, datasets, artifacts; an image digest is compared after the run) and refuses to submit on
 * drift, naming each item (ML_ERR_REPRO_DRIFT). `--follow` (stream the log) or `--wait` (quietly)
 * then wait for the reproduction to end and compare its outputs with the original's by sha256:
 * identical, or which artifacts differ. Exit 0 when the outputs are bit-identical; 1 when they
 * differ or the reproduction did not complete.
 */
import type { Command } from 'commander';

import { ExitError, FetchmlError } from '../../core/errors.ts';
import type { CreateTaskRequest } from '../../core/schemas/api.ts';
import type { RunManifest } from '../../core/schemas/manifest.ts';
import type { TaskVerifyResponse } from '../../core/schemas/provenance.ts';
import type { Task } from '../../core/schemas/task.ts';
import { withClient } from '../shared/connect.ts';
import type { CliContext } from '../shared/context.ts';
import type { CliClient, CommandDeps } from '../shared/deps.ts';
import { followTask } from '../shared/follow.ts';
import { shortId } from '../shared/format.ts';
import { writeJson } from '../shared/output.ts';
import { examples } from '../shared/program.ts';
import { resolveTaskId } from '../shared/task-ref.ts';

/** Options of {@link runReproduce}. */
export interface ReproduceOptions {
  verify?: boolean;
  follow?: boolean;
  wait?: boolean;
  json?: boolean;
  server?: string;
  /** Poll interval of `--wait`, ms. @default 1000 */
  pollMs?: number;
}

/** How the reproduction's outputs compare with the original's. */
export interface OutputComparison {
  identical: boolean;
  /** Paths whose sha256 is the same in both. */
  same: string[];
  differ: { path: string; original: string; reproduction: string }[];
  only_original: string[];
  only_reproduction: string[];
  /** Other recorded facts that changed (image digest, dataset checksums, exit code). */
  drift: string[];
}

/** What `ml reproduce --json` prints. */
export interface ReproduceResult {
  original: string;
  reproduction: Task;
  verify: TaskVerifyResponse | null;
  plan_identical: boolean;
  /** Set once the reproduction ended (`--follow`/`--wait`). */
  outcome: {
    status: Task['status'];
    exit_code: number | null;
    outputs: OutputComparison;
  } | null;
}

/** Compares two run manifests' artifacts by path and sha256, and the facts a rerun may change. */
export function compareOutputs(original: RunManifest, again: RunManifest): OutputComparison {
  const a = new Map(original.artifacts.map((x) => [x.path, x.sha256]));
  const b = new Map(again.artifacts.map((x) => [x.path, x.sha256]));
  const out: OutputComparison = {
    identical: false,
    same: [],
    differ: [],
    only_original: [],
    only_reproduction: [],
    drift: [],
  };
  for (const [path, sha] of a) {
    const other = b.get(path);
    if (other === undefined) out.only_original.push(path);
    else if (other === sha) out.same.push(path);
    else out.differ.push({ path, original: sha, reproduction: other });
  }
  for (const path of b.keys()) if (!a.has(path)) out.only_reproduction.push(path);
  out.identical =
    out.differ.length === 0 && out.only_original.length === 0 && out.only_reproduction.length === 0;
  if (original.image.digest !== again.image.digest) {
    out.drift.push(
      `image digest ${original.image.digest ?? '(none)'} → ${again.image.digest ?? '(none)'}`,
    );
  }
  const ds = (m: RunManifest) => m.datasets.map((d) => `${d.name}=${d.checksum ?? '?'}`).join(', ');
  if (ds(original) !== ds(again)) out.drift.push(`datasets ${ds(original)} → ${ds(again)}`);
  if (original.lifecycle.exit_code !== again.lifecycle.exit_code) {
    out.drift.push(`exit code ${original.lifecycle.exit_code} → ${again.lifecycle.exit_code}`);
  }
  return out;
}

/** The submission that repeats `task` from its manifest `m`. */
export function reproduceRequest(task: Task, m: RunManifest): CreateTaskRequest {
  const staged = new Map(m.datasets.map((d) => [d.name, d.checksum]));
  const datasets = task.spec.datasets.map((d) =>
    d.checksum ? d : { ...d, checksum: staged.get(d.name) ?? undefined },
  );
  const { plan } = m;
  return {
    commit_id: m.commit_id,
    spec: { ...task.spec, datasets },
    args: [...plan.args],
    resources: plan.resources,
    ...(plan.timeout_s !== null ? { timeout_s: plan.timeout_s } : {}),
    priority: task.priority,
    repro_policy: m.repro_policy,
  };
}

function describeVerify(r: TaskVerifyResponse): string {
  return r.items
    .map((i) =>
      i.ok
        ? `  ok      ${i.name}${i.note ? ` (${i.note})` : ''}\n`
        : `  DRIFT   ${i.name}: ${i.problem ?? 'does not match'}\n`,
    )
    .join('');
}

function describeOutputs(o: OutputComparison): string {
  const total = o.same.length + o.differ.length + o.only_original.length;
  let out = o.identical
    ? `outputs: identical to the original's (${o.same.length} artifacts, bit for bit)\n`
    : `outputs: DIFFERENT (${o.differ.length + o.only_original.length + o.only_reproduction.length} of ${Math.max(total, o.only_reproduction.length)} artifacts)\n`;
  for (const d of o.differ) {
    out += `  differs   ${d.path}  ${d.original.slice(0, 12)} → ${d.reproduction.slice(0, 12)}\n`;
  }
  for (const p of o.only_original) out += `  missing   ${p} (only the original wrote it)\n`;
  for (const p of o.only_reproduction) out += `  new       ${p} (only the reproduction wrote it)\n`;
  for (const d of o.drift) out += `  note: ${d}\n`;
  return out;
}

/** Statuses a task ends in (kept here: core/schemas/task loads zod, which --help should not). */
const TERMINAL: readonly string[] = ['completed', 'failed', 'cancelled'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitForEnd(client: CliClient, id: string, pollMs: number): Promise<Task> {
  for (;;) {
    const t = await client.getTask(id);
    if (TERMINAL.includes(t.status)) return t;
    await sleep(pollMs);
  }
}

/** Runs `ml reproduce`. */
export async function runReproduce(
  deps: CommandDeps,
  ref: string,
  opts: ReproduceOptions,
): Promise<ReproduceResult> {
  const { io } = deps;
  const note = (s: string) => {
    if (!opts.json) io.stderr.write(s);
  };
  const result = await withClient(deps, opts.server, async (client) => {
    const id = await resolveTaskId(client, ref);
    const task = await client.getTask(id);
    let manifest: RunManifest;
    try {
      manifest = await client.getManifest(id);
    } catch (err) {
      if (err instanceof FetchmlError && err.code === 'ML_ERR_MANIFEST_NOT_FOUND') {
        throw new FetchmlError(
          'ML_ERR_MANIFEST_NOT_FOUND',
          `task ${id} has no run manifest (it has not run yet): there are no recorded inputs to reproduce`,
          { details: { task_id: id } },
        );
      }
      throw err;
    }
    let verify: TaskVerifyResponse | null = null;
    if (opts.verify) {
      verify = await client.verifyTask(id);
      note(`verifying the recorded inputs of ${id}:\n${describeVerify(verify)}`);
      const drift = verify.items.filter((i) => !i.ok);
      if (drift.length > 0) {
        throw new FetchmlError(
          'ML_ERR_REPRO_DRIFT',
          `the recorded inputs of ${id} drifted, so nothing was submitted: ` +
            drift.map((i) => `${i.name} (${i.problem ?? 'does not match'})`).join('; '),
          {
            details: {
              task_id: id,
              drift: drift.map((i) => ({ name: i.name, problem: i.problem })),
            },
          },
        );
      }
    }
    const reproduction = await client.createTask(reproduceRequest(task, manifest));
    const planIdentical = reproduction.plan_sha256 === manifest.plan_sha256;
    if (opts.json) {
      // stdout carries one JSON document, written at the end.
    } else {
      io.stdout.write(`${reproduction.id}\n`);
      note(
        `reproducing ${id} as ${reproduction.id}: plan ${planIdentical ? 'identical' : `differs (${manifest.plan_sha256.slice(0, 12)} → ${reproduction.plan_sha256.slice(0, 12)})`}\n`,
      );
    }
    const out: ReproduceResult = {
      original: id,
      reproduction,
      verify,
      plan_identical: planIdentical,
      outcome: null,
    };
    if (!opts.follow && !opts.wait) {
      note(
        `  follow it: ml logs -f ${shortId(reproduction.id)}; when it ends, compare the runs: ` +
          `ml compare ${shortId(id)} ${shortId(reproduction.id)}\n` +
          `  (ml reproduce ${shortId(id)} --follow waits and compares the outputs itself)\n`,
      );
      return out;
    }
    // With --json, stdout carries one document: the log is not streamed, the end is polled.
    if (opts.follow && !opts.json) await followTask(deps, client, reproduction.id);
    const ended = await waitForEnd(client, reproduction.id, opts.pollMs ?? 1000);
    let again: RunManifest | null = null;
    try {
      again = await client.getManifest(reproduction.id);
    } catch (err) {
      if (!(err instanceof FetchmlError && err.code === 'ML_ERR_MANIFEST_NOT_FOUND')) throw err;
    }
    const outputs = again
      ? compareOutputs(manifest, again)
      : compareOutputs(manifest, { ...manifest, artifacts: [] });
    out.reproduction = ended;
    out.outcome = { status: ended.status, exit_code: ended.exit_code, outputs };
    if (!opts.json) {
      io.stdout.write(
        `reproduction ${ended.id} ${ended.status}${ended.exit_code !== null ? ` (exit ${ended.exit_code})` : ''}\n` +
          describeOutputs(outputs),
      );
    }
    return out;
  });
  if (opts.json) writeJson(io.stdout, result);
  const o = result.outcome;
  if (o && (o.status !== 'completed' || !o.outputs.identical)) throw new ExitError(1);
  return result;
}

/** Registers `ml reproduce`. */
export function registerReproduce(program: Command, ctx: CliContext): void {
  program
    .command('reproduce')
    .description("submit a new task from a run's recorded inputs; compare its outputs when it ends")
    .argument('<task>', 'task id (or a unique prefix, as ml status shows it)')
    .option('--verify', 're-check every recorded hash first; refuse to submit on drift')
    .option('-f, --follow', "stream the reproduction's log, then compare outputs")
    .option('--wait', 'wait quietly for the reproduction to end, then compare outputs')
    .addHelpText(
      'after',
      examples(
        'ml reproduce 01JD3Q3Z4X6V --verify --follow',
        'ml reproduce 01JD3Q3Z4X6V --wait --json | jq .outcome.outputs.identical',
      ) +
        '\nExit codes: 0 outputs bit-identical (or submitted, without --follow/--wait); 1 drift,\n' +
        'different outputs, or a reproduction that did not complete.\n',
    )
    .action(
      async (
        ref: string,
        opts: Pick<ReproduceOptions, 'verify' | 'follow' | 'wait'>,
        cmd: Command,
      ) => {
        const g = ctx.globals(cmd);
        await runReproduce(ctx.deps(), ref, {
          ...opts,
          json: g.json,
          ...(g.server ? { server: g.server } : {}),
        });
      },
    );
}
