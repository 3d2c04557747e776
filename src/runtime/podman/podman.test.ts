/**
 * podman-only behaviour beyond the shared suites (conformance.test.ts, isolation.test.ts run there
 * too): detection order, images (digest, missing image), stale-container cleanup, hostile jobs
 * (fork bomb, memory past the limit) and secrets kept off the command line. Runs when podman is
 * required (CI=true / FETCHML_TEST_PODMAN=1: missing podman fails loudly) or present.
 */
import { spawn } from 'node:child_process';

import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { isFetchmlError } from '../../core/errors.ts';
import { detectRuntime } from '../detect.ts';
import {
  collector,
  hostProcessWith,
  makeFixture,
  makeSpec,
  podmanSkipReason,
  testImage,
  testEngineEnv,
  testPodman,
} from '../test-support.ts';
import type { Fixture } from '../test-support.ts';

const skip = podmanSkipReason();

/** `podman args` output (for assertions on containers). */
function podman(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('podman', args, {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: testEngineEnv(),
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('exit', () => resolve(out));
  });
}

describe.skipIf(skip !== undefined)('podman runtime', () => {
  let fx: Fixture;
  const rt = testPodman({ killGraceMs: 1000, workerId: 'podman-test-worker' });
  beforeAll(async () => {
    const avail = await rt.available();
    if (!avail.ok) throw new Error(`podman runtime unavailable: ${avail.reason}`);
  });
  beforeEach(async () => {
    fx = await makeFixture();
  });
  afterEach(async () => {
    await fx.cleanup();
  });

  it('auto picks podman when it works', async () => {
    expect((await detectRuntime('auto', { podman: { engineEnv: testEngineEnv() } })).name).toBe(
      'podman',
    );
  });

  it('resolves an image to its digest; a missing image is a clear error', async () => {
    const info = await rt.resolveImage(testImage());
    expect(info.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(info.id).toMatch(/^sha256:[0-9a-f]{64}$/);
    const err: unknown = await rt
      .run(makeSpec(fx, ['true'], { image: 'localhost/fetchml-missing:0' }))
      .catch((e: unknown) => e);
    expect(isFetchmlError(err, 'ML_ERR_IMAGE_UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toMatch(/localhost\/fetchml-missing:0.*podman load/);
  });

  it('cleanupStale removes containers a dead worker left, and only those', async () => {
    const label = (w: string) => ['--label', `fetchml.worker=${w}`];
    const run = (name: string, worker: string) =>
      podman(['run', '-d', '--name', name, ...label(worker), testImage(), 'sleep', '60']);
    await run('fetchml-stale-a', 'dead-worker');
    await run('fetchml-stale-b', 'other-worker');
    try {
      expect(await rt.cleanupStale('dead-worker')).toEqual(['fetchml-stale-a']);
      const left = await podman(['ps', '-a', '--format', '{{.Names}}']);
      expect(left).not.toContain('fetchml-stale-a');
      expect(left).toContain('fetchml-stale-b');
    } finally {
      await podman(['rm', '-f', '--ignore', '-t', '0', 'fetchml-stale-a', 'fetchml-stale-b']);
    }
  });

  it('labels job containers and removes them after the job', async () => {
    const out = collector();
    const spec = makeSpec(fx, ['sh', '-c', 'echo up; sleep 1'], { onOutput: out.onOutput });
    const running = rt.run(spec);
    await new Promise((r) => setTimeout(r, 800));
    const during = await podman([
      'ps',
      '--filter',
      `label=fetchml.task=${spec.taskId}`,
      '--format',
      '{{.Names}} {{.Labels}}',
    ]);
    expect(during).toContain('fetchml.worker:podman-test-worker');
    await running;
    expect(await podman(['ps', '-a', '--filter', `label=fetchml.task=${spec.taskId}`, '-q'])).toBe(
      '',
    );
  });

  it('hostile: a fork bomb hits the pids limit, is stopped, and leaves nothing behind', async () => {
    const out = collector();
    const r = await rt.run(
      makeSpec(fx, ['sh', '-c', 'echo bombing; f() { f | f & }; f; sleep 60.4242'], {
        resources: { cpus: 1, memory_mb: 256, gpuIndices: [], pids: 64 },
        timeoutMs: 2000,
        onOutput: out.onOutput,
      }),
    );
    expect(r.reason).toBe('timeout');
    expect(r.limits.pids).toBe('cgroup');
    expect(await hostProcessWith('sleep 60.4242')).toBe(false);
    const next = await rt.run(makeSpec(fx, ['sh', '-c', 'exit 0']));
    expect(next).toMatchObject({ reason: 'exited', exitCode: 0 });
  });

  it('hostile: allocating past the memory limit is an OOM kill (exit 137)', async () => {
    const r = await rt.run(
      makeSpec(fx, ['python3', '-c', 'b = bytearray(1024**3)'], {
        resources: { cpus: 1, memory_mb: 128, gpuIndices: [] },
      }),
    );
    expect(r).toMatchObject({ reason: 'oom', exitCode: 137, signal: 'SIGKILL' });
  });

  it('env values never appear on the podman command line; multi-line values still arrive', async () => {
    const out = collector();
    const spec = makeSpec(fx, ['sh', '-c', 'sleep 1; echo "$TOKEN"; printf "%s" "$MULTI"'], {
      env: { TOKEN: 'tok-9f8e7d', MULTI: 'line1\nline2' },
      onOutput: out.onOutput,
    });
    const running = rt.run(spec);
    await new Promise((r) => setTimeout(r, 600));
    expect(await hostProcessWith('tok-9f8e7d')).toBe(false);
    await running;
    expect(out.stdout()).toBe('tok-9f8e7d\nline1\nline2');
  });
});
