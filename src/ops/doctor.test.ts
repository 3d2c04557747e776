/**
 * `fetchml doctor` in process, against the real engines on this host: podman (when the podman
 * suites run) is reported working, rootful, with limits enforced; a configured runtime that cannot
 * run exits 1 and says why. Rootless podman: src/runtime/podman/rootless.test.ts.
 */
import { describe, expect, it } from 'vitest';

import { testIo } from '../cli/shared/test-io.ts';
import { tempDir } from '../config/test-helpers.ts';
import { podmanSkipReason, testEngineEnv } from '../runtime/test-support.ts';
import { main } from './main.ts';

async function doctor(args: string[], env: Record<string, string>) {
  const io = testIo({ FETCHML_HOME: tempDir(), ...env }, tempDir());
  const code = await main(['doctor', ...args], io);
  return { code, out: io.out(), err: io.err() };
}

interface Report {
  configured: string;
  selected: string | null;
  runtimes: Array<{
    name: string;
    available: boolean;
    reason?: string;
    engine?: { rootless: boolean; cgroups: string; limitsEnforced: boolean };
  }>;
}

describe('fetchml doctor', () => {
  it.skipIf(podmanSkipReason() !== undefined || process.getuid?.() !== 0)(
    'as root: podman works, rootful, limits enforced',
    async () => {
      const env = { ...testEngineEnv(), DOCKER_HOST: 'unix:///nonexistent/docker.sock' };
      const r = await doctor(['--json'], env);
      expect(r.code, r.err).toBe(0);
      const report = JSON.parse(r.out) as Report;
      expect(report.selected).toBe('podman');
      const podman = report.runtimes.find((d) => d.name === 'podman');
      expect(podman?.engine).toMatchObject({ rootless: false, limitsEnforced: true });
      const text = await doctor([], env);
      expect(text.out).toContain(
        `podman: rootful, cgroup ${podman?.engine?.cgroups}: memory/cpu/pids limits enforced`,
      );
    },
    120_000,
  );

  it('a configured runtime that cannot run: exit 1, and why', async () => {
    const r = await doctor([], {
      PATH: '/nonexistent',
      FETCHML_WORKER_RUNTIME: 'docker',
      DOCKER_HOST: 'unix:///nonexistent/docker.sock',
    });
    expect(r.code).toBe(1);
    expect(r.out).toContain('runtime docker: NOT AVAILABLE on this host');
    expect(r.out).toContain('docker: docker not found on PATH');
  }, 60_000);
});
