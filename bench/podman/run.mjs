/**
 * @module bench/podman/run
 * Podman start-up benchmark (`npm run bench:podman`; `--runs N`, default 7). One ratio, both sides
 * measured in this run on the same image (the busybox test image, see .ci/build-test-images):
 *
 *   fetchml: submit → first output line. A one-file project is snapshotted, stored and queued
 *            (the same calls `ml queue` ends in), a worker on the podman runtime claims it,
 *            resolves the image, stages, writes the running manifest and starts the container
 *            with every isolation flag (--init, read-only, cap-drop, limits, mounts, env file);
 *            the clock stops when the job's first stdout line reaches the event bus.
 *   bare:    `podman run --rm --network none IMAGE true`, start to exit.
 *
 * Target: fetchml / bare <= 1.3 (medians; the runs alternate so host load hits both sides).
 * Needs podman working (CONTAINERS_CONF, see docs/runtimes.md) and `npm run build`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const argv = process.argv.slice(2);
const runsAt = argv.indexOf('--runs');
const runs = runsAt >= 0 ? Number(argv[runsAt + 1]) : 7;
const dist = join(fileURLToPath(new URL('.', import.meta.url)), '../../dist');

async function main() {
  if (!existsSync(join(dist, 'worker/test-helpers.js'))) {
    console.error('dist/ is missing: build first (npm run build)');
    return 2;
  }
  const { openTestBackends, submitProject, testWorker, waitForStatus } = await import(
    join(dist, 'worker/test-helpers.js')
  );
  const { testImage, testPodman, testEngineEnv } = await import(
    join(dist, 'runtime/test-support.js')
  );
  const image = testImage('busybox');
  const env = { ...process.env, ...testEngineEnv() };
  const runtime = testPodman({ killGraceMs: 1000 });
  const avail = await runtime.available();
  if (!avail.ok) {
    console.error(`podman is not usable here: ${avail.reason}`);
    return 2;
  }

  const bare = () => {
    const t0 = performance.now();
    const r = spawnSync('podman', ['run', '--rm', '--network', 'none', image, 'true'], { env });
    if (r.status !== 0) throw new Error(`bare podman run failed: ${r.stderr}`);
    return performance.now() - t0;
  };

  /** Informational, like for like: `podman run --rm --network none IMAGE echo hi` to its output. */
  const bareEcho = () =>
    new Promise((resolve, reject) => {
      const t0 = performance.now();
      let first = 0;
      const child = spawn('podman', ['run', '--rm', '--network', 'none', image, 'echo', 'hi'], {
        env,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      child.stdout.on('data', () => (first ||= performance.now() - t0));
      child.once('error', reject);
      child.once('exit', () => resolve(first));
    });

  const b = await openTestBackends();
  const worker = testWorker(b, runtime, { pollMs: 10 });
  const firstOut = new Map();
  const waiters = new Map();
  b.events.subscribe('*', (e) => {
    if (e.type === 'task.log' && e.stream === 'stdout' && !firstOut.has(e.task_id)) {
      firstOut.set(e.task_id, performance.now());
      waiters.get(e.task_id)?.();
    }
  });
  await worker.start();
  const fetchml = async () => {
    const t0 = performance.now();
    const task = await submitProject(b, {
      files: { 'run.sh': 'echo hi\n' },
      spec: { name: 'bench', command: 'sh run.sh', image },
    });
    if (!firstOut.has(task.id)) await new Promise((resolve) => waiters.set(task.id, resolve));
    const ms = firstOut.get(task.id) - t0;
    const done = await waitForStatus(b, task.id, ['completed', 'failed'], 60_000);
    if (done.status !== 'completed') throw new Error(`bench task ${done.status}`);
    return ms;
  };

  try {
    bare();
    await fetchml(); // warm-up: JIT, page cache, image cache
    const a = [];
    const f = [];
    const e = [];
    for (let i = 0; i < runs; i++) {
      a.push(bare());
      f.push(await fetchml());
      e.push(await bareEcho());
    }
    const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
    const ratio = median(f) / median(a);
    const fmt = (xs) => xs.map((x) => x.toFixed(0)).join(' ');
    console.log(`podman start-up, ${runs} runs each, image ${image}`);
    console.log(
      `  bare podman run --rm --network none IMAGE true: median ${median(a).toFixed(0)} ms  [${fmt(a)}]`,
    );
    console.log(
      `  fetchml submit -> first output line:            median ${median(f).toFixed(0)} ms  [${fmt(f)}]`,
    );
    console.log(
      `  (info) bare podman run ... IMAGE echo hi -> first output: median ${median(e).toFixed(0)} ms  [${fmt(e)}]; fetchml / that ${(median(f) / median(e)).toFixed(2)}x`,
    );
    console.log(`  ratio ${ratio.toFixed(2)}x (target <= 1.3x): ${ratio <= 1.3 ? 'PASS' : 'FAIL'}`);
    return ratio <= 1.3 ? 0 : 1;
  } finally {
    await worker.stop({ graceful: false });
    await b.cleanup();
  }
}

process.exitCode = await main();
