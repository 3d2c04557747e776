/**
 * Ctrl-C of `fetchml up` while a task runs: a quick, clean exit; the task is back in the queue
 * with nothing half-written; after a restart on the same base dir it completes.
 */
import { readdirSync, readFileSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  alive,
  cleanup,
  descendants,
  ensureBuilt,
  freePort,
  listFiles,
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

beforeAll(ensureBuilt, 180_000);
afterAll(cleanup, 30_000);

describe('Ctrl-C of fetchml up while a task runs', () => {
  it('stops within seconds, re-queues the task cleanly, and the task completes after a restart', async () => {
    const sb = sandbox();
    const port = await freePort();
    const args = ['--port', String(port)];
    const first = await startFetchml(sb, 'up', args);
    writeProject(sb, 'python3 job.py', { 'job.py': tickerJob(15, 0.2) });
    expect((await ml(sb, ['init', '--server', first.banner.url!])).code).toBe(0);
    const queued = await ml(sb, ['queue']);
    expect(queued.code, queued.stderr).toBe(0);
    const taskId = TASK_ID.exec(queued.stdout)![0];
    const paths = taskPaths(sb, taskId);

    await waitFor('the task to print 2 lines', () => /tick 1\b/.test(readIfExists(paths.log)));
    const jobPids = descendants(first.proc.pid);
    expect(jobPids.length).toBeGreaterThan(0);

    const t0 = Date.now();
    const { code } = await first.proc.stop('SIGINT', 15_000);
    const stopMs = Date.now() - t0;
    expect(code).toBe(0);
    expect(stopMs).toBeLessThan(5_000);
    expect(first.proc.stdout).toContain('stopped');
    expect(jobPids.filter(alive)).toEqual([]);

    // Nothing half-written: no manifest (not even a temp file), no partial output; the log says
    // what happened.
    expect(listFiles(paths.dir)).toEqual(['logs/output.log']);
    expect(readFileSync(paths.log, 'utf8')).toContain('re-queued');
    expect(readdirSync(sb.home)).toContain('fetchml.db');

    // Back in the queue: a server alone (no worker to claim it) shows it queued.
    const server = await startFetchml(sb, 'server', args);
    const requeued = await taskStatus(sb, taskId);
    expect(requeued).toMatchObject({ status: 'queued', worker_id: null, exit_code: null });
    expect((await server.proc.stop('SIGINT')).code).toBe(0);

    // `fetchml up` again on the same base dir: the task runs to the end.
    const second = await startFetchml(sb, 'up', args);
    const follow = await ml(sb, ['logs', '-f', taskId], { timeoutMs: 30_000 });
    expect(follow.code, follow.stderr).toBe(0);
    expect(follow.stdout).toContain('finished');
    const done = await taskStatus(sb, taskId);
    expect(done).toMatchObject({ status: 'completed', exit_code: 0 });
    const info = await mlJson<{ status: string; lifecycle: { exit_code: number | null } }>(sb, [
      'info',
      taskId,
    ]);
    expect(info).toMatchObject({ status: 'completed', lifecycle: { exit_code: 0 } });
    expect((await second.proc.stop('SIGINT')).code).toBe(0);
  }, 60_000);
});
