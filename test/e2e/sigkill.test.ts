/**
 * A worker killed with SIGKILL mid-task: `fetchml server` and two `fetchml worker` processes share
 * one base dir and SQLite file; the task's lease expires, the server re-queues it, and the second
 * worker runs it to completion. Real processes, real HTTPS and WebSocket.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  alive,
  cleanup,
  descendants,
  ensureBuilt,
  freePort,
  ml,
  mlJson,
  readIfExists,
  sandbox,
  startFetchml,
  TASK_ID,
  taskPaths,
  taskStatus,
  tickerJob,
  waitFor,
  writeProject,
} from './helpers.ts';

interface Manifest {
  status: string;
  attempt: number;
  worker: { id: string; runtime: string };
  lifecycle: {
    queued_at: string;
    started_at: string | null;
    ended_at: string | null;
    exit_code: number | null;
  };
  artifacts: { path: string; size: number; sha256: string }[];
}

beforeAll(ensureBuilt, 180_000);
afterAll(cleanup, 30_000);

describe('a worker killed with SIGKILL mid-task', () => {
  it('re-queues the task when the lease expires and completes it on another worker', async () => {
    const sb = sandbox({
      FETCHML_WORKER_LEASE_MS: '2000',
      FETCHML_WORKER_HEARTBEAT_MS: '500',
      FETCHML_SERVER_REAP_INTERVAL_MS: '500',
    });
    const port = await freePort();
    const { banner } = await startFetchml(sb, 'server', ['--port', String(port)]);
    expect(banner.url).toBe(`https://127.0.0.1:${port}`);
    const w1 = await startFetchml(sb, 'worker', ['--id', 'w1']);
    expect(w1.banner).toMatchObject({ worker_id: 'w1', runtime: 'sandbox' });

    // 20 ticks of 200 ms: about 4 s of work, then an output file.
    writeProject(sb, 'python3 job.py', { 'job.py': tickerJob(20, 0.2) });
    expect((await ml(sb, ['init', '--server', banner.url!])).code).toBe(0);
    const queued = await ml(sb, ['queue']);
    expect(queued.code, queued.stderr).toBe(0);
    const taskId = TASK_ID.exec(queued.stdout)?.[0];
    expect(taskId).toBeDefined();
    const paths = taskPaths(sb, taskId!);

    // Running on w1 and a few lines in.
    await waitFor('the task to run on w1 and print 3 lines', () =>
      /tick 2\b/.test(readIfExists(paths.log)),
    );
    const running = await taskStatus(sb, taskId!);
    expect(running).toMatchObject({ status: 'running', worker_id: 'w1', attempt: 1 });

    const w2 = await startFetchml(sb, 'worker', ['--id', 'w2']);
    expect(w2.banner.worker_id).toBe('w2');

    const jobPids = descendants(w1.proc.pid);
    expect(jobPids.length, 'the job runs under w1').toBeGreaterThan(0);
    w1.proc.child.kill('SIGKILL');
    await w1.proc.exited;

    // bwrap --die-with-parent: nothing of attempt 1 survives its worker.
    await waitFor('the job processes of w1 to die', () => jobPids.every((p) => !alive(p)), 5_000);

    const done = await waitFor(
      'the task to complete on w2',
      async () => {
        const t = await taskStatus(sb, taskId!);
        if (t.status === 'failed' || t.status === 'cancelled') {
          throw new Error(`task ended ${t.status}: ${readIfExists(paths.log)}`);
        }
        return t.status === 'completed' ? t : null;
      },
      40_000,
      250,
    );
    expect(done).toMatchObject({ status: 'completed', attempt: 2, worker_id: 'w2', exit_code: 0 });

    // `ml info --json`: the stored manifest, complete, attempt 2 on w2, with the artifact.
    const info = await mlJson<Manifest>(sb, ['info', taskId!]);
    expect(info).toMatchObject({ status: 'completed', attempt: 2, worker: { id: 'w2' } });
    expect(info.lifecycle.started_at).toEqual(expect.any(String));
    expect(info.lifecycle.ended_at).toEqual(expect.any(String));
    expect(info.lifecycle.exit_code).toBe(0);
    expect(Date.parse(info.lifecycle.ended_at!)).toBeGreaterThanOrEqual(
      Date.parse(info.lifecycle.started_at!),
    );
    expect(info.artifacts.map((a) => a.path)).toContain('result.txt');
    const onDisk = JSON.parse(readFileSync(paths.manifest, 'utf8')) as Manifest;
    expect(onDisk).toEqual(info);
    expect(readFileSync(join(paths.output, 'result.txt'), 'utf8')).toBe('ticks 20\n');

    // The log keeps both attempts: attempt 1's partial output, then attempt 2 in full.
    const log = readFileSync(paths.log, 'utf8');
    const first = log.indexOf('attempt 1 on worker w1');
    const second = log.indexOf('attempt 2 on worker w2');
    expect(first).toBeGreaterThanOrEqual(0);
    expect(second).toBeGreaterThan(first);
    expect(log.slice(first, second)).toMatch(/tick 2\b/);
    expect(log.slice(second)).toMatch(/tick 19\b[\s\S]*finished/);

    // `ml logs -f` on the finished task replays it and exits with its outcome.
    const follow = await ml(sb, ['logs', '-f', taskId!]);
    expect(follow.code, follow.stderr).toBe(0);
    expect(follow.stdout).toContain('attempt 2 on worker w2');
    expect(follow.stdout).toContain('finished');
    expect(existsSync(paths.manifest)).toBe(true);
  }, 90_000);
});
