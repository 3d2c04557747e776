import { describe, expect, it } from 'vitest';

import { isFetchmlError } from './errors.ts';
import { sha256Hex } from './hash.ts';
import { assertPreflight, resolvePlan } from './plan.ts';
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
      assertPreflight(resolvePlan({ commitId, manifest, spec, policy: 'permissive' })),
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
