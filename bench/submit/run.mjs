#!/usr/bin/env node
// Submit-to-start overhead: from `ml queue` returning to the job's first output line in the
// task's log file, minus a bare `bwrap ... true` start measured in the same run (one baseline
// sample before each submission). The project has 100 files, so staging is part of the cost.
// Target: median overhead <= 100 ms. The job usually prints before `ml queue` has finished
// exiting, so this is often negative; the same measured from the server accepting the task
// (its queued_at) is printed as information, with a breakdown (claim, staging, runtime).
//
//   npm run bench:submit        (SUBMIT_RUNS=15 by default)
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

import {
  finish,
  fmt,
  makeSandbox,
  median,
  mlOk,
  percentile,
  readIfExists,
  sleep,
  startUp,
  stop,
  verdict,
  writeProject,
} from '../common.mjs';

const RUNS = Number(process.env.SUBMIT_RUNS ?? 15);
const WARMUP = 2;
const FILES = 100;
const TARGET_MS = 100;

const BWRAP = [
  '--unshare-all',
  '--die-with-parent',
  '--ro-bind',
  '/',
  '/',
  '--dev',
  '/dev',
  '--proc',
  '/proc',
  'true',
];

function bareBwrap() {
  return new Promise((ok, fail) => {
    const t0 = performance.now();
    const child = spawn('bwrap', BWRAP, { stdio: 'ignore' });
    child.once('error', fail);
    child.once('exit', (code) =>
      code === 0 ? ok(performance.now() - t0) : fail(new Error(`bwrap exited ${code}`)),
    );
  });
}

/**
 * Polls the base dir every millisecond for a task dir that is not in `known` whose log has `line`
 * as a whole line; resolves with {taskId, at} (performance.now() when it was first seen). Started
 * before `ml queue`, because the job often prints before `ml queue` has even exited.
 */
async function watchForLine(experiments, known, line, timeoutMs = 20_000) {
  const until = performance.now() + timeoutMs;
  const re = new RegExp(`^${line}$`, 'm');
  for (;;) {
    for (const id of readdirOr(experiments)) {
      if (known.has(id)) continue;
      if (re.test(readIfExists(join(experiments, id, 'logs', 'output.log')))) {
        return { taskId: id, at: performance.now() };
      }
    }
    if (performance.now() > until)
      throw new Error(`no "${line}" in any new log after ${timeoutMs} ms`);
    await sleep(1);
  }
}

function readdirOr(dir) {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

async function waitForEnd(manifestPath, timeoutMs = 20_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const text = readIfExists(manifestPath);
    if (text) {
      const { status } = JSON.parse(text);
      if (status === 'completed') return JSON.parse(text);
      if (status !== 'running') throw new Error(`task ended ${status}`);
    }
    if (Date.now() > until) throw new Error(`the task did not end within ${timeoutMs} ms`);
    await sleep(5);
  }
}

async function main() {
  const sb = makeSandbox('submit');
  const files = {};
  for (let i = 0; i < FILES - 1; i++) {
    files[`src/module_${String(i).padStart(3, '0')}.py`] =
      `# module ${i}\n${'x = 1\n'.repeat(20 + (i % 50))}`;
  }
  // The job: its first (and only) output line is its first argument.
  writeProject(sb, 'echo', files);
  const { child, banner } = await startUp(sb, ['--runtime', 'sandbox']);
  try {
    await mlOk(sb, ['init', '--server', banner.url]);
    const experiments = join(sb.home, 'experiments');
    const fromReturn = [];
    const fromAccepted = [];
    const baselines = [];
    const toStarted = [];
    const staging = [];
    const startedToLine = [];
    const queueMs = [];
    for (let i = 0; i < WARMUP + RUNS; i++) {
      const bw = await bareBwrap();
      const marker = `ready-${i}`;
      const known = new Set(readdirOr(experiments));
      const watching = watchForLine(experiments, known, marker);
      const queued = await mlOk(sb, ['queue', '--json', '--', marker]);
      const returned = performance.now();
      const task = JSON.parse(queued.out);
      const seen = await watching;
      if (seen.taskId !== task.id) throw new Error(`saw ${seen.taskId}, queued ${task.id}`);
      // The server's queued_at (wall clock, same machine) on the performance.now() timeline.
      const accepted = Date.parse(task.queued_at) - performance.timeOrigin;
      const manifest = await waitForEnd(join(experiments, task.id, 'run_manifest.json'));
      const log = readIfExists(join(experiments, task.id, 'logs', 'output.log'));
      const started = Date.parse(manifest.lifecycle.started_at) - performance.timeOrigin;
      if (i >= WARMUP) {
        toStarted.push(started - accepted);
        staging.push(Number(/staged .* in (\d+) ms/.exec(log)?.[1] ?? NaN));
        startedToLine.push(seen.at - started);
        queueMs.push(queued.ms);
        fromReturn.push(seen.at - returned);
        fromAccepted.push(seen.at - accepted);
        baselines.push(bw);
      }
    }
    const base = median(baselines);
    const lat = median(fromReturn);
    const acc = median(fromAccepted);
    const overhead = lat - base;
    const accOverhead = acc - base;
    const stats = (xs) =>
      `median ${fmt(median(xs))} ms, p90 ${fmt(percentile(xs, 90))} ms, min ${fmt(Math.min(...xs))} ms, max ${fmt(Math.max(...xs))} ms`;
    process.stdout.write(
      `submit-to-start (${RUNS} submissions of a ${FILES}-file project, sandbox runtime)\n` +
        `  ml queue returned -> first output line:      ${stats(fromReturn)}\n` +
        `  server accepted (queued_at) -> first line:   ${stats(fromAccepted)}\n` +
        `  breakdown: queued_at -> started_at (claim, mark running) median ${fmt(median(toStarted))} ms; ` +
        `staging median ${fmt(median(staging))} ms; started_at -> first line median ${fmt(median(startedToLine))} ms\n` +
        `  ml queue wall time (snapshot, sync, submit, exit): ${stats(queueMs)}\n` +
        `  bare bwrap start (baseline):                  ${stats(baselines)}\n` +
        `  overhead from ml queue returning = ${fmt(lat)} - ${fmt(base)} = ${fmt(overhead)} ms\n` +
        `  overhead from the server accepting = ${fmt(acc)} - ${fmt(base)} = ${fmt(accOverhead)} ms\n` +
        `  (negative: the job has printed before \`ml queue\` has finished exiting)\n`,
    );
    verdict(
      'submit-to-start overhead (from ml queue returning)',
      overhead <= TARGET_MS,
      `${fmt(overhead)} ms <= ${TARGET_MS} ms`,
    );
    process.stdout.write(
      `info submit-to-start overhead from the server accepting the task (not the target; it ` +
        `includes the \`ml\` process still exiting on the same cores): ${fmt(accOverhead)} ms\n`,
    );
  } finally {
    await stop(child);
    sb.remove();
  }
  finish();
}

await main();
