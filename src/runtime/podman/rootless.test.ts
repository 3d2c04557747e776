/**
 * Rootless podman, for real: the built `fetchml doctor` and the podman runtime run as an
 * unprivileged user (`runuser`), so podman is rootless exactly as on a researcher's machine.
 * Doctor must report the engine as rootless and say whether limits are enforced (not on cgroup v1:
 * podman ignores them there), and a job's limit report and the runtime's warnings — what the
 * worker writes into every run's log and manifest — must say the same; files the job writes to
 * output/ belong to the user (`--userns=keep-id`).
 *
 * Runs as root when FETCHML_TEST_ROOTLESS_USER names a prepared user (`eval "$(bash
 * .ci/setup-rootless)"`: subuids, XDG_RUNTIME_DIR, the busybox test image in its storage); uses
 * dist/ (`npm test` builds it first).
 */
import { spawnSync } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ensureBuilt } from '../../../test/support/dist.ts';
import { testEngineEnv, testImage } from '../test-support.ts';

const user = process.env['FETCHML_TEST_ROOTLESS_USER'];
const skip = user === undefined || process.getuid?.() !== 0;
const root = fileURLToPath(new URL('../../../', import.meta.url));

/** uid, gid and home of the test user. */
function account(name: string): { uid: number; gid: number; home: string } {
  const r = spawnSync('getent', ['passwd', name], { encoding: 'utf8' });
  const [, , uid = '', gid = '', , home = ''] = r.stdout.trim().split(':');
  return { uid: Number(uid), gid: Number(gid), home };
}

describe.skipIf(skip)(`rootless podman (as ${user ?? 'no user'})`, () => {
  let dir = '';
  let who: { uid: number; gid: number; home: string };

  /** Runs `node args` as the test user in `dir`; returns exit code and output. */
  const asUser = (args: string[], extraEnv: Record<string, string> = {}) => {
    const env = {
      HOME: who.home,
      XDG_RUNTIME_DIR: `/run/user/${who.uid}`,
      PATH: '/usr/local/bin:/usr/bin:/bin',
      ...(testEngineEnv()['CONTAINERS_CONF'] === undefined
        ? {}
        : { CONTAINERS_CONF: testEngineEnv()['CONTAINERS_CONF'] as string }),
      ...extraEnv,
    };
    const envArgs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
    const r = spawnSync(
      'runuser',
      ['-u', user as string, '--', 'env', '-i', ...envArgs, process.execPath, ...args],
      { cwd: dir, encoding: 'utf8', timeout: 120_000 },
    );
    return { code: r.status, out: r.stdout, err: r.stderr };
  };

  beforeAll(() => {
    ensureBuilt();
    who = account(user as string);
    dir = mkdtempSync(join(tmpdir(), 'fetchml-rootless-'));
    for (const sub of ['', 'home', 'src', 'output']) {
      if (sub !== '') mkdirSync(join(dir, sub));
      chownSync(join(dir, sub), who.uid, who.gid);
    }
  }, 180_000);
  afterAll(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('fetchml doctor reports podman rootless and whether limits are enforced', () => {
    const r = asUser([`${root}bin/fetchml.js`, 'doctor', '--json'], {
      FETCHML_HOME: join(dir, 'home'),
    });
    expect(r.code, r.err).toBe(0);
    const report = JSON.parse(r.out) as {
      selected: string;
      runtimes: Array<{
        name: string;
        available: boolean;
        engine?: { rootless: boolean; cgroups: string; limitsEnforced: boolean };
        warnings: string[];
      }>;
    };
    const podman = report.runtimes.find((d) => d.name === 'podman');
    expect(podman?.available, JSON.stringify(podman)).toBe(true);
    expect(report.selected).toBe('podman');
    expect(podman?.engine?.rootless).toBe(true);
    const v1 = podman?.engine?.cgroups === 'v1';
    expect(podman?.engine?.limitsEnforced).toBe(!v1);
    if (v1) expect(podman?.warnings.join('\n')).toContain('limits are NOT enforced');
    const text = asUser([`${root}bin/fetchml.js`, 'doctor'], { FETCHML_HOME: join(dir, 'home') });
    expect(text.out).toContain(
      `podman: rootless (user namespace), cgroup ${podman?.engine?.cgroups}: memory/cpu/pids limits ${v1 ? 'NOT enforced' : 'enforced'}`,
    );
  }, 180_000);

  it('a job runs rootless: its limit report and the runtime warnings say what is enforced; output/ is the user’s', () => {
    const script = join(dir, 'run.mjs');
    writeFileSync(
      script,
      `import { PodmanRuntime } from ${JSON.stringify(`${root}dist/runtime/index.js`)};
const rt = new PodmanRuntime({ killGraceMs: 1000 });
const avail = await rt.available();
if (!avail.ok) { console.log(JSON.stringify({ avail })); process.exit(0); }
const result = await rt.run({
  taskId: 'rootless-test', argv: ['sh', '-c', 'echo hi > "$FETCHML_OUTPUT/out.txt"; echo ran'],
  workDir: ${JSON.stringify(join(dir, 'src'))}, outputDir: ${JSON.stringify(join(dir, 'output'))},
  datasets: [], env: {}, resources: { cpus: 1, memory_mb: 64, gpuIndices: [] },
  network: 'none', timeoutMs: 60000, image: ${JSON.stringify(testImage('busybox'))},
  signal: new AbortController().signal, onOutput: (s, c) => process.stderr.write(c),
});
console.log(JSON.stringify({ avail, result, warnings: rt.warnings }));
`,
    );
    chownSync(script, who.uid, who.gid);
    const r = asUser([script]);
    expect(r.code, r.err).toBe(0);
    const out = JSON.parse(r.out) as {
      avail: { ok: boolean; reason?: string; engine?: { cgroups: string } };
      result: { exitCode: number; limits: { memory: string; cpu: string; pids: string } };
      warnings: string[];
    };
    expect(out.avail.ok, out.avail.reason).toBe(true);
    expect(out.result.exitCode, r.err).toBe(0);
    const v1 = out.avail.engine?.cgroups === 'v1';
    const enforced = v1 ? 'none' : 'cgroup';
    expect(out.result.limits).toEqual({ memory: enforced, cpu: enforced, pids: enforced });
    if (v1) expect(out.warnings.join('\n')).toContain('limits are NOT enforced');
    else expect(out.warnings).toEqual([]);
    expect(statSync(join(dir, 'output', 'out.txt')).uid).toBe(who.uid);
  }, 180_000);
});
