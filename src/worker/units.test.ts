import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { openFsBlobStore } from '../blobs/fs/index.ts';
import { sha256Hex } from '../core/hash.ts';
import { createMemoryEventBus } from '../events/memory/index.ts';
import type { TaskEvent } from '../events/types.ts';
import type { RunResult } from '../runtime/types.ts';
import { collectArtifacts } from './artifacts.ts';
import { openLogWriter } from './log-writer.ts';
import { redactEnvironment, sanitizePaths } from './redact.ts';
import { Slots } from './slots.ts';
import { judge } from './verdict.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fetchml-worker-unit-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('redactEnvironment', () => {
  it('redacts secret-looking keys and replaces host paths at path boundaries', () => {
    const env = {
      HF_TOKEN: 'x',
      db_password: 'y',
      AWS_SECRET_ACCESS_KEY: 'z',
      GCP_CREDENTIALS: 'c',
      OUT: '/srv/ml/cache/work/t1/src:/srv/ml/data',
      NEAR: '/srv/mlx',
      PLAIN: 'hello',
    };
    const out = redactEnvironment(env, [
      { path: '/srv/ml/', placeholder: '$FETCHML_HOME' },
      { path: '/srv/ml/cache/work', placeholder: '$FETCHML_WORK' },
    ]);
    expect(out).toEqual({
      AWS_SECRET_ACCESS_KEY: '[redacted]',
      GCP_CREDENTIALS: '[redacted]',
      HF_TOKEN: '[redacted]',
      NEAR: '/srv/mlx',
      OUT: '$FETCHML_WORK/t1/src:$FETCHML_HOME/data',
      PLAIN: 'hello',
      db_password: '[redacted]',
    });
    expect(sanitizePaths('/', [{ path: '/', placeholder: '$X' }])).toBe('/');
  });
});

describe('log writer', () => {
  it('serializes appends, keeps split UTF-8 characters whole and reports file offsets', async () => {
    const path = join(dir, 'logs', 'output.log');
    await mkdir(join(dir, 'logs'));
    await writeFile(path, 'previous attempt\n');
    const bus = createMemoryEventBus();
    const seen: Extract<TaskEvent, { type: 'task.log' }>[] = [];
    bus.subscribe('t', (e) => {
      if (e.type === 'task.log') seen.push(e);
    });
    const log = await openLogWriter({
      path,
      taskId: 't',
      events: bus,
      clock: Date.now,
      onError: (err) => {
        throw err;
      },
    });
    const e = Buffer.from('é€', 'utf8'); // c3 a9 e2 82 ac
    log.systemRaw('--- attempt 2 ---');
    log.output('stdout', Buffer.concat([Buffer.from('a'), e.subarray(0, 1)]));
    log.output('stderr', Buffer.from('err\n'));
    log.output('stdout', e.subarray(1, 3));
    log.output('stdout', Buffer.concat([e.subarray(3), Buffer.from('\n')]));
    log.system('done');
    await log.close();
    const file = await readFile(path);
    expect(file.toString('utf8')).toBe(
      'previous attempt\n--- attempt 2 ---\naerr\né€\n[fetchml] done\n',
    );
    expect(seen[0]?.offset).toBe(17);
    for (const ev of seen) {
      const bytes = Buffer.from(ev.text, 'utf8');
      expect(file.subarray(ev.offset, ev.offset + bytes.length).equals(bytes)).toBe(true);
    }
    // Chunks queued while a write is in flight are merged per stream.
    expect(seen.map((s) => s.text)).toEqual([
      '--- attempt 2 ---\n',
      'a',
      'err\n',
      'é€\n',
      '[fetchml] done\n',
    ]);
  });
});

describe('artifacts', () => {
  it('stores regular files sorted by path and skips symlinks', async () => {
    const out = join(dir, 'output');
    await mkdir(join(out, 'b'), { recursive: true });
    await writeFile(join(out, 'z.txt'), 'z');
    await writeFile(join(out, 'b', 'a.txt'), 'a');
    await writeFile(join(out, 'A.bin'), 'A');
    await symlink('/etc/passwd', join(out, 'secret'));
    const blobs = await openFsBlobStore({ root: join(dir, 'objects') });
    await blobs.init();
    const got = await collectArtifacts(out, blobs);
    expect(got.artifacts).toEqual([
      { path: 'A.bin', size: 1, sha256: sha256Hex('A') },
      { path: 'b/a.txt', size: 1, sha256: sha256Hex('a') },
      { path: 'z.txt', size: 1, sha256: sha256Hex('z') },
    ]);
    expect(got.warnings).toEqual(['output/secret: symlink skipped (artifacts never follow links)']);
    expect(await blobs.has(sha256Hex('z'))).toBe(true);
    expect(await collectArtifacts(join(dir, 'absent'), blobs)).toEqual({
      artifacts: [],
      warnings: [],
      bytes: 0,
    });

    await blobs.close();
  });
});

describe('slots', () => {
  it('offers total minus held and hands out the first free GPU indices', () => {
    const slots = new Slots({ cpus: 4, memory_mb: 8000, gpus: 2 }, [3, 5]);
    expect(slots.free()).toEqual({ cpus: 4, memory_mb: 8000, gpus: 2 });
    expect(slots.reserve('a', { cpus: 1.5, memory_mb: 1000, gpus: 1 })).toEqual([3]);
    expect(slots.reserve('b', { cpus: 0.1, memory_mb: 1000, gpus: 1 })).toEqual([5]);
    expect(slots.free()).toEqual({ cpus: 2.4, memory_mb: 6000, gpus: 0 });
    slots.release('a');
    expect(slots.free()).toEqual({ cpus: 3.9, memory_mb: 7000, gpus: 1 });
    expect(slots.reserve('c', { cpus: 1, memory_mb: 1, gpus: 1 })).toEqual([3]);
  });
});

describe('verdict', () => {
  const base: RunResult = {
    exitCode: 0,
    signal: null,
    reason: 'exited',
    durationMs: 3200,
    limits: { memory: 'none', cpu: 'none', pids: 'none' },
    warnings: [],
  };
  it('maps every end reason to a status, exit code and error', () => {
    expect(judge(base, null)).toMatchObject({ status: 'completed', exitCode: 0, error: null });
    expect(judge(base, null).line).toBe('exit code 0 after 3.2 s');
    expect(judge({ ...base, exitCode: 2 }, null)).toMatchObject({
      status: 'failed',
      exitCode: 2,
      error: { code: 'ML_ERR_TASK_EXIT', message: 'exited with code 2' },
    });
    expect(judge({ ...base, exitCode: null, signal: 'SIGKILL' }, null).exitCode).toBe(137);
    expect(
      judge({ ...base, reason: 'timeout', exitCode: null, signal: 'SIGTERM' }, 5),
    ).toMatchObject({ status: 'failed', exitCode: 143, error: { code: 'ML_ERR_TASK_TIMEOUT' } });
    expect(judge({ ...base, reason: 'cancelled', exitCode: 143 }, null).status).toBe('cancelled');
    expect(judge({ ...base, reason: 'oom', exitCode: 137 }, null).error?.code).toBe(
      'ML_ERR_TASK_OOM',
    );
    expect(judge({ ...base, reason: 'spawn_failed', exitCode: null }, null)).toMatchObject({
      status: 'failed',
      exitCode: 127,
      error: { code: 'ML_ERR_TASK_SPAWN_FAILED' },
    });
  });
});
