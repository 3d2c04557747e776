#!/usr/bin/env node
// `ml status` wall time against a running `fetchml up` whose store holds 10,000 tasks
// (STATUS_TASKS), as a ratio to `node -e 0` (Node's own start-up) measured in the same run, the two
// interleaved so that load from elsewhere on the machine hits both alike. Target: median ratio
// <= 3x. Also printed (not gated): the server's time for `GET /v1/status` alone, over HTTPS with
// keep-alive, which is what the store size could slow down.
//
// The tasks are written straight into the store and queue (compiled dist/ modules) while the
// server runs, cloned from one task that really ran: ~91% completed, 5% failed (some in the last
// day), 3% cancelled, 1% queued (too large for any worker, or asking a label no live worker
// offers, so the worker leaves them queued and status explains them), 20 running on a worker that
// stopped answering.
//
//   npm run bench:status        (STATUS_RUNS=15, STATUS_TASKS=10000 by default)
import { join } from 'node:path';

import {
  serverTimes,
  finish,
  fmt,
  makeSandbox,
  median,
  ml,
  mlOk,
  percentile,
  repo,
  spawnNode,
  startUp,
  stop,
  verdict,
  writeProject,
} from '../common.mjs';

const RUNS = Number(process.env.STATUS_RUNS ?? 15);
const TASKS = Number(process.env.STATUS_TASKS ?? 10_000);
const WARMUP = 2;
const TARGET_RATIO = 3;

const { openSqliteStore } = await import(join(repo, 'dist/store/sqlite/store.js'));
const { openSqliteQueue } = await import(join(repo, 'dist/queue/sqlite/queue.js'));
const { newId } = await import(join(repo, 'dist/core/ids.js'));

async function nodeBaseline() {
  const t0 = performance.now();
  const child = spawnNode(['-e', '0'], {});
  const { code } = await child.exited;
  if (code !== 0) throw new Error(`node -e 0 exited ${code}`);
  return performance.now() - t0;
}

const DAY = 86_400_000;
const iso = (ms) => new Date(ms).toISOString();

/** The i-th synthetic task: a clone of `template` in a state picked by i. */
function synthetic(template, i, now) {
  const created = now - 30 * DAY + Math.floor((i / TASKS) * 30 * DAY);
  const base = {
    ...template,
    id: newId('task', created),
    created_at: iso(created),
    queued_at: iso(created),
    updated_at: iso(created),
    attempt: 1,
    worker_id: 'worker_bench',
    started_at: iso(created + 5_000),
    cancel_requested: false,
    error: null,
  };
  const ended = iso(created + 65_000);
  const r = i % 100;
  if (r === 0) {
    // queued, so that the bench's worker leaves it queued: half ask for more GPUs than any worker
    // has, half for a label no live worker offers.
    const big = (i / 100) % 2 === 0;
    const resources = { ...template.resources, gpus: big ? 4 : 0 };
    const labels = big ? [] : ['a100'];
    return {
      ...base,
      status: 'queued',
      priority: i % 7,
      resources,
      labels,
      plan: { ...template.plan, resources },
      attempt: 0,
      worker_id: null,
      started_at: null,
      ended_at: null,
      exit_code: null,
    };
  }
  if (r < 6) {
    const recent = i > TASKS - 1000;
    return {
      ...base,
      status: 'failed',
      exit_code: 1,
      error: { code: 'ML_ERR_TASK_FAILED', message: 'exit code 1' },
      ended_at: recent ? iso(now - (TASKS - i) * 60_000) : ended,
    };
  }
  if (r < 9) {
    return {
      ...base,
      status: 'cancelled',
      exit_code: null,
      error: { code: 'ML_ERR_TASK_CANCELLED', message: 'cancelled by request' },
      ended_at: ended,
    };
  }
  return { ...base, status: 'completed', exit_code: 0, ended_at: ended };
}

/** Fills the store (and the queue, for queued tasks) with TASKS tasks; returns the counts. */
async function fill(home) {
  const path = join(home, 'fetchml.db');
  const store = await openSqliteStore({ path });
  const queue = await openSqliteQueue({ path });
  const counts = { queued: 0, running: 0, completed: 0, failed: 0, cancelled: 0 };
  try {
    const [template] = await store.listTasks({ limit: 1 });
    if (!template) throw new Error('no template task');
    counts[template.status] += 1;
    const now = Date.now();
    for (let i = 1; i < TASKS; i++) {
      let task = synthetic(template, i, now);
      if (i >= TASKS - 20) {
        task = { ...task, status: 'running', ended_at: null, exit_code: null, error: null };
        task.started_at = iso(now - 600_000);
      }
      await store.createTask(task);
      counts[task.status] += 1;
      if (task.status === 'queued') {
        await queue.enqueue({
          task_id: task.id,
          priority: task.priority,
          resources: task.resources,
          labels: task.labels,
          max_attempts: task.max_attempts,
        });
      }
    }
    // The worker the running tasks belong to: it stopped answering 10 minutes ago.
    await store.upsertWorker({
      id: 'worker_bench',
      host: 'gone-box',
      runtime: 'sandbox',
      resources: { cpus: 8, memory_mb: 32_768, gpus: 2 },
      labels: ['a100'],
      version: '0.0.0',
      last_seen_at: iso(now - 600_000),
      status: 'online',
      heartbeat_ms: 2000,
    });
  } finally {
    await queue.close();
    await store.close();
  }
  return counts;
}

/** Median time of `GET /v1/status` over keep-alive HTTPS (the server's share of ml status). */
async function main() {
  const sb = makeSandbox('status');
  writeProject(sb, 'python3 job.py', {
    'job.py': 'import sys\nprint("hello", sys.argv[1:], flush=True)\n',
  });
  const { child, banner } = await startUp(sb);
  try {
    await mlOk(sb, ['init', '--server', banner.url]);
    await mlOk(sb, ['queue', '--follow', '--', 'template']);
    const t0 = performance.now();
    const counts = await fill(sb.home);
    process.stdout.write(
      `store filled with ${TASKS} tasks in ${fmt((performance.now() - t0) / 1000)} s: ` +
        `${Object.entries(counts)
          .map(([k, v]) => `${v} ${k}`)
          .join(', ')}\n`,
    );

    const status = [];
    const baseline = [];
    for (let i = 0; i < WARMUP + RUNS; i++) {
      const b = await nodeBaseline();
      const r = await ml(sb, ['status']);
      if (r.code !== 0) throw new Error(`ml status exited ${r.code}: ${r.err}`);
      if (i === 0) {
        for (const want of [`${counts.completed} completed`, `queue: ${counts.queued} waiting`]) {
          if (!r.out.includes(want)) throw new Error(`expected "${want}" in:\n${r.out}`);
        }
        process.stdout.write(
          `first lines of the summary:\n${r.out
            .split('\n\n')[1]
            .split('\n')
            .slice(0, 8)
            .map((l) => `  | ${l}`)
            .join('\n')}\n`,
        );
      }
      if (i >= WARMUP) {
        status.push(r.ms);
        baseline.push(b);
      }
    }
    const key = banner.admin_key;
    const server = key ? await serverTimes(banner.url, key, '/v1/status', RUNS) : null;
    const s = median(status);
    const b = median(baseline);
    const ratio = s / b;
    process.stdout.write(
      `ml status against fetchml up with ${TASKS} tasks (${RUNS} runs each, interleaved)\n` +
        `  ml status:  median ${fmt(s)} ms, p90 ${fmt(percentile(status, 90))} ms, min ${fmt(Math.min(...status))} ms\n` +
        `  node -e 0:  median ${fmt(b)} ms, p90 ${fmt(percentile(baseline, 90))} ms, min ${fmt(Math.min(...baseline))} ms\n` +
        (server
          ? `  GET /v1/status alone (keep-alive): median ${fmt(median(server))} ms, p90 ${fmt(percentile(server, 90))} ms\n`
          : '') +
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
