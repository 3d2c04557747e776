/**
 * One behaviour suite, run unchanged against every runtime (`podman`, `docker` with
 * FETCHML_TEST_DOCKER=1, `sandbox`, `process`): the cases whose semantics match. Isolation cases
 * live in isolation.test.ts. Real processes, real bwrap, real cgroups where the host allows them;
 * no mocks.
 */
import { readFile } from 'node:fs/promises';

import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import {
  collector,
  connectPy,
  hostProcessWith,
  makeFixture,
  makeSpec,
  suiteTargets,
  uniqueSleep,
  withServer,
} from './test-support.ts';
import type { Fixture, SuiteTarget } from './test-support.ts';

const PY_STREAM = "import time; print('first', flush=True); time.sleep(1.5); print('second')";

function runRuntimeSuite(target: SuiteTarget): void {
  describe.skipIf(target.skipAll !== undefined)(`runtime ${target.name}`, () => {
    let fx: Fixture;
    const rt = target.create({ killGraceMs: 5000 });
    /** Containers take ~0.5 s to start (seconds on a loaded host): timing bounds allow for it. */
    const startSlackMs = target.name === 'podman' || target.name === 'docker' ? 5000 : 0;
    beforeAll(async () => {
      const avail = await rt.available();
      if (!avail.ok) throw new Error(`${target.name} runtime unavailable: ${avail.reason}`);
    });
    beforeEach(async () => {
      fx = await makeFixture();
    });
    afterEach(async () => {
      await fx.cleanup();
    });

    it('returns the exit code', async () => {
      const ok = await rt.run(makeSpec(fx, ['sh', '-c', 'exit 0']));
      expect(ok).toMatchObject({ reason: 'exited', exitCode: 0, signal: null });
      const seven = await rt.run(makeSpec(fx, ['sh', '-c', 'exit 7']));
      expect(seven).toMatchObject({ reason: 'exited', exitCode: 7 });
    });

    it('streams output while the job runs', async () => {
      const out = collector();
      const r = await rt.run(
        makeSpec(fx, ['python3', '-c', PY_STREAM], { onOutput: out.onOutput }),
      );
      expect(r.exitCode).toBe(0);
      const first = out.arrivedAt('first');
      const second = out.arrivedAt('second');
      expect(first).not.toBeNull();
      expect(second).not.toBeNull();
      expect((second as number) - (first as number)).toBeGreaterThan(1000);
    });

    it('separates stdout and stderr', async () => {
      const out = collector();
      await rt.run(
        makeSpec(fx, ['sh', '-c', 'echo out; echo err >&2'], { onOutput: out.onOutput }),
      );
      expect(out.stdout()).toBe('out\n');
      expect(out.stderr()).toBe('err\n');
    });

    it('runs a relative command from the snapshot, in the snapshot dir', async () => {
      const out = collector();
      const r = await rt.run(makeSpec(fx, ['./run.sh', 'a', 'b'], { onOutput: out.onOutput }));
      expect(r.exitCode).toBe(0);
      expect(out.stdout()).toBe('run.sh args: a b\n');
      const cat = collector();
      await rt.run(makeSpec(fx, ['cat', 'hello.txt'], { onOutput: cat.onOutput }));
      expect(cat.stdout()).toBe('hello from the snapshot\n');
    });

    it('clears the host environment and sets the job env', async () => {
      process.env['FETCHML_TEST_HOST_SECRET'] = 'leaked';
      try {
        const out = collector();
        const spec = makeSpec(fx, ['sh', '-c', 'env'], {
          env: { MY_VAR: 'v1' },
          onOutput: out.onOutput,
        });
        await rt.run(spec);
        const env = out.stdout();
        expect(env).not.toContain('FETCHML_TEST_HOST_SECRET');
        expect(env).toContain('MY_VAR=v1\n');
        expect(env).toContain(`FETCHML_TASK_ID=${spec.taskId}\n`);
        expect(env).toContain('PYTHONUNBUFFERED=1\n');
        expect(env).toMatch(/^HOME=/m);
        expect(env).toMatch(/^FETCHML_OUTPUT=/m);
      } finally {
        delete process.env['FETCHML_TEST_HOST_SECRET'];
      }
    });

    it('writes to $FETCHML_OUTPUT reach the output dir', async () => {
      const r = await rt.run(makeSpec(fx, ['sh', '-c', 'echo 42 > "$FETCHML_OUTPUT/metrics.txt"']));
      expect(r.exitCode).toBe(0);
      expect(await readFile(`${fx.outputDir}/metrics.txt`, 'utf8')).toBe('42\n');
    });

    it('datasets are readable at $FETCHML_DATA/<name>', async () => {
      const out = collector();
      await rt.run(
        makeSpec(fx, ['sh', '-c', 'cat "$FETCHML_DATA/mnist/train.csv"'], {
          onOutput: out.onOutput,
        }),
      );
      expect(out.stdout()).toBe('x,y\n1,2\n');
    });

    it('command not found is spawn_failed with a clear message', async () => {
      const r = await rt.run(makeSpec(fx, ['no-such-command-xyz', '--flag']));
      expect(r.reason).toBe('spawn_failed');
      expect(r.message).toContain('no-such-command-xyz');
      const rel = await rt.run(makeSpec(fx, ['./missing.sh']));
      expect(rel.reason).toBe('spawn_failed');
    });

    it('timeout stops the job quickly and leaves no process behind', async () => {
      const sleep = uniqueSleep();
      const t0 = performance.now();
      const r = await rt.run(makeSpec(fx, ['sh', '-c', `sleep ${sleep}`], { timeoutMs: 300 }));
      expect(r.reason).toBe('timeout');
      expect(performance.now() - t0).toBeLessThan(3000 + startSlackMs);
      expect(await hostProcessWith(`sleep ${sleep}`)).toBe(false);
    });

    /** Spec options that cancel the run once the job prints `ready` (its handlers are set). */
    const cancelWhenReady = (out: ReturnType<typeof collector>) => {
      const ac = new AbortController();
      return {
        signal: ac.signal,
        onOutput: (stream: 'stdout' | 'stderr', chunk: Buffer) => {
          out.onOutput(stream, chunk);
          if (chunk.toString().includes('ready')) ac.abort();
        },
      };
    };

    it('stopping sends SIGTERM first, so the job can clean up', async () => {
      const py =
        "import signal,sys,time\ndef h(*a):\n  print('got SIGTERM', flush=True); sys.exit(3)\n" +
        "signal.signal(signal.SIGTERM, h); print('ready', flush=True); time.sleep(60)";
      const out = collector();
      const r = await rt.run(makeSpec(fx, ['python3', '-c', py], cancelWhenReady(out)));
      expect(r.reason).toBe('cancelled');
      expect(out.stdout()).toContain('got SIGTERM');
      expect(r.exitCode).toBe(3);
    });

    it('a job ignoring SIGTERM is SIGKILLed after the grace period', async () => {
      const fast = target.create({ killGraceMs: 300 });
      const py =
        'import signal,time; signal.signal(signal.SIGTERM, signal.SIG_IGN); ' +
        "print('ready', flush=True); time.sleep(60)";
      const t0 = performance.now();
      const out = collector();
      const r = await fast.run(makeSpec(fx, ['python3', '-c', py], cancelWhenReady(out)));
      expect(r.reason).toBe('cancelled');
      expect(r.signal).toBe('SIGKILL');
      // From the cancel (when `ready` arrived) to the end: grace + kill, not the start-up.
      expect(performance.now() - t0 - (out.arrivedAt('ready') ?? 0)).toBeLessThan(3000);
    });

    it('background children do not outlive the job', async () => {
      const sleep = uniqueSleep();
      const r = await rt.run(makeSpec(fx, ['sh', '-c', `sleep ${sleep} & echo started`]));
      expect(r.exitCode).toBe(0);
      expect(await hostProcessWith(`sleep ${sleep}`)).toBe(false);
    });

    it('abort signal cancels the job', async () => {
      const ac = new AbortController();
      const sleep = uniqueSleep();
      const out = collector();
      const spec = makeSpec(fx, ['sh', '-c', `echo ready; sleep ${sleep}`], {
        signal: ac.signal,
        onOutput: (s, c) => {
          out.onOutput(s, c);
          if (c.toString().includes('ready')) ac.abort();
        },
      });
      const t0 = performance.now();
      const r = await rt.run(spec);
      expect(r.reason).toBe('cancelled');
      expect(performance.now() - t0).toBeLessThan(3000 + startSlackMs);
      expect(await hostProcessWith(`sleep ${sleep}`)).toBe(false);
      const pre = new AbortController();
      pre.abort();
      const r2 = await rt.run(makeSpec(fx, ['sh', '-c', 'echo never'], { signal: pre.signal }));
      expect(r2.reason).toBe('cancelled');
    });

    it('memory limit stops a job allocating 2 GB under 256 MB (cgroup or rlimit)', async () => {
      // Containers always use their engine's cgroups; the rlimit fallback is for host runtimes.
      for (const cgroups of target.name === 'podman' || target.name === 'docker'
        ? [true]
        : [true, false]) {
        const limited = target.create({ cgroups });
        const py = "b = bytearray(2 * 1024**3); print('allocated', len(b))";
        const out = collector();
        const r = await limited.run(
          makeSpec(fx, ['python3', '-c', py], {
            resources: { cpus: 1, memory_mb: 256, gpuIndices: [] },
            onOutput: out.onOutput,
          }),
        );
        expect(out.stdout()).not.toContain('allocated');
        expect(r.reason, `cgroups=${cgroups}: ${JSON.stringify(r)}`).toBe('oom');
        if (!cgroups) expect(r.limits.memory).toBe('rlimit');
      }
    });

    it('cpu limit caps CPU time (when a cpu cgroup is available)', async (ctx) => {
      const py =
        'import os, time\nt = time.time()\nwhile time.time() - t < 1.0: pass\n' +
        'c = os.times(); print(c.user + c.system)';
      const out = collector();
      const r = await rt.run(
        makeSpec(fx, ['python3', '-c', py], {
          resources: { cpus: 0.2, memory_mb: 512, gpuIndices: [] },
          onOutput: out.onOutput,
        }),
      );
      if (r.limits.cpu !== 'cgroup')
        ctx.skip(`cpu limit not enforced here: ${r.warnings.join('; ')}`);
      expect(Number(out.stdout())).toBeLessThan(0.5);
    });

    it('pids limit stops a fork bomb (when a pids cgroup is available)', async (ctx) => {
      const py =
        'import os, time\nfor i in range(64):\n  try:\n    if os.fork() == 0: time.sleep(5); os._exit(0)\n' +
        "  except OSError: print('fork failed'); break\nelse: print('forked all')";
      const out = collector();
      const r = await rt.run(
        makeSpec(fx, ['python3', '-c', py], {
          resources: { cpus: 1, memory_mb: 512, gpuIndices: [], pids: 16 },
          onOutput: out.onOutput,
        }),
      );
      if (r.limits.pids !== 'cgroup') ctx.skip(`pids limit not enforced by cgroup here`);
      expect(out.stdout()).toContain('fork failed');
    });

    it('network bridge reaches a host server', async () => {
      await withServer(async (port) => {
        const r = await rt.run(
          makeSpec(fx, ['python3', '-c', connectPy(port, target.hostFromJob)], {
            network: 'bridge',
          }),
        );
        expect(r.exitCode).toBe(0);
      }, target.serverHost);
    });
  });
}

for (const target of suiteTargets()) runRuntimeSuite(target);
