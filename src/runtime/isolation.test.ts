/**
 * Isolation cases: what a job must NOT be able to do. They run against every runtime in
 * {@link suiteTargets}; the `process` runtime skips each one by name because it has no isolation by
 * design (its `warnings` say so and the worker records them).
 */
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import {
  collector,
  connectPy,
  makeFixture,
  makeSpec,
  suiteTargets,
  withServer,
} from './test-support.ts';
import type { Fixture } from './test-support.ts';
import type { Runtime } from './types.ts';

/** Runtimes that skip the isolation cases, and why. */
const SKIP: Record<string, string> = {
  process: 'process runtime has no isolation by design (PROCESS_RUNTIME_WARNING)',
};

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

for (const target of suiteTargets()) {
  const skipReason = SKIP[target.name] ?? target.skipAll;
  const test = (name: string, fn: () => Promise<void>) =>
    skipReason === undefined ? it(name, fn) : it.skip(`${name} [skipped: ${skipReason}]`, fn);

  describe(`isolation: ${target.name}`, () => {
    let fx: Fixture;
    let rt: Runtime;
    beforeAll(async () => {
      if (skipReason !== undefined) return;
      rt = target.create();
      const avail = await rt.available();
      if (!avail.ok) throw new Error(`${target.name} runtime unavailable: ${avail.reason}`);
    });
    beforeEach(async () => {
      fx = await makeFixture();
    });
    afterEach(async () => {
      await fx.cleanup();
    });

    test('the snapshot is read-only', async () => {
      const r = await rt.run(
        makeSpec(fx, ['sh', '-c', 'echo changed > hello.txt || echo changed > new.txt']),
      );
      expect(r.exitCode).not.toBe(0);
      expect(await readFile(join(fx.workDir, 'hello.txt'), 'utf8')).toBe(
        'hello from the snapshot\n',
      );
      expect(await exists(join(fx.workDir, 'new.txt'))).toBe(false);
    });

    test('writes outside the output dir fail and never reach the host', async () => {
      const escape = join(fx.root, 'escape.txt');
      const targets = ['/root/x', '/etc/x', '/usr/x', '/var/tmp/x', '/work/x', '/x', escape];
      const script =
        `for p in ${targets.join(' ')}; do (echo x > "$p") 2>/dev/null && echo "WROTE $p"; done; ` +
        'echo ok > "$HOME/scratch" && echo home-ok';
      const out = collector();
      await rt.run(makeSpec(fx, ['sh', '-c', script], { onOutput: out.onOutput }));
      expect(out.stdout()).toBe('home-ok\n');
      expect(await exists(escape)).toBe(false);
    });

    test('datasets are read-only', async () => {
      const r = await rt.run(
        makeSpec(fx, ['sh', '-c', 'echo x > "$FETCHML_DATA/mnist/train.csv"']),
      );
      expect(r.exitCode).not.toBe(0);
      expect(await readFile(join(fx.dataDir, 'train.csv'), 'utf8')).toBe('x,y\n1,2\n');
    });

    test('network none cannot reach a server on the host', async () => {
      await withServer(async (port) => {
        const out = collector();
        const r = await rt.run(
          makeSpec(fx, ['python3', '-c', connectPy(port, target.hostForNoNetwork)], {
            onOutput: out.onOutput,
          }),
        );
        expect(out.stdout()).toContain('unreachable');
        expect(r.exitCode).toBe(1);
      }, target.serverHost);
    });

    test('host secrets and other host dirs are hidden', async () => {
      const script = [
        'cat /etc/shadow >/dev/null 2>&1 && echo shadow-readable',
        'ls /root >/dev/null 2>&1 && echo root-visible',
        `ls ${fx.root} >/dev/null 2>&1 && echo fixture-visible`,
        'echo done',
      ].join('; ');
      const out = collector();
      await rt.run(makeSpec(fx, ['sh', '-c', script], { onOutput: out.onOutput }));
      expect(out.stdout()).toBe('done\n');
    });

    test('the job has no capabilities and its own pid namespace', async () => {
      const out = collector();
      await rt.run(
        makeSpec(fx, ['sh', '-c', 'grep CapEff /proc/self/status; echo "pid=$$"'], {
          onOutput: out.onOutput,
        }),
      );
      expect(out.stdout()).toContain('CapEff:\t0000000000000000');
      const pid = Number(/pid=(\d+)/.exec(out.stdout())?.[1]);
      expect(pid).toBeLessThan(10);
    });
  });
}
