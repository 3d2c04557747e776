#!/usr/bin/env node
// `ml monitor`'s first frame against a running `fetchml up` whose store holds 10,000 tasks
// (MONITOR_TASKS): the time from spawning the process to the first frame that shows the task list
// ("task 1 of 10,000" in its status line), read from a real pseudo-terminal (util-linux `script`
// allocates it; the monitor then quits on `q`). Target: median <= 500 ms. `node -e 0` and
// `ml --help` are measured in the same run, interleaved, for scale.
//
// The tasks are written straight into the store and queue (compiled dist/ modules) while the
// server runs, cloned from one task that really ran; about 90% completed, 5% failed, 3%
// cancelled, 1% queued (asking for more GPUs than the worker has, so they stay queued).
//
//   npm run bench:monitor        (MONITOR_RUNS=10, MONITOR_TASKS=10000 by default)
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import {
  serverTimes,
  finish,
  fmt,
  makeSandbox,
  median,
  mlBin,
  mlOk,
  percentile,
  repo,
  sleep,
  spawnNode,
  startUp,
  stop,
  verdict,
  writeProject,
} from '../common.mjs';

const RUNS = Number(process.env.MONITOR_RUNS ?? 10);
const TASKS = Number(process.env.MONITOR_TASKS ?? 10_000);
const WARMUP = 2;
const TARGET_MS = 500;

const { openSqliteStore } = await import(join(repo, 'dist/store/sqlite/store.js'));
const { openSqliteQueue } = await import(join(repo, 'dist/queue/sqlite/queue.js'));
const { newId } = await import(join(repo, 'dist/core/ids.js'));

const DAY = 86_400_000;
const iso = (ms) => new Date(ms).toISOString();

/** Fills the store (and the queue, for queued tasks) up to TASKS tasks cloned from `template`. */
async function fill(home) {
  const path = join(home, 'fetchml.db');
  const store = await openSqliteStore({ path });
  const queue = await openSqliteQueue({ path });
  try {
    const [template] = await store.listTasks({ limit: 1 });
    if (!template) throw new Error('no template task');
    const now = Date.now();
    for (let i = 1; i < TASKS; i++) {
      const created = now - 30 * DAY + Math.floor((i / TASKS) * 30 * DAY);
      const r = i % 100;
      const status = r === 0 ? 'queued' : r < 6 ? 'failed' : r < 9 ? 'cancelled' : 'completed';
      const resources = { ...template.resources, gpus: status === 'queued' ? 64 : 0 };
      const task = {
        ...template,
        id: newId('task', created),
        name: `exp-${i % 37}`,
        status,
        priority: i % 7,
        resources,
        plan: { ...template.plan, resources },
        created_at: iso(created),
        queued_at: iso(created),
        updated_at: iso(created),
        attempt: status === 'queued' ? 0 : 1,
        worker_id: status === 'queued' ? null : template.worker_id,
        started_at: status === 'queued' ? null : iso(created + 5_000),
        ended_at: status === 'queued' ? null : iso(created + 65_000),
        exit_code: status === 'completed' ? 0 : status === 'failed' ? 1 : null,
        error:
          status === 'failed'
            ? { code: 'ML_ERR_TASK_EXIT', message: 'exit code 1' }
            : status === 'cancelled'
              ? { code: 'ML_ERR_TASK_CANCELLED', message: 'cancelled by request' }
              : null,
        cancel_requested: status === 'cancelled',
      };
      await store.createTask(task);
      if (status === 'queued') {
        await queue.enqueue({
          task_id: task.id,
          priority: task.priority,
          resources: task.resources,
          labels: task.labels,
          max_attempts: task.max_attempts,
        });
      }
    }
  } finally {
    await queue.close();
    await store.close();
  }
}

/**
 * Spawns `ml monitor` on a pseudo-terminal of 100x30 and resolves with the ms from spawn to the
 * first output containing `marker`; then quits it with `q`.
 */
async function firstFrame(sb, marker) {
  const cmd = `stty cols 100 rows 30; exec ${JSON.stringify(process.execPath)} ${JSON.stringify(mlBin)} monitor --theme none`;
  const t0 = performance.now();
  const child = spawn('script', ['-q', '-e', '-c', cmd, '/dev/null'], {
    cwd: sb.project,
    env: { ...sb.env, TERM: 'xterm-256color' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let ms = null;
  const exited = new Promise((ok) => child.once('exit', (code) => ok(code)));
  const seen = new Promise((ok) => {
    child.stdout.setEncoding('utf8').on('data', (d) => {
      out += d;
      if (ms === null && out.includes(marker)) {
        ms = performance.now() - t0;
        ok();
      }
    });
  });
  const timeout = sleep(30_000).then(() => 'timeout');
  const first = await Promise.race([seen, exited, timeout]);
  if (ms === null) {
    child.kill('SIGKILL');
    throw new Error(`no first frame (${first ?? 'exited'}); output:\n${out.slice(-2000)}`);
  }
  // Let the monitor settle into raw mode, then quit as a user would.
  await sleep(300);
  child.stdin.write('q');
  const code = await Promise.race([exited, sleep(10_000).then(() => 'stuck')]);
  if (code !== 0) {
    child.kill('SIGKILL');
    throw new Error(`ml monitor did not quit cleanly on q (${code}); output:\n${out.slice(-2000)}`);
  }
  return ms;
}

/** Median ms of `GET path` over keep-alive HTTPS: the server's share of the first frame. */
async function timeNode(args, sb) {
  const t0 = performance.now();
  const child = spawnNode(args, { cwd: sb.project, env: sb.env });
  const { code } = await child.exited;
  if (code !== 0) throw new Error(`node ${args.join(' ')} exited ${code}: ${child.err}`);
  return performance.now() - t0;
}

async function main() {
  const sb = makeSandbox('monitor');
  writeProject(sb, 'python3 job.py', { 'job.py': 'print("hello", flush=True)\n' });
  const { child, banner } = await startUp(sb);
  try {
    await mlOk(sb, ['init', '--server', banner.url]);
    await mlOk(sb, ['queue', '--follow']);
    const t0 = performance.now();
    await fill(sb.home);
    process.stdout.write(`seeded ${TASKS} tasks in ${fmt((performance.now() - t0) / 1000)} s\n`);
    const marker = `task 1 of ${TASKS.toLocaleString('en-US')}`;

    const frame = [];
    const baseline = [];
    const help = [];
    for (let i = 0; i < WARMUP + RUNS; i++) {
      const b = await timeNode(['-e', '0'], sb);
      const h = await timeNode([mlBin, '--help'], sb);
      const f = await firstFrame(sb, marker);
      if (i >= WARMUP) {
        frame.push(f);
        baseline.push(b);
        help.push(h);
      }
    }
    const m = median(frame);
    const config = JSON.parse(readFileSync(sb.env.FETCHML_CLIENT_CONFIG, 'utf8'));
    const key = config.servers[banner.url].api_key;
    const list = median(await serverTimes(banner.url, key, '/v1/tasks?limit=100'));
    const status = median(await serverTimes(banner.url, key, '/v1/status'));
    process.stdout.write(
      `ml monitor first frame with ${TASKS} tasks (${RUNS} runs, interleaved)\n` +
        `  first frame: median ${fmt(m)} ms, p90 ${fmt(percentile(frame, 90))} ms, min ${fmt(Math.min(...frame))} ms\n` +
        `  ml --help:   median ${fmt(median(help))} ms\n` +
        `  node -e 0:   median ${fmt(median(baseline))} ms\n` +
        `  ratio first frame / node -e 0: ${fmt(m / median(baseline), 2)}x\n` +
        `  server alone (keep-alive): GET /v1/tasks?limit=100 ${fmt(list)} ms, GET /v1/status ${fmt(status)} ms\n`,
    );
    verdict('ml monitor first frame', m <= TARGET_MS, `median ${fmt(m)} ms <= ${TARGET_MS} ms`);
  } finally {
    await stop(child);
    sb.remove();
  }
  finish();
}

await main();
