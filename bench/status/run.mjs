#!/usr/bin/env node
// `ml status` wall time against a running `fetchml up` that holds a few tasks, as a ratio to
// `node -e 0` (Node's own start-up) measured in the same run, the two interleaved so that load
// from elsewhere on the machine hits both alike. Target: median ratio <= 3x.
//
//   npm run bench:status        (STATUS_RUNS=15 by default)
import {
  finish,
  fmt,
  makeSandbox,
  median,
  ml,
  mlOk,
  percentile,
  spawnNode,
  startUp,
  stop,
  verdict,
  writeProject,
} from '../common.mjs';

const RUNS = Number(process.env.STATUS_RUNS ?? 15);
const WARMUP = 2;
const TASKS = 5;
const TARGET_RATIO = 3;

async function nodeBaseline() {
  const t0 = performance.now();
  const child = spawnNode(['-e', '0'], {});
  const { code } = await child.exited;
  if (code !== 0) throw new Error(`node -e 0 exited ${code}`);
  return performance.now() - t0;
}

async function main() {
  const sb = makeSandbox('status');
  writeProject(sb, 'python3 job.py', {
    'job.py': 'import sys\nprint("hello", sys.argv[1:], flush=True)\n',
  });
  const { child, banner } = await startUp(sb);
  try {
    await mlOk(sb, ['init', '--server', banner.url]);
    for (let i = 0; i < TASKS; i++) await mlOk(sb, ['queue', '--follow', '--', String(i)]);

    const status = [];
    const baseline = [];
    for (let i = 0; i < WARMUP + RUNS; i++) {
      const b = await nodeBaseline();
      const r = await ml(sb, ['status']);
      if (r.code !== 0) throw new Error(`ml status exited ${r.code}: ${r.err}`);
      if (i === 0 && !r.out.includes(`${TASKS} completed`)) {
        throw new Error(`expected ${TASKS} completed tasks in:\n${r.out}`);
      }
      if (i >= WARMUP) {
        status.push(r.ms);
        baseline.push(b);
      }
    }
    const s = median(status);
    const b = median(baseline);
    const ratio = s / b;
    process.stdout.write(
      `ml status against fetchml up with ${TASKS} tasks (${RUNS} runs each, interleaved)\n` +
        `  ml status:  median ${fmt(s)} ms, p90 ${fmt(percentile(status, 90))} ms, min ${fmt(Math.min(...status))} ms\n` +
        `  node -e 0:  median ${fmt(b)} ms, p90 ${fmt(percentile(baseline, 90))} ms, min ${fmt(Math.min(...baseline))} ms\n` +
        `  ratio ${fmt(ratio, 2)}x\n`,
    );
    verdict(
      'ml status wall time',
      ratio <= TARGET_RATIO,
      `${fmt(ratio, 2)}x <= ${TARGET_RATIO}x node -e 0`,
    );
  } finally {
    await stop(child);
    sb.remove();
  }
  finish();
}

await main();
