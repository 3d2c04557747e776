/** The podman/docker argument builder and env file: secure defaults, mounts, GPUs, no secrets in argv. */
import { readFile, stat } from 'node:fs/promises';

import { describe, expect, it } from 'vitest';

import { buildOciRunArgs, containerName, gpuArgs } from './args.ts';
import type { OciRunOptions } from './args.ts';
import { engineEnvFrom } from './cli.ts';
import { writeEnvFile } from './env-file.ts';
import type { RunSpec } from '../types.ts';

const spec = (over: Partial<RunSpec> = {}): RunSpec => ({
  taskId: 'task-1',
  argv: ['python3', 'train.py', '--lr', '0.1'],
  workDir: '/srv/work/task-1/src',
  outputDir: '/srv/data/experiments/task-1/output',
  datasets: [{ name: 'mnist', hostPath: '/srv/datasets/mnist' }],
  env: { SECRET_TOKEN: 'hunter2' },
  resources: { cpus: 1.5, memory_mb: 512, gpuIndices: [], pids: 100 },
  network: 'none',
  timeoutMs: null,
  image: 'localhost/py:1',
  signal: new AbortController().signal,
  onOutput: () => undefined,
  ...over,
});

const opts = (over: Partial<OciRunOptions> = {}): OciRunOptions => ({
  engine: 'podman',
  name: 'fetchml-task-1-1',
  workerId: 'w1',
  image: 'localhost/py:1',
  user: '65534:65534',
  envFile: '/tmp/x/env',
  envNames: [],
  tmpSizeMb: 64,
  ...over,
});

/** The value after `flag` (first occurrence). */
const after = (args: string[], flag: string) => args[args.indexOf(flag) + 1];

describe('buildOciRunArgs', () => {
  it('has every isolation default', () => {
    const a = buildOciRunArgs(spec(), opts());
    expect(a.slice(0, 2)).toEqual(['run', '--rm']);
    for (const flag of ['--read-only', '--init']) expect(a).toContain(flag);
    expect(after(a, '--network')).toBe('none');
    expect(after(a, '--cap-drop')).toBe('ALL');
    expect(after(a, '--security-opt')).toBe('no-new-privileges');
    expect(after(a, '--user')).toBe('65534:65534');
    expect(after(a, '--pids-limit')).toBe('100');
    expect(after(a, '--memory')).toBe('512m');
    expect(after(a, '--memory-swap')).toBe('512m');
    expect(after(a, '--cpus')).toBe('1.5');
    expect(after(a, '--pull')).toBe('never');
    expect(after(a, '-w')).toBe('/work/src');
    expect(a).toContain('fetchml.task=task-1');
    expect(a).toContain('fetchml.worker=w1');
    expect(a.slice(-5)).toEqual(['localhost/py:1', 'python3', 'train.py', '--lr', '0.1']);
  });

  it('mounts only the snapshot and datasets read-only, output read-write, and a /tmp tmpfs', () => {
    const a = buildOciRunArgs(spec(), opts());
    const mounts = a.filter((_, i) => a[i - 1] === '-v');
    expect(mounts).toEqual([
      '/srv/work/task-1/src:/work/src:ro',
      '/srv/data/experiments/task-1/output:/work/output:rw',
      '/srv/datasets/mnist:/work/data/mnist:ro',
    ]);
    expect(after(a, '--tmpfs')).toMatch(/^\/tmp:rw,nosuid,nodev,size=64m/);
  });

  it('never puts env values on the command line', () => {
    const a = buildOciRunArgs(spec(), opts({ envNames: ['MULTI'] }));
    expect(a.join(' ')).not.toContain('hunter2');
    expect(after(a, '--env-file')).toBe('/tmp/x/env');
    expect(after(a, '-e')).toBe('MULTI');
  });

  it('bridge network only when asked; podman-only flags stay podman', () => {
    expect(after(buildOciRunArgs(spec({ network: 'bridge' }), opts()), '--network')).toBe('bridge');
    const podman = buildOciRunArgs(spec(), opts({ userns: 'keep-id' }));
    expect(podman).toContain('--read-only-tmpfs=false');
    expect(podman).toContain('--userns=keep-id');
    const docker = buildOciRunArgs(spec(), opts({ engine: 'docker' }));
    expect(docker).not.toContain('--read-only-tmpfs=false');
    expect(docker.some((x) => x.startsWith('--userns'))).toBe(false);
  });

  it('no memory limit means no --memory', () => {
    const a = buildOciRunArgs(
      spec({ resources: { cpus: 0, memory_mb: null, gpuIndices: [] } }),
      opts(),
    );
    expect(a).not.toContain('--memory');
    expect(a).not.toContain('--cpus');
    expect(after(a, '--pids-limit')).toBe('4096');
  });

  it('refuses host paths that cannot be mounted with -v', () => {
    expect(() => buildOciRunArgs(spec({ workDir: '/srv/a:b' }), opts())).toThrow(/workDir/);
  });

  it('exposes only the assigned GPUs', () => {
    expect(gpuArgs('podman', [])).toEqual([]);
    expect(gpuArgs('docker', [])).toEqual([]);
    expect(gpuArgs('podman', [1, 3])).toEqual([
      '--device',
      'nvidia.com/gpu=1',
      '--device',
      'nvidia.com/gpu=3',
    ]);
    expect(gpuArgs('docker', [1, 3])).toEqual(['--gpus', '"device=1,3"']);
    const a = buildOciRunArgs(
      spec({ resources: { cpus: 1, memory_mb: 1, gpuIndices: [2] } }),
      opts(),
    );
    expect(after(a, '--device')).toBe('nvidia.com/gpu=2');
  });

  it('container names are safe and unique per run', () => {
    expect(containerName('t/1 x', 3)).toBe('fetchml-t_1_x-3');
  });
});

describe('writeEnvFile', () => {
  it('writes a 0600 file; multi-line values travel as -e NAME; reserved ones are dropped', async () => {
    const f = await writeEnvFile({ A: '1', TOKEN: 's3cret', MULTI: 'a\nb', PATH: 'x\ny' });
    try {
      expect((await stat(f.path)).mode & 0o777).toBe(0o600);
      expect(await readFile(f.path, 'utf8')).toBe('A=1\nTOKEN=s3cret\n');
      expect(f.names).toEqual(['MULTI']);
      expect(f.values).toEqual({ MULTI: 'a\nb' });
      expect(f.warnings.join()).toContain('PATH');
    } finally {
      await f.cleanup();
    }
    await expect(stat(f.path)).rejects.toThrow();
  });
});

describe('engineEnvFrom', () => {
  it('passes only what the engine reads (CONTAINERS_CONF), never worker secrets', () => {
    const env = engineEnvFrom({
      CONTAINERS_CONF: '/etc/c.conf',
      AWS_SECRET_ACCESS_KEY: 'x',
      PATH: '/bin',
    });
    expect(env).toEqual({ CONTAINERS_CONF: '/etc/c.conf', PATH: '/bin' });
  });
});
