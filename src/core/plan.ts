/**
 * @module core/plan
 * Resolving an experiment spec + commit into a plan, and the strict preflight.
 *
 * One function, {@link resolvePlan}, is used by `ml explain` / `ml validate` (through the
 * server's `POST /v1/plan`, to show the plan), by the server when a task is submitted (to block
 * it) and by the worker before it runs a task (to refuse one whose recorded plan no longer follows
 * from its recorded inputs, {@link verifyTaskPlan}): what you preview is exactly what gets checked
 * and what runs. It is pure: the caller passes the commit's tree manifest (and what the registered
 * workers offer), so the same inputs always give the same plan and the same `plan_sha256`.
 *
 * Policies: `strict` (the default) blocks a submission when a blocking check fails; `relaxed`
 * (asked for with `repro_policy: relaxed` in fetchml.yaml or `--repro-policy relaxed`) lets it
 * through and the task records the lower trust level that the failed checks earn.
 *
 * Trust ladder (lowest first): `unverified` — a blocking check failed (only possible under
 * `relaxed`); `pinned` — code, deps manifest and datasets pinned by hash, but the software
 * environment is not (no image, or an image by tag); `verified` — every check passed, including an
 * image pinned by digest.
 */
import { FetchmlError } from './errors.ts';
import { canonicalSha256, sha256Hex } from './hash.ts';
import type { Resources } from './schemas/common.ts';
import { commandArgv, type ExperimentSpec } from './schemas/spec.ts';
import type { Plan, Task } from './schemas/task.ts';
import type { TreeManifest } from './schemas/tree.ts';
import { formatBytes } from './units.ts';

export type ReproPolicyName = 'strict' | 'relaxed';
export type TrustLevelName = 'unverified' | 'pinned' | 'verified';

/**
 * Dependency manifests found at the snapshot root when fetchml.yaml names none, in the order they
 * are preferred: lock files (exact versions) before requirement lists.
 */
export const DEPS_MANIFEST_NAMES: readonly string[] = [
  'conda-lock.yml',
  'uv.lock',
  'poetry.lock',
  'Pipfile.lock',
  'pdm.lock',
  'requirements.txt',
  'environment.yml',
  'environment.yaml',
  'pyproject.toml',
  'Pipfile',
];

/** `deps: none` in fetchml.yaml: the run needs nothing beyond its image (said, not assumed). */
export const DEPS_NONE = 'none';

export interface PreflightCheck {
  name: string;
  ok: boolean;
  /** What is wrong and how to fix it (set when `ok` is false). */
  message?: string;
  /** What was found, for `ml explain` (e.g. which deps file was picked). */
  note?: string;
  /** A failing blocking check stops the submission under the strict policy. */
  blocking: boolean;
}

export interface ResolvedPlan {
  plan: Plan;
  plan_sha256: string;
  trust_level: TrustLevelName;
  checks: PreflightCheck[];
}

export interface ResolvePlanInput {
  commitId: string;
  manifest: TreeManifest;
  spec: ExperimentSpec;
  args?: readonly string[];
  /** From the request (`--repro-policy`); else the spec's `repro_policy`; else strict. */
  policy?: ReproPolicyName;
  /** Overrides from the command line (`ml queue --cpus 2`). */
  resources?: Partial<Resources>;
  timeoutS?: number | null;
  /** The worker-side warmed image tag for these deps, when one is known. */
  warmedTag?: string | null;
  /**
   * What each registered worker offers in total: a task asking for more than every one of them
   * could ever run is blocked. Undefined: not checked (the worker's re-check); empty: no worker
   * has registered yet, so nothing to compare with (noted, not blocked).
   */
  capacity?: readonly Resources[];
}

function check(
  name: string,
  ok: boolean,
  blocking: boolean,
  message: string,
  note?: string,
): PreflightCheck {
  return {
    name,
    ok,
    blocking,
    ...(ok ? {} : { message }),
    ...(note !== undefined ? { note } : {}),
  };
}

/** The deps manifest of the plan and the check that found (or missed) it. */
function depsCheck(spec: ExperimentSpec, manifest: TreeManifest): [Plan['deps'], PreflightCheck] {
  const name = 'deps manifest present';
  const fileAt = (path: string) =>
    manifest.entries.find((e) => e.path === path && e.type === 'file');
  if (spec.deps === DEPS_NONE) {
    return [null, check(name, true, true, '', 'deps: none (declared in fetchml.yaml)')];
  }
  if (spec.deps !== undefined) {
    const entry = fileAt(spec.deps);
    if (entry?.type === 'file') {
      return [{ name: entry.path, sha256: entry.sha256 }, check(name, true, true, '', entry.path)];
    }
    return [
      null,
      check(
        name,
        false,
        true,
        `deps: ${spec.deps} is not a file in the snapshot (is it ignored by .gitignore or .mlignore, or misspelled?)`,
      ),
    ];
  }
  for (const candidate of DEPS_MANIFEST_NAMES) {
    const entry = fileAt(candidate);
    if (entry?.type === 'file') {
      return [
        { name: entry.path, sha256: entry.sha256 },
        check(name, true, true, '', `${entry.path} (found at the project root)`),
      ];
    }
  }
  return [
    null,
    check(
      name,
      false,
      true,
      'no dependency manifest: add one to the project root (e.g. `pip freeze > requirements.txt`; ' +
        `also recognised: ${DEPS_MANIFEST_NAMES.filter((n) => n !== 'requirements.txt').join(', ')}), ` +
        'name it with `deps: <path>` in fetchml.yaml, or write `deps: none` if the run needs nothing beyond its image',
    ),
  ];
}

/** The check that some registered worker could ever run `want`. */
function capacityCheck(want: Resources, capacity: readonly Resources[]): PreflightCheck {
  const name = 'resources within worker limits';
  if (capacity.length === 0) {
    return check(name, true, true, '', 'no worker has registered yet: not checked');
  }
  const fits = capacity.some(
    (w) => w.cpus >= want.cpus && w.memory_mb >= want.memory_mb && w.gpus >= want.gpus,
  );
  const max = (pick: (w: Resources) => number) => Math.max(...capacity.map(pick));
  const largest = `${max((w) => w.cpus)} cpus, ${formatBytes(max((w) => w.memory_mb) * 1024 * 1024)}, ${max((w) => w.gpus)} gpus`;
  return check(
    name,
    fits,
    true,
    `asks ${want.cpus} cpus, ${formatBytes(want.memory_mb * 1024 * 1024)}, ${want.gpus} gpus, ` +
      `but no registered worker has that much (the largest offer ${largest}): ` +
      'lower resources in fetchml.yaml (or --cpus/--memory/--gpus), or add a bigger worker',
    `fits a registered worker (largest offer ${largest})`,
  );
}

/** Resolves the plan and runs every preflight check; never throws for a failing check. */
export function resolvePlan(input: ResolvePlanInput): ResolvedPlan {
  const { spec, manifest } = input;
  const policy: ReproPolicyName = input.policy ?? spec.repro_policy ?? 'strict';
  const checks: PreflightCheck[] = [];

  const [deps, depsChecked] = depsCheck(spec, manifest);
  checks.push(depsChecked);

  const unchecked = spec.datasets.filter((d) => !d.checksum).map((d) => d.name);
  checks.push(
    check(
      'datasets pinned by checksum',
      unchecked.length === 0,
      true,
      `datasets without a checksum: ${unchecked.join(', ')} — add 'checksum: sha256:…' to each in fetchml.yaml (ml data info <name> prints it)`,
    ),
  );

  const argv = commandArgv(spec.command);
  const script = argv.find((a, i) => i > 0 && /\.(py|sh|R|jl)$/.test(a));
  if (script) {
    const present = manifest.entries.some((e) => e.path === script.replace(/^\.\//, ''));
    checks.push(
      check(
        'entry script in snapshot',
        present,
        true,
        `command runs ${script}, which is not in the snapshot (ignored or misspelled?)`,
      ),
    );
  }

  const resources: Resources = {
    cpus: input.resources?.cpus ?? spec.resources.cpus,
    memory_mb: input.resources?.memory_mb ?? spec.resources.memory,
    gpus: input.resources?.gpus ?? spec.resources.gpus,
  };
  if (input.capacity !== undefined) checks.push(capacityCheck(resources, input.capacity));

  // Without an image the job runs on the host's software (whatever python3 is there), which no
  // digest pins: such a run can be `pinned` (code, deps file and data by hash) but not `verified`.
  const imagePinned = spec.image !== undefined && /@sha256:[0-9a-f]{64}$/.test(spec.image);
  checks.push(
    check(
      'image pinned by digest',
      imagePinned,
      false,
      spec.image
        ? `image ${spec.image} is a tag; pin it as name@sha256:… to reach trust 'verified'`
        : "no image: the job runs on the host's software; set image: name@sha256:… to reach trust 'verified'",
    ),
  );

  const plan: Plan = {
    commit_id: input.commitId,
    experiment_manifest_sha256: canonicalSha256(spec),
    deps,
    snapshot_id: input.commitId,
    datasets: spec.datasets.map((d) => ({ name: d.name, checksum: d.checksum ?? null })),
    resources,
    image: { base: spec.image ?? null, warmed_tag: input.warmedTag ?? null },
    command: argv,
    args: [...(input.args ?? [])],
    env: { ...spec.env },
    network: spec.network,
    timeout_s: input.timeoutS ?? spec.timeout ?? null,
    kind: spec.kind,
    repro_policy: policy,
  };

  const blockingOk = checks.every((c) => c.ok || !c.blocking);
  const trust_level: TrustLevelName = !blockingOk
    ? 'unverified'
    : checks.every((c) => c.ok)
      ? 'verified'
      : 'pinned';
  return { plan, plan_sha256: canonicalSha256(plan), trust_level, checks };
}

/** The failing blocking checks that stop a submission (none under the relaxed policy). */
export function blockingFailures(resolved: ResolvedPlan): PreflightCheck[] {
  if (resolved.plan.repro_policy !== 'strict') return [];
  return resolved.checks.filter((c) => c.blocking && !c.ok);
}

/** Throws ML_ERR_PREFLIGHT_FAILED listing every failing blocking check, under the strict policy. */
export function assertPreflight(resolved: ResolvedPlan): void {
  const failed = blockingFailures(resolved);
  if (failed.length === 0) return;
  throw new FetchmlError(
    'ML_ERR_PREFLIGHT_FAILED',
    `strict preflight failed:\n  ${failed.map((c) => `${c.name}: ${c.message ?? 'failed'}`).join('\n  ')}\n` +
      '(to queue it anyway at a lower trust level: --repro-policy relaxed)',
    { details: { failed: failed.map((c) => c.name) } },
  );
}

/**
 * The name a warmed image for `base` + deps would have: `localhost/fetchml-warm:<16 hex>`, the
 * first 16 hex digits of sha256(`<base>\n<deps sha256>`), so the same image and deps always map
 * to the same tag. Null without an image or without a deps manifest (nothing to warm). Warmed
 * images are an optimization: a run uses one only when it exists, and it never changes results.
 */
export function warmedTagFor(base: string | null, deps: Plan['deps']): string | null {
  if (base === null || deps === null) return null;
  return `localhost/fetchml-warm:${sha256Hex(`${base}\n${deps.sha256}`).slice(0, 16)}`;
}

/** The resolve inputs a task recorded: its commit, spec, args, overrides and policy. */
export function recordedPlanInput(
  task: Pick<Task, 'commit_id' | 'spec' | 'plan' | 'resources'>,
  manifest: TreeManifest,
): ResolvePlanInput {
  return {
    commitId: task.commit_id,
    manifest,
    spec: task.spec,
    args: task.plan.args,
    policy: task.plan.repro_policy,
    resources: task.resources,
    timeoutS: task.plan.timeout_s,
    warmedTag: task.plan.image.warmed_tag,
  };
}

/**
 * Checks that a task's recorded plan still follows from its recorded inputs: the stored plan hashes
 * to `plan_sha256`, and re-resolving the commit + spec gives that same digest. The worker calls
 * this before running anything. The command-line overrides (args, resources, timeout) are recorded
 * only in the plan, so they are covered by the digest check but cannot be derived anew.
 * @throws FetchmlError ML_ERR_PLAN_MISMATCH naming the plan fields that differ.
 */
export function verifyTaskPlan(
  task: Pick<Task, 'id' | 'commit_id' | 'spec' | 'plan' | 'plan_sha256' | 'resources'>,
  manifest: TreeManifest,
): ResolvedPlan {
  const fix = 'the task record was changed after it was queued; queue the experiment again';
  const stored = canonicalSha256(task.plan);
  if (stored !== task.plan_sha256) {
    throw new FetchmlError(
      'ML_ERR_PLAN_MISMATCH',
      `plan of ${task.id} does not match its plan_sha256 (recorded ${task.plan_sha256}, the stored plan hashes to ${stored}): ${fix}`,
      { details: { task_id: task.id, plan_sha256: task.plan_sha256, actual: stored } },
    );
  }
  const resolved = resolvePlan(recordedPlanInput(task, manifest));
  if (resolved.plan_sha256 !== task.plan_sha256) {
    const recorded = task.plan as Record<string, unknown>;
    const fresh = resolved.plan as Record<string, unknown>;
    const fields = Object.keys({ ...recorded, ...fresh })
      .filter((k) => canonicalSha256(recorded[k] ?? null) !== canonicalSha256(fresh[k] ?? null))
      .sort();
    throw new FetchmlError(
      'ML_ERR_PLAN_MISMATCH',
      `plan of ${task.id} no longer matches its commit and spec (recorded ${task.plan_sha256}, re-resolved ${resolved.plan_sha256}; differs in ${fields.join(', ') || 'nothing visible'}): ${fix}`,
      {
        details: {
          task_id: task.id,
          plan_sha256: task.plan_sha256,
          actual: resolved.plan_sha256,
          fields,
        },
      },
    );
  }
  return resolved;
}
