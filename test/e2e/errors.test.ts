/**
 * Bad input over the wire, through the real binaries: an unknown task id, an invalid
 * fetchml.yaml, a job that exits non-zero, a server that is not there, and a server whose
 * certificate is not the pinned one. (Malformed requests, hostile paths, bad hashes and oversized
 * bodies are covered in-process by the src/server tests.)
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  cleanup,
  ensureBuilt,
  freePort,
  ml,
  mlJson,
  sandbox,
  startFetchml,
  TASK_ID,
  taskPaths,
  taskStatus,
  tickerJob,
  writeProject,
  type Proc,
  type StatusView,
} from './helpers.ts';

beforeAll(ensureBuilt, 180_000);
afterAll(cleanup, 30_000);

describe('bad input over the wire', () => {
  const sb = sandbox();
  let port = 0;
  let url = '';
  let up: Proc;

  beforeAll(async () => {
    port = await freePort();
    const started = await startFetchml(sb, 'up', ['--port', String(port)]);
    up = started.proc;
    url = started.banner.url!;
    writeProject(sb, 'python3 job.py', { 'job.py': tickerJob(3, 0.05, 3) });
    const init = await ml(sb, ['init', '--server', url]);
    expect(init.code, init.stderr).toBe(0);
  }, 60_000);

  it('an unknown task id: non-zero exit and a not-found message', async () => {
    const missing = 'task_01AAAAAAAAAAAAAAAAAAAAAAAA';
    const r = await ml(sb, ['info', missing]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/no such task|not found/i);
    expect(r.stderr).toContain(missing);

    const j = await ml(sb, ['info', missing, '--json']);
    expect(j.code).not.toBe(0);
    const body = JSON.parse(j.stdout || j.stderr) as { error: { code: string } };
    expect(body.error.code).toMatch(/NOT_FOUND/);
  });

  it('an invalid fetchml.yaml: the field is named and nothing is submitted', async () => {
    const bad = sandbox();
    // Same server and client config, another project.
    bad.env = { ...sb.env };
    writeProject(bad, 'python3 job.py', { 'job.py': 'print(1)\n' });
    const yaml = readFileSync(join(bad.project, 'fetchml.yaml'), 'utf8');
    writeFileSync(join(bad.project, 'fetchml.yaml'), yaml.replace('memory: 256m', 'memory: lots'));
    const before = await mlJson<StatusView>(sb, ['status', '--all']);
    const r = await ml(bad, ['queue']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('resources.memory');
    expect(r.stdout).not.toMatch(TASK_ID);
    const after = await mlJson<StatusView>(sb, ['status', '--all']);
    expect(after.tasks.length).toBe(before.tasks.length);
  });

  it('a job that exits non-zero: failed with its exit code, and a complete manifest', async () => {
    const queued = await ml(sb, ['queue']);
    expect(queued.code, queued.stderr).toBe(0);
    const taskId = TASK_ID.exec(queued.stdout)![0];

    const follow = await ml(sb, ['logs', '-f', taskId], { timeoutMs: 30_000 });
    expect(follow.code).toBe(3);
    expect(follow.stdout).toContain('tick 2');

    const task = await taskStatus(sb, taskId);
    expect(task).toMatchObject({ status: 'failed', exit_code: 3, attempt: 1 });

    const info = await mlJson<{
      status: string;
      lifecycle: Record<string, unknown>;
      artifacts: { path: string }[];
    }>(sb, ['info', taskId]);
    expect(info.status).toBe('failed');
    expect(typeof info.lifecycle['started_at']).toBe('string');
    expect(typeof info.lifecycle['ended_at']).toBe('string');
    expect(info.lifecycle['exit_code']).toBe(3);
    // It still wrote its output before failing; that is kept.
    expect(info.artifacts.map((a) => a.path)).toContain('result.txt');
    expect(JSON.parse(readFileSync(taskPaths(sb, taskId).manifest, 'utf8'))).toEqual(info);

    // Following again after the end gives the same answer.
    expect((await ml(sb, ['logs', '-f', taskId])).code).toBe(3);
  }, 40_000);

  it('the server unreachable, then its certificate changed: clear messages, non-zero', async () => {
    expect((await up.stop('SIGINT')).code).toBe(0);

    const down = await ml(sb, ['status']);
    expect(down.code).not.toBe(0);
    expect(down.stderr).toContain(url);
    expect(down.stderr).toContain('fetchml up');
    const downJson = await ml(sb, ['status', '--json']);
    expect(downJson.code).not.toBe(0);
    expect(downJson.stdout + downJson.stderr).toContain('ML_ERR_SERVER_UNREACHABLE');

    // Another base dir means another self-signed certificate, on the same URL.
    const other = await startFetchml(sb, 'server', ['--port', String(port)], {
      FETCHML_HOME: join(sb.root, 'other-home'),
    });
    expect(other.banner.url).toBe(url);
    const changed = await ml(sb, ['status']);
    expect(changed.code).not.toBe(0);
    expect(changed.stderr).toMatch(/certificate/i);
    expect(changed.stderr).toContain(other.banner.fingerprint!);
    expect(changed.stderr).toContain('ml login --force');
    const changedJson = await ml(sb, ['whoami', '--json']);
    expect(changedJson.code).not.toBe(0);
    expect(changedJson.stdout + changedJson.stderr).toContain('ML_ERR_CERT_CHANGED');
    expect(existsSync(join(sb.root, 'other-home', 'fetchml.db'))).toBe(true);
    expect((await other.proc.stop('SIGINT')).code).toBe(0);
  }, 40_000);
});
