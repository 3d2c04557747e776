import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { taskFiles } from '../core/layout.ts';
import { lifecycleProblems, RunManifest } from '../core/schemas/manifest.ts';
import type { Runtime } from '../runtime/index.ts';
import { ProcessRuntime, SandboxRuntime } from '../runtime/index.ts';
import { makeFixture, makeSpec } from '../runtime/test-support.ts';
import type { TestBackends } from './test-helpers.ts';
import { openTestBackends, submitProject, testWorker, waitForStatus } from './test-helpers.ts';
import type { FetchmlWorker } from './types.ts';

const sandbox = new SandboxRuntime({ killGraceMs: 1000 });
const sandboxOk = (await sandbox.available()).ok;

let b: TestBackends;
let worker: FetchmlWorker | null = null;

beforeEach(async () => {
  b = await openTestBackends();
});
afterEach(async () => {
  await worker?.stop({ graceful: false });
  worker = null;
  await b.cleanup();
});

/** Claim → first stdout event, for a trivial job, in ms (median of `n`). */
async function claimToFirstOutput(runtime: Runtime, n: number): Promise<number> {
  worker = testWorker(b, runtime, { pollMs: 10 });
  const claimedAt = new Map<string, number>();
  const firstOut = new Map<string, number>();
  worker.on('task:claimed', (e) => claimedAt.set(e.task_id, performance.now()));
  b.events.subscribe('*', (e) => {
    if (e.type === 'task.log' && e.stream === 'stdout' && !firstOut.has(e.task_id)) {
      firstOut.set(e.task_id, performance.now());
    }
  });
  await worker.start();
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const task = await submitProject(b, {
      files: { 'run.sh': 'echo hi\n' },
      spec: { name: 'trivial', command: 'sh run.sh' },
    });
    await waitForStatus(b, task.id, ['completed', 'failed']);
    samples.push(firstOut.get(task.id)! - claimedAt.get(task.id)!);
  }
  await worker.stop();
  worker = null;
  samples.sort((x, y) => x - y);
  return samples[Math.floor(samples.length / 2)]!;
}

/** The same trivial job run by the runtime alone on a staged dir: spawn → first stdout, ms (median). */
async function bareFirstOutput(runtime: Runtime, n: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const fx = await makeFixture();
    await writeFile(join(fx.workDir, 'run.sh'), 'echo hi\n');
    let first = 0;
    const t0 = performance.now();
    await runtime.run(
      makeSpec(fx, ['sh', 'run.sh'], {
        onOutput: () => {
          first ||= performance.now() - t0;
        },
      }),
    );
    samples.push(first);
    await fx.cleanup();
  }
  samples.sort((x, y) => x - y);
  return samples[Math.floor(samples.length / 2)]!;
}

describe.skipIf(!sandboxOk)('worker (sandbox runtime)', () => {
  it('runs a job isolated: read-only snapshot, writable output, complete manifest', async () => {
    const task = await submitProject(b, {
      files: {
        'run.sh': [
          'cat data.txt',
          'if echo x > data.txt 2>/dev/null; then echo "src writable"; else echo "src read-only"; fi',
          'echo "{\\"loss\\": 0.1}" > "$FETCHML_OUTPUT/metrics.json"',
          'echo "{\\"step\\": 1, \\"acc\\": 0.5}" >> "$FETCHML_METRICS"',
          'echo "metrics at $FETCHML_METRICS"',
          'pwd',
          '',
        ].join('\n'),
        'data.txt': 'snapshot data\n',
      },
      spec: { name: 'boxed', command: 'sh run.sh' },
    });
    worker = testWorker(b, sandbox);
    await worker.start();
    const done = await waitForStatus(b, task.id, ['completed', 'failed']);
    expect(done.status).toBe('completed');
    const log = await readFile(taskFiles(b.home).logPath(task.id), 'utf8');
    expect(log).toContain('snapshot data\n');
    expect(log).toContain('src read-only\n');
    expect(log).toContain('/work/src\n');
    const m = RunManifest.parse(
      JSON.parse(await readFile(taskFiles(b.home).manifestPath(task.id), 'utf8')),
    );
    expect(lifecycleProblems(m)).toEqual([]);
    expect(m.worker.runtime).toBe('sandbox');
    // $FETCHML_METRICS is inside the output mount, so the sandboxed job can write it.
    expect(log).toContain('metrics at /work/output/metrics.jsonl\n');
    expect(m.metrics).toEqual({ acc: 0.5, loss: 0.1 });
    expect(m.artifacts.map((a) => a.path)).toEqual(['metrics.json', 'metrics.jsonl']);
  });

  it('cancels a sandboxed job', async () => {
    const task = await submitProject(b, {
      files: { 'run.sh': 'echo started\nsleep 30\n' },
      spec: { name: 'boxed-cancel', command: 'sh run.sh' },
    });
    worker = testWorker(b, sandbox);
    await worker.start();
    await waitForStatus(b, task.id, ['running']);
    await new Promise((r) => setTimeout(r, 300));
    await b.queue.cancel(task.id);
    await b.store.setCancelRequested(task.id);
    const done = await waitForStatus(b, task.id, ['cancelled', 'failed', 'completed'], 5000);
    expect(done.status).toBe('cancelled');
  });

  it('measures claim-to-first-output latency (process and sandbox)', async () => {
    const proc = await claimToFirstOutput(new ProcessRuntime(), 5);
    const boxed = await claimToFirstOutput(sandbox, 5);
    const bareProc = await bareFirstOutput(new ProcessRuntime(), 5);
    const bareBoxed = await bareFirstOutput(sandbox, 5);
    console.log(
      `claim → first output, median of 5: process ${proc.toFixed(1)} ms (runtime alone ${bareProc.toFixed(1)} ms), ` +
        `sandbox ${boxed.toFixed(1)} ms (runtime alone ${bareBoxed.toFixed(1)} ms)`,
    );
    expect(proc).toBeLessThan(2000);
    expect(boxed).toBeLessThan(2000);
  });

  it('runs a task without an image on the host runtime, and one with an image in the main runtime', async () => {
    // `sandbox` stands in for a container runtime here; `process` is the host runtime.
    worker = testWorker(b, sandbox, {}, { hostRuntime: new ProcessRuntime() });
    await worker.start();
    const plain = await submitProject(b, {
      files: { 'run.sh': 'echo plain\n' },
      spec: { name: 'no-image', command: 'sh run.sh' },
    });
    const imaged = await submitProject(b, {
      files: { 'run.sh': 'echo imaged\n' },
      spec: { name: 'with-image', command: 'sh run.sh', image: 'localhost/some-image:latest' },
    });
    for (const [task, runtime] of [
      [plain, 'process'],
      [imaged, 'sandbox'],
    ] as const) {
      expect((await waitForStatus(b, task.id, ['completed', 'failed'])).status).toBe('completed');
      const manifest = RunManifest.parse(
        JSON.parse(await readFile(taskFiles(b.home).manifestPath(task.id), 'utf8')),
      );
      expect(manifest.worker.runtime).toBe(runtime);
    }
  });
});
