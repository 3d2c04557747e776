/** Runtime detection and description: `auto` order, explicit requests, clear unavailability. */
import { describe, expect, it } from 'vitest';

import { ERROR_CATALOGUE, isFetchmlError } from '../core/errors.ts';
import { describeRuntime, describeRuntimes, detectRuntime } from './detect.ts';
import { PROCESS_RUNTIME_WARNING } from './process/process-runtime.ts';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { makeWhich } from './which.ts';
import type { Which } from './which.ts';

const noBwrap = process.env['FETCHML_TEST_NO_BWRAP'] === '1';
const nothing: Which = () => Promise.resolve(null);
/** Finds only bwrap: podman and docker look absent. */
const onlyBwrap: Which = (cmd) => (cmd === 'bwrap' ? makeWhich()(cmd) : Promise.resolve(null));

/** A fake engine binary that fails every command with `stderr`. */
async function fakeEngine(stderr: string): Promise<{ path: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'fetchml-fake-engine-'));
  const path = join(dir, 'engine');
  await writeFile(path, `#!/bin/sh\necho '${stderr}' >&2\nexit 125\n`);
  await chmod(path, 0o755);
  return { path, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

describe('detectRuntime', () => {
  it.skipIf(noBwrap)(
    'auto skips podman/docker that are missing and picks the sandbox',
    async () => {
      const rt = await detectRuntime('auto', { which: onlyBwrap });
      expect(rt.name).toBe('sandbox');
      expect(rt.isolation).toBe('sandbox');
    },
  );

  it.skipIf(noBwrap)('auto skips a docker client with no engine', async () => {
    const docker = await fakeEngine('Cannot connect to the Docker daemon');
    try {
      const rt = await detectRuntime('auto', { which: onlyBwrap, docker: { bin: docker.path } });
      expect(rt.name).toBe('sandbox');
    } finally {
      await docker.cleanup();
    }
  });

  it('auto falls back to process, which warns that it has no isolation', async () => {
    const rt = await detectRuntime('auto', { which: nothing });
    expect(rt.name).toBe('process');
    expect(rt.isolation).toBe('none');
    expect(rt.warnings).toEqual([PROCESS_RUNTIME_WARNING]);
  });

  it.each([
    ['podman', 'apt-get install podman'],
    ['docker', 'Docker Engine'],
  ] as const)('explicit %s that is missing fails saying what to install', async (name, hint) => {
    const err: unknown = await detectRuntime(name, { which: nothing }).catch((e: unknown) => e);
    expect(isFetchmlError(err, 'ML_ERR_RUNTIME_UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toContain(`${name} not found`);
    expect((err as Error).message).toContain(hint);
    expect(ERROR_CATALOGUE.ML_ERR_RUNTIME_UNAVAILABLE.status).toBe(503);
  });

  it('explicit docker without an engine says how to get one', async () => {
    const docker = await fakeEngine(
      'Cannot connect to the Docker daemon at unix:///var/run/docker.sock',
    );
    try {
      const err: unknown = await detectRuntime('docker', { docker: { bin: docker.path } }).catch(
        (e: unknown) => e,
      );
      expect(isFetchmlError(err, 'ML_ERR_RUNTIME_UNAVAILABLE')).toBe(true);
      expect((err as Error).message).toContain('no engine is reachable');
      expect((err as Error).message).toContain('Cannot connect to the Docker daemon');
    } finally {
      await docker.cleanup();
    }
  });

  it('explicit podman failing on rlimits points to the runc containers.conf', async () => {
    const podman = await fakeEngine(
      'Error: runc: runc create failed: error setting rlimits for ready process: error setting rlimit type 7: operation not permitted',
    );
    try {
      const err: unknown = await detectRuntime('podman', {
        podman: { bin: podman.path, engineEnv: { PATH: '/usr/bin:/bin' } },
      }).catch((e: unknown) => e);
      expect(isFetchmlError(err, 'ML_ERR_RUNTIME_UNAVAILABLE')).toBe(true);
      expect((err as Error).message).toContain('CONTAINERS_CONF=');
      expect((err as Error).message).toContain('runtime = "runc"');
    } finally {
      await podman.cleanup();
    }
  });

  it('explicit sandbox without bwrap fails instead of falling back', async () => {
    const err: unknown = await detectRuntime('sandbox', { which: nothing }).catch(
      (e: unknown) => e,
    );
    expect(isFetchmlError(err, 'ML_ERR_RUNTIME_UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toContain('bubblewrap');
  });

  it('explicit process is always available', async () => {
    expect((await detectRuntime('process')).name).toBe('process');
  });
});

describe('describeRuntime(s)', () => {
  it('describes one runtime', async () => {
    const d = await describeRuntime(await detectRuntime('process'));
    expect(d).toMatchObject({ name: 'process', isolation: 'none', available: true });
    expect(d.version).toMatch(/^node v\d+/);
    expect(d.warnings).toEqual([PROCESS_RUNTIME_WARNING]);
  });

  it('lists every runtime auto considers, in order, with reasons', async () => {
    const all = await describeRuntimes({ which: nothing });
    expect(all.map((d) => d.name)).toEqual(['podman', 'docker', 'sandbox', 'process']);
    expect(all[0]?.available).toBe(false);
    expect(all[0]?.reason).toContain('podman not found');
    expect(all[1]?.reason).toContain('docker not found');
    expect(all[2]?.available).toBe(false);
    expect(all[2]?.reason).toContain('bubblewrap');
    expect(all[3]).toMatchObject({ available: true });
  });
});
