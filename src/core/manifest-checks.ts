/**
 * @module core/manifest-checks
 * Is a run manifest complete and consistent? (`ml validate --task`, and the summary line of
 * `ml info`.) Each check is named and, when it fails, says what is missing or wrong:
 *
 * - lifecycle: `running` needs started_at; `completed` and `failed` need started_at, ended_at and
 *   exit_code — except a run that failed before its job started, whose recorded error says why
 *   there is no exit code;
 * - plan: the stored plan hashes to plan_sha256, and the manifest's commit, snapshot, experiment
 *   and deps fields are the plan's;
 * - datasets: each recorded with a checksum (`sha256:…`); a run that started should have verified
 *   them at staging (a warning when not);
 * - image: a container run records the image digest;
 * - artifacts: unique paths, each with its sha256 (the schema guarantees the format).
 */
import { canonicalSha256 } from './hash.ts';
import type { RunManifest } from './schemas/manifest.ts';

/** One check of a manifest; `blocking: false` failures are warnings. */
export interface ManifestCheck {
  name: string;
  ok: boolean;
  blocking: boolean;
  message?: string;
}

const CONTAINER_RUNTIMES = new Set(['podman', 'docker']);

function check(name: string, problems: string[], blocking = true): ManifestCheck {
  return problems.length === 0
    ? { name, ok: true, blocking }
    : { name, ok: false, blocking, message: problems.join('; ') };
}

/** Every check of `m`, in a stable order. */
export function manifestChecks(m: RunManifest): ManifestCheck[] {
  const l = m.lifecycle;
  const lifecycle: string[] = [];
  if (m.status === 'running' && !l.started_at) {
    lifecycle.push('running but lifecycle.started_at is missing');
  }
  if (m.status === 'completed' || m.status === 'failed') {
    if (!l.started_at) lifecycle.push(`${m.status} but lifecycle.started_at is missing`);
    if (!l.ended_at) lifecycle.push(`${m.status} but lifecycle.ended_at is missing`);
    const explained = m.status === 'failed' && m.error !== null;
    if (l.exit_code === null && !explained) {
      lifecycle.push(
        `${m.status} but lifecycle.exit_code is missing${m.status === 'failed' ? ' and no error says why' : ''}`,
      );
    }
  }
  if (l.started_at && l.ended_at && l.ended_at < l.started_at) {
    lifecycle.push('lifecycle.ended_at is before started_at');
  }

  const plan: string[] = [];
  const digest = canonicalSha256(m.plan);
  if (digest !== m.plan_sha256) {
    plan.push(`the recorded plan hashes to ${digest}, not plan_sha256 ${m.plan_sha256}`);
  }
  if (m.plan.commit_id !== m.commit_id) plan.push(`commit_id differs from plan.commit_id`);
  if (m.plan.snapshot_id !== m.commit_id) plan.push(`plan.snapshot_id differs from commit_id`);
  if (m.plan.experiment_manifest_sha256 !== m.experiment_manifest_sha256) {
    plan.push('experiment_manifest_sha256 differs from the plan');
  }
  if (canonicalSha256(m.plan.deps) !== canonicalSha256(m.deps_manifest)) {
    plan.push('deps_manifest differs from plan.deps');
  }
  if (m.plan.repro_policy !== m.repro_policy) plan.push('repro_policy differs from the plan');

  const datasets: string[] = [];
  const verified: string[] = [];
  const planned = new Map(m.plan.datasets.map((d) => [d.name, d.checksum]));
  for (const d of m.datasets) {
    if (!d.checksum) datasets.push(`dataset ${d.name} has no checksum`);
    // A plan without a checksum (relaxed policy) stages the latest version and records its checksum.
    else if (planned.get(d.name) && planned.get(d.name) !== d.checksum) {
      datasets.push(`dataset ${d.name}: checksum differs from the plan`);
    }
    if (!d.verified && m.lifecycle.started_at && m.status !== 'failed') {
      verified.push(`dataset ${d.name} was not verified at staging`);
    }
  }
  for (const name of planned.keys()) {
    if (!m.datasets.some((d) => d.name === name))
      datasets.push(`dataset ${name} of the plan is not recorded`);
  }

  const image: string[] = [];
  if (
    CONTAINER_RUNTIMES.has(m.worker.runtime) &&
    m.image.reference !== null &&
    m.lifecycle.started_at !== null &&
    m.image.digest === null &&
    m.error?.code !== 'ML_ERR_IMAGE_UNAVAILABLE'
  ) {
    image.push(
      `image ${m.image.reference} ran under ${m.worker.runtime} without a recorded digest`,
    );
  }

  const artifacts: string[] = [];
  const seen = new Set<string>();
  for (const a of m.artifacts) {
    if (seen.has(a.path)) artifacts.push(`artifact ${a.path} is listed twice`);
    seen.add(a.path);
  }

  return [
    check('lifecycle complete', lifecycle),
    check('plan matches plan_sha256', plan),
    check('snapshot recorded', m.commit_id ? [] : ['no commit_id']),
    check('datasets recorded with checksums', datasets),
    check('datasets verified at staging', verified, false),
    check('image digest recorded', image),
    check('artifacts recorded with digests', artifacts),
  ];
}

/** The failing blocking checks' messages (empty: the manifest is complete). */
export function manifestProblems(m: RunManifest): string[] {
  return manifestChecks(m)
    .filter((c) => !c.ok && c.blocking)
    .map((c) => `${c.name}: ${c.message ?? 'failed'}`);
}
