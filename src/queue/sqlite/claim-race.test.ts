/**
 * @module queue/sqlite/claim-race.test
 * SQLite-only: several OS processes claim from one queue file at the same moment, and no job may
 * be handed out twice or lost. In one process better-sqlite3 is synchronous, so only separate
 * processes really contend for the write lock (what `BEGIN IMMEDIATE` + `busy_timeout` handle).
 *
 * The children cannot load TypeScript (Node 20 has no type stripping), so the test compiles the
 * queue module and its imports into a temp dir first (test/support/ts-child.ts).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { compileForChild } from '../../../test/support/ts-child.ts';
import { openSqliteQueue } from './queue.ts';

const CHILD = `
const { openSqliteQueue } = await import(process.env.QUEUE_MODULE);
const { existsSync, writeFileSync } = await import('node:fs');
const queue = await openSqliteQueue({ path: process.env.DB_PATH, busyTimeoutMs: 20000 });
// Ready, then wait for the common go: every process starts claiming at the same moment however
// slowly it started (a loaded machine can take seconds to start a process).
writeFileSync(process.env.READY_FILE, '');
while (!existsSync(process.env.GO_FILE)) await new Promise((r) => setTimeout(r, 2));
const got = [];
for (;;) {
  const claim = await queue.claim({
    worker_id: process.env.WORKER_ID,
    free: { cpus: 64, memory_mb: 65536, gpus: 8, labels: [] },
    lease_ms: 600000,
  });
  if (claim === null) break;
  got.push(claim.task_id);
  // Let go of the CPU between claims, as a worker does: without it one process can take every
  // job while the others sleep in SQLite's busy handler, and the race would not be exercised.
  await new Promise((r) => setTimeout(r, 0));
}
await queue.close();
process.stdout.write(JSON.stringify(got));
`;

function runChild(env: Record<string, string>): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`child exited ${code}: ${err}`));
      else resolve(JSON.parse(out) as string[]);
    });
  });
}

describe('sqlite queue: claims from several processes', () => {
  let dir: string;
  let modulePath: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fetchml-claim-race-'));
    [modulePath] = (await compileForChild(dir, ['src/queue/sqlite/queue.ts'])) as [string];
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('never hands one job to two processes, and loses none', async () => {
    const dbPath = join(dir, 'queue.db');
    const queue = await openSqliteQueue({ path: dbPath });
    const total = 600;
    for (let i = 0; i < total; i++) {
      await queue.enqueue({
        task_id: `t${i}`,
        priority: i % 4,
        resources: { cpus: 1, memory_mb: 1, gpus: 0 },
        labels: [],
        max_attempts: 1,
      });
    }
    const ids = ['p1', 'p2', 'p3'];
    const goFile = join(dir, 'go');
    const running = Promise.all(
      ids.map((id) =>
        runChild({
          QUEUE_MODULE: modulePath,
          DB_PATH: dbPath,
          READY_FILE: join(dir, `ready-${id}`),
          GO_FILE: goFile,
          WORKER_ID: id,
        }),
      ),
    );
    const until = Date.now() + 60_000;
    while (!ids.every((id) => existsSync(join(dir, `ready-${id}`))) && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 5));
    }
    await writeFile(goFile, '');
    const results = await running;
    const all = results.flat();
    expect(new Set(all).size).toBe(all.length);
    expect(all.length).toBe(total);
    // With a common go the processes really overlap: more than one wins jobs.
    expect(results.filter((r) => r.length > 0).length).toBeGreaterThan(1);
    const counts = await queue.counts();
    expect(counts).toMatchObject({ queued: 0, leased: total });
    await queue.close();
  });
});
