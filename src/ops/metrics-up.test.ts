/**
 * @module ops/metrics-up.test
 * `fetchml up`'s composition (startServices with server and worker in one process, process
 * runtime): a task run end to end fills the task histograms on `/metrics` — queue wait and run
 * duration from the event bus, enqueue-to-start from the worker's `task:phase` event — and the
 * worker's record shows it idle again afterwards.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { loadConfig } from '../config/load.ts';
import type { Task } from '../core/schemas/task.ts';
import { sampleProject, sampleSpec } from '../server/test-helpers.ts';
import { waitFor } from '../worker/test-helpers.ts';
import { startServices } from './services.ts';
import type { RunningServices } from './services.ts';

let home: string;
let services: RunningServices | null = null;
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'fetchml-metrics-up-'));
});
afterEach(async () => {
  await services?.stop({ force: true });
  services = null;
  await rm(home, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** The sum of the samples of `name` whose labels include `labels`. */
function sample(text: string, name: string, labels = ''): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (labels && !line.includes(labels)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

describe('fetchml up metrics', () => {
  it('a task run fills queue wait, enqueue-to-start and run duration', async () => {
    const { config } = loadConfig({
      env: {
        FETCHML_HOME: home,
        FETCHML_SERVER_PORT: String(await freePort()),
        FETCHML_WORKER_RUNTIME: 'process',
        FETCHML_WORKER_GPUS: 'none',
      },
      cwd: home,
    });
    services = await startServices(config, {
      server: true,
      worker: true,
      version: '0.1.0',
      log: () => undefined,
    });
    const server = services.server!;
    const auth = { authorization: `Bearer ${server.adminKey!}` };
    const project = sampleProject();
    await services.backends.blobs.put(project.data, project.sha);
    await services.backends.store.putCommit(project.commitId, project.manifest);
    const res = await server.app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: auth,
      payload: { commit_id: project.commitId, spec: sampleSpec },
    });
    expect(res.statusCode, res.body).toBe(201);
    const task = res.json<Task>();
    await waitFor(
      async () => (await services!.backends.store.getTask(task.id))?.status,
      (s) => s === 'completed',
      60_000,
    );

    const scrape = async () =>
      (await server.app.inject({ method: 'GET', url: '/metrics', headers: auth })).body;
    await expect
      .poll(async () => sample(await scrape(), 'fetchml_task_run_duration_seconds_count'), {
        timeout: 10_000,
      })
      .toBe(1);
    const text = await scrape();
    expect(sample(text, 'fetchml_task_queue_wait_seconds_count')).toBe(1);
    expect(sample(text, 'fetchml_task_enqueue_to_start_seconds_count')).toBe(1);
    expect(sample(text, 'fetchml_task_run_duration_seconds_count', 'outcome="completed"')).toBe(1);
    expect(sample(text, 'fetchml_tasks', 'state="completed"')).toBe(1);
    expect(sample(text, 'fetchml_worker_live')).toBe(1);

    const [worker] = await services.backends.store.listWorkers();
    expect(worker).toMatchObject({ status: 'online', phase: 'idle', tasks: [] });
  });
});
