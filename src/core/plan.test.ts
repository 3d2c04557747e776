import { describe, expect, it } from 'vitest';

import { isFetchmlError } from './errors.ts';
import { canonicalSha256, sha256Hex } from './hash.ts';
import { assertPreflight, resolvePlan, verifyTaskPlan, warmedTagFor } from './plan.ts';
import { parseExperimentSpec } from './schemas/spec.ts';
import type { TreeManifest } from './schemas/tree.ts';

const manifest: TreeManifest = {
  version: 1,
  entries: [
    { path: 'requirements.txt', type: 'file', mode: 0o644, size: 3, sha256: sha256Hex('req') },
    { path: 'train.py', type: 'file', mode: 0o644, size: 5, sha256: sha256Hex('train') },
  ],
};
const commitId = sha256Hex('commit');

describe('resolvePlan', () => {
  it('resolves deps, resources and a stable plan digest', () => {
    const spec = parseExperimentSpec(
      'name: d\ncommand: python3 train.py\ndeps: requirements.txt\nresources: {cpus: 2, memory: 1g}\n',
    );
    const a = resolvePlan({ commitId, manifest, spec, args: ['--lr', '0.1'] });
    const b = resolvePlan({ commitId, manifest, spec, args: ['--lr', '0.1'] });
    expect(a.plan_sha256).toBe(b.plan_sha256);
    expect(a.plan.deps).toEqual({ name: 'requirements.txt', sha256: sha256Hex('req') });
    expect(a.plan.resources).toEqual({ cpus: 2, memory_mb: 1024, gpus: 0 });
    // No image: the host's software runs it, so every input is pinned but not the environment.
    expect(a.trust_level).toBe('pinned');
    expect(() => assertPreflight(a)).not.toThrow();
    const c = resolvePlan({ commitId, manifest, spec, args: ['--lr', '0.2'] });
    expect(c.plan_sha256).not.toBe(a.plan_sha256);
  });

  it('blocks a dataset without checksum and a missing script under strict, naming the fix', () => {
    const spec = parseExperimentSpec(
      'name: d\ncommand: python3 missing.py\ndatasets: [{name: mnist}]\n',
    );
    const resolved = resolvePlan({ commitId, manifest, spec });
    expect(resolved.trust_level).toBe('unverified');
    try {
      assertPreflight(resolved);
      expect.unreachable();
    } catch (err) {
      expect(isFetchmlError(err, 'ML_ERR_PREFLIGHT_FAILED')).toBe(true);
      expect((err as Error).message).toContain('mnist');
      expect((err as Error).message).toContain('missing.py');
    }
    expect(() =>
      assertPreflight(resolvePlan({ commitId, manifest, spec, policy: 'relaxed' })),
    ).not.toThrow();
  });

  it('reaches verified only with an image pinned by digest', () => {
    const digest = 'a'.repeat(64);
    const spec = parseExperimentSpec(
      `name: d\ncommand: python3 train.py\nimage: localhost/py@sha256:${digest}\n`,
    );
    expect(resolvePlan({ commitId, manifest, spec }).trust_level).toBe('verified');
  });

  it('marks an unpinned image as pinned (not verified) without blocking', () => {
    const spec = parseExperimentSpec('name: d\ncommand: python3 train.py\nimage: python:3.11\n');
    const resolved = resolvePlan({ commitId, manifest, spec });
    expect(resolved.trust_level).toBe('pinned');
    expect(() => assertPreflight(resolved)).not.toThrow();
  });
});

const file = (path: string, content: string) =>
  ({ path, type: 'file', mode: 0o644, size: content.length, sha256: sha256Hex(content) }) as const;

describe('deps manifest', () => {
  const bare: TreeManifest = { version: 1, entries: [file('train.py', 'train')] };
  const spec = parseExperimentSpec('name: d\ncommand: python3 train.py\n');

  it('blocks a project without any dependency manifest under strict, saying what to add', () => {
    const resolved = resolvePlan({ commitId, manifest: bare, spec });
    const failed = resolved.checks.find((c) => c.name === 'deps manifest present');
    expect(failed?.ok).toBe(false);
    expect(() => assertPreflight(resolved)).toThrow(/no dependency manifest: add one/);
    expect(() => assertPreflight(resolved)).toThrow(/requirements\.txt/);
    expect(() => assertPreflight(resolved)).toThrow(/deps: none/);
    expect(() => assertPreflight(resolved)).toThrow(/--repro-policy relaxed/);
    expect(resolved.plan.deps).toBeNull();
  });

  it('finds one at the root, lock files first', () => {
    const tree: TreeManifest = {
      version: 1,
      entries: [file('pyproject.toml', 'p'), file('train.py', 'train'), file('uv.lock', 'u')],
    };
    const resolved = resolvePlan({ commitId, manifest: tree, spec });
    expect(resolved.plan.deps).toEqual({ name: 'uv.lock', sha256: sha256Hex('u') });
    expect(resolved.checks.find((c) => c.name === 'deps manifest present')?.note).toContain(
      'uv.lock',
    );
  });

  it('accepts an explicit deps: none, and names a missing deps file', () => {
    const none = parseExperimentSpec('name: d\ncommand: python3 train.py\ndeps: none\n');
    expect(() =>
      assertPreflight(resolvePlan({ commitId, manifest: bare, spec: none })),
    ).not.toThrow();
    const named = parseExperimentSpec('name: d\ncommand: python3 train.py\ndeps: env/req.txt\n');
    expect(() => assertPreflight(resolvePlan({ commitId, manifest: bare, spec: named }))).toThrow(
      /deps: env\/req\.txt is not a file in the snapshot/,
    );
  });
});

describe('policy and trust', () => {
  const bare: TreeManifest = { version: 1, entries: [file('train.py', 'train')] };

  it('relaxed must be asked for (flag or spec) and records unverified when a check fails', () => {
    const spec = parseExperimentSpec('name: d\ncommand: python3 train.py\n');
    expect(resolvePlan({ commitId, manifest: bare, spec }).plan.repro_policy).toBe('strict');
    const flagged = resolvePlan({ commitId, manifest: bare, spec, policy: 'relaxed' });
    expect(flagged.plan.repro_policy).toBe('relaxed');
    expect(flagged.trust_level).toBe('unverified');
    expect(() => assertPreflight(flagged)).not.toThrow();
    const inSpec = parseExperimentSpec(
      'name: d\ncommand: python3 train.py\nrepro_policy: relaxed\n',
    );
    const bySpec = resolvePlan({ commitId, manifest: bare, spec: inSpec });
    expect(bySpec.plan.repro_policy).toBe('relaxed');
    expect(bySpec.trust_level).toBe('unverified');
    // The flag wins over the spec.
    expect(
      resolvePlan({ commitId, manifest: bare, spec: inSpec, policy: 'strict' }).plan.repro_policy,
    ).toBe('strict');
  });

  it('refuses an unknown policy in fetchml.yaml, naming the field', () => {
    expect(() => parseExperimentSpec('name: d\ncommand: x\nrepro_policy: lax\n')).toThrow(
      /repro_policy: must be strict or relaxed/,
    );
  });
});

describe('resources beyond limits', () => {
  const spec = parseExperimentSpec(
    'name: d\ncommand: python3 train.py\ndeps: requirements.txt\nresources: {cpus: 4, memory: 8g, gpus: 1}\n',
  );

  it('blocks when no registered worker could ever fit, naming what is asked and offered', () => {
    const capacity = [
      { cpus: 8, memory_mb: 32768, gpus: 0 },
      { cpus: 2, memory_mb: 4096, gpus: 2 },
    ];
    const resolved = resolvePlan({ commitId, manifest, spec, capacity });
    expect(() => assertPreflight(resolved)).toThrow(
      /resources within worker limits: asks 4 cpus, 8\.0 GiB, 1 gpus, but no registered worker has that much \(the largest offer 8 cpus, 32 GiB, 2 gpus\)/,
    );
    // Overrides count: the same spec with --gpus 0 fits the first worker.
    const smaller = resolvePlan({ commitId, manifest, spec, capacity, resources: { gpus: 0 } });
    expect(() => assertPreflight(smaller)).not.toThrow();
  });

  it('notes, without blocking, that nothing was checked when no worker has registered', () => {
    const resolved = resolvePlan({ commitId, manifest, spec, capacity: [] });
    const c = resolved.checks.find((x) => x.name === 'resources within worker limits');
    expect(c).toMatchObject({ ok: true, note: 'no worker has registered yet: not checked' });
  });
});

describe('verifyTaskPlan', () => {
  const spec = parseExperimentSpec('name: d\ncommand: python3 train.py\ndeps: requirements.txt\n');
  const resolved = resolvePlan({ commitId, manifest, spec, args: ['--lr', '1'] });
  const task = {
    id: 'task_X',
    commit_id: commitId,
    spec,
    plan: resolved.plan,
    plan_sha256: resolved.plan_sha256,
    resources: resolved.plan.resources,
  };

  it('accepts the task as submitted', () => {
    expect(verifyTaskPlan(task, manifest).plan_sha256).toBe(resolved.plan_sha256);
  });

  it('refuses a plan edited without its digest', () => {
    const plan = { ...resolved.plan, command: ['sh', 'evil.sh'] };
    expect(() => verifyTaskPlan({ ...task, plan }, manifest)).toThrow(
      /plan of task_X does not match its plan_sha256/,
    );
  });

  it('refuses a plan edited together with its digest, naming the fields', () => {
    const plan = { ...resolved.plan, command: ['sh', 'evil.sh'] };
    try {
      verifyTaskPlan({ ...task, plan, plan_sha256: canonicalSha256(plan) }, manifest);
      expect.unreachable();
    } catch (err) {
      expect(isFetchmlError(err, 'ML_ERR_PLAN_MISMATCH')).toBe(true);
      expect((err as Error).message).toContain('no longer matches its commit and spec');
      expect((err as Error).message).toContain('differs in command');
    }
  });
});

describe('warmedTagFor', () => {
  it('is stable per image + deps, and none without either', () => {
    const deps = { name: 'requirements.txt', sha256: sha256Hex('req') };
    const tag = warmedTagFor('python:3.12', deps);
    expect(tag).toMatch(/^localhost\/fetchml-warm:[0-9a-f]{16}$/);
    expect(warmedTagFor('python:3.12', deps)).toBe(tag);
    expect(warmedTagFor('python:3.11', deps)).not.toBe(tag);
    expect(warmedTagFor(null, deps)).toBeNull();
    expect(warmedTagFor('python:3.12', null)).toBeNull();
  });
});
