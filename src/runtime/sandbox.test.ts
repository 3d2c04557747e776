/**
 * Sandbox-only tests: the exact bwrap command line (pure), behaviour when bwrap is missing, spec
 * validation, and start overhead against bare bwrap measured in the same run.
 */
import { execFileSync } from 'node:child_process';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { isFetchmlError } from '../core/errors.ts';
import { buildBwrapArgs, sandboxPathToHost } from './sandbox/bwrap-args.ts';
import type { BwrapLayoutOptions, HostLayout } from './sandbox/bwrap-args.ts';
import { SandboxRuntime } from './sandbox/sandbox-runtime.ts';
import { makeFixture, makeSpec } from './test-support.ts';
import type { Fixture } from './test-support.ts';

const noBwrap = process.env['FETCHML_TEST_NO_BWRAP'] === '1';

const HOST: HostLayout = {
  roots: [{ path: '/usr' }, { path: '/bin', symlink: 'usr/bin' }, { path: '/etc' }],
  maskFiles: ['/etc/shadow'],
  maskDirs: ['/etc/ssh'],
  gpuDevices: ['/dev/nvidia0', '/dev/nvidia1', '/dev/nvidiactl'],
};
const LAYOUT: BwrapLayoutOptions = { rootfs: 'minimal', extraReadOnly: [], tmpSizeBytes: 1 << 20 };

/** True if `args` contains `seq` as consecutive elements. */
const hasSeq = (args: string[], ...seq: string[]) =>
  args.some((_, i) => seq.every((s, j) => args[i + j] === s));

describe('buildBwrapArgs', () => {
  let fx: Fixture;
  beforeEach(async () => {
    fx = await makeFixture();
  });
  afterEach(async () => {
    await fx.cleanup();
  });

  it('isolates by default: all namespaces, no net, no caps, read-only snapshot', () => {
    const a = buildBwrapArgs(makeSpec(fx, ['true']), HOST, LAYOUT);
    expect(a[0]).toBe('--unshare-all');
    expect(a).not.toContain('--share-net');
    for (const flag of ['--die-with-parent', '--new-session']) expect(a).toContain(flag);
    expect(hasSeq(a, '--cap-drop', 'ALL')).toBe(true);
    expect(hasSeq(a, '--ro-bind', fx.workDir, '/work/src')).toBe(true);
    expect(hasSeq(a, '--bind', fx.outputDir, '/work/output')).toBe(true);
    expect(hasSeq(a, '--ro-bind', fx.dataDir, '/work/data/mnist')).toBe(true);
    expect(hasSeq(a, '--symlink', 'usr/bin', '/bin')).toBe(true);
    expect(hasSeq(a, '--ro-bind', '/dev/null', '/etc/shadow')).toBe(true);
    expect(hasSeq(a, '--remount-ro', '/')).toBe(true);
    expect(hasSeq(a, '--chdir', '/work/src')).toBe(true);
    // The only writable host bind is the output dir.
    expect(a.filter((x) => x === '--bind')).toHaveLength(1);
  });

  it('shares the network only for bridge, and binds only the assigned GPUs', () => {
    const spec = makeSpec(fx, ['true'], {
      network: 'bridge',
      resources: { cpus: 1, memory_mb: 512, gpuIndices: [1] },
    });
    const a = buildBwrapArgs(spec, HOST, LAYOUT);
    expect(a).toContain('--share-net');
    expect(hasSeq(a, '--dev-bind', '/dev/nvidia1', '/dev/nvidia1')).toBe(true);
    expect(hasSeq(a, '--dev-bind', '/dev/nvidiactl', '/dev/nvidiactl')).toBe(true);
    expect(a).not.toContain('/dev/nvidia0');
  });

  it('maps job paths to host paths only where the job can see them', () => {
    const spec = makeSpec(fx, ['true']);
    const map = (p: string) => sandboxPathToHost(p, spec, HOST, LAYOUT);
    expect(map('/work/src/run.sh')).toBe(`${fx.workDir}/run.sh`);
    expect(map('/work/data/mnist/a')).toBe(`${fx.dataDir}/a`);
    expect(map('/usr/bin/python3')).toBe('/usr/bin/python3');
    expect(map('/root/.pyenv/shims/python3')).toBeNull();
    expect(map('/tmp/x')).toBeNull();
  });
});

describe('SandboxRuntime host checks', () => {
  it('reports a missing bwrap with the package to install, and run() refuses', async () => {
    const rt = new SandboxRuntime({ which: () => Promise.resolve(null) });
    const avail = await rt.available();
    expect(avail.ok).toBe(false);
    expect(avail.reason).toContain('bubblewrap');
    const fx = await makeFixture();
    try {
      const err: unknown = await rt.run(makeSpec(fx, ['true'])).catch((e: unknown) => e);
      expect(isFetchmlError(err, 'ML_ERR_RUNTIME_UNAVAILABLE')).toBe(true);
    } finally {
      await fx.cleanup();
    }
  });

  it('rejects malformed specs naming the field', async () => {
    const rt = new SandboxRuntime();
    const fx = await makeFixture();
    try {
      const rel: unknown = await rt
        .run(makeSpec(fx, ['true'], { workDir: 'relative/dir' }))
        .catch((e: unknown) => e);
      expect(isFetchmlError(rel, 'ML_ERR_VALIDATION')).toBe(true);
      const missing: unknown = await rt
        .run(makeSpec(fx, ['true'], { outputDir: `${fx.root}/nope` }))
        .catch((e: unknown) => e);
      expect(isFetchmlError(missing, 'ML_ERR_VALIDATION')).toBe(true);
      expect((missing as Error).message).toContain('outputDir');
    } finally {
      await fx.cleanup();
    }
  });
});

describe.skipIf(noBwrap)('SandboxRuntime on this host', () => {
  it('reports the bubblewrap version', async () => {
    expect(await new SandboxRuntime().version()).toMatch(/^bubblewrap \d+\.\d+/);
  });

  it('starts a job within a small overhead of bare bwrap (measured in the same run)', async () => {
    const rt = new SandboxRuntime();
    const fx = await makeFixture();
    try {
      const spec = makeSpec(fx, ['true']);
      const argv = await rt.commandLine(spec);
      const n = 10;
      const median = (xs: number[]) =>
        [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] as number;
      const bare: number[] = [];
      const full: number[] = [];
      for (let i = 0; i < n; i++) {
        let t = performance.now();
        execFileSync(argv[0] as string, argv.slice(1), { env: { PATH: '/usr/bin:/bin' } });
        bare.push(performance.now() - t);
        t = performance.now();
        const r = await rt.run(makeSpec(fx, ['true']));
        full.push(performance.now() - t);
        expect(r.exitCode).toBe(0);
      }
      const [b, f] = [median(bare), median(full)];
      console.info(
        `sandbox start: runtime.run(true) median ${f.toFixed(1)} ms, bare bwrap ${b.toFixed(1)} ms`,
      );
      expect(f).toBeLessThan(b + 500);
    } finally {
      await fx.cleanup();
    }
  });
});
