/**
 * @module core/plan
 * Resolving an experiment spec + commit into a plan, and the strict preflight.
 *
 * One function, {@link resolvePlan}, is used by `ml explain` (to show the plan) and by the
 * server when a task is submitted (to block it): what you preview is exactly what gets checked.
 * It is pure: the caller passes the commit's tree manifest, so the same inputs always give the
 * same plan and the same `plan_sha256`.
 */
import { FetchmlError } from './errors.ts';
import { canonicalSha256 } from './hash.ts';
import type { Resources } from './schemas/common.ts';
import { commandArgv, type ExperimentSpec } from './schemas/spec.ts';
import type { Plan } from './schemas/task.ts';
import type { TreeManifest } from './schemas/tree.ts';

export type ReproPolicyName = 'strict' | 'permissive';
export type TrustLevelName = 'unverified' | 'pinned' | 'verified';

export interface PreflightCheck {
  name: string;
  ok: boolean;
  /** What is wrong and how to fix it (set when `ok` is false). */
  message?: string;
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
  policy?: ReproPolicyName;
  /** Overrides from the command line (`ml queue --cpus 2`). */
  resources?: Partial<Resources>;
  timeoutS?: number | null;
  /** The worker-side warmed image tag for these deps, when one is known. */
  warmedTag?: string | null;
}

/** Resolves the plan and runs every preflight check; never throws for a failing check. */
export function resolvePlan(input: ResolvePlanInput): ResolvedPlan {
  const { spec, manifest } = input;
  const policy = input.policy ?? 'strict';
  const checks: PreflightCheck[] = [];

  let deps: Plan['deps'] = null;
  if (spec.deps) {
    const entry = manifest.entries.find((e) => e.path === spec.deps);
    if (entry?.type === 'file') {
      deps = { name: entry.path, sha256: entry.sha256 };
      checks.push({ name: 'deps manifest present', ok: true, blocking: true });
    } else {
      checks.push({
        name: 'deps manifest present',
        ok: false,
        blocking: true,
        message: `deps: ${spec.deps} is not a file in the snapshot (is it ignored by .gitignore or .mlignore?)`,
      });
    }
  }

  const unchecked = spec.datasets.filter((d) => !d.checksum).map((d) => d.name);
  checks.push({
    name: 'datasets pinned by checksum',
    ok: unchecked.length === 0,
    blocking: true,
    ...(unchecked.length > 0
      ? {
          message: `datasets without a checksum: ${unchecked.join(', ')} — add 'checksum: sha256:…' to each in fetchml.yaml (ml data info <name> prints it)`,
        }
      : {}),
  });

  const argv = commandArgv(spec.command);
  const script = argv.find((a, i) => i > 0 && /\.(py|sh|R|jl)$/.test(a));
  if (script) {
    const present = manifest.entries.some((e) => e.path === script.replace(/^\.\//, ''));
    checks.push({
      name: 'entry script in snapshot',
      ok: present,
      blocking: true,
      ...(present
        ? {}
        : {
            message: `command runs ${script}, which is not in the snapshot (ignored or misspelled?)`,
          }),
    });
  }

  // Without an image the job runs on the host's software (whatever python3 is there), which no
  // digest pins: such a run can be `pinned` (code, deps file and data by hash) but not `verified`.
  const imagePinned = spec.image !== undefined && /@sha256:[0-9a-f]{64}$/.test(spec.image);
  checks.push({
    name: 'image pinned by digest',
    ok: imagePinned,
    blocking: false,
    ...(imagePinned
      ? {}
      : {
          message: spec.image
            ? `image ${spec.image} is a tag; pin it as name@sha256:… to reach trust 'verified'`
            : "no image: the job runs on the host's software; set image: name@sha256:… to reach trust 'verified'",
        }),
  });

  const resources: Resources = {
    cpus: input.resources?.cpus ?? spec.resources.cpus,
    memory_mb: input.resources?.memory_mb ?? spec.resources.memory,
    gpus: input.resources?.gpus ?? spec.resources.gpus,
  };

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

/** Throws ML_ERR_PREFLIGHT_FAILED listing every failing blocking check, under the strict policy. */
export function assertPreflight(resolved: ResolvedPlan): void {
  if (resolved.plan.repro_policy !== 'strict') return;
  const failed = resolved.checks.filter((c) => c.blocking && !c.ok);
  if (failed.length === 0) return;
  throw new FetchmlError(
    'ML_ERR_PREFLIGHT_FAILED',
    `strict preflight failed:\n  ${failed.map((c) => `${c.name}: ${c.message ?? 'failed'}`).join('\n  ')}`,
    { details: { failed: failed.map((c) => c.name) } },
  );
}
