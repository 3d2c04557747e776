/**
 * The quickstart path a new user types: `fetchml up`, `ml init`, `ml queue --follow` on the
 * example experiment, then `ml info` and `ml logs`.
 */
import { cpSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  cleanup,
  ensureBuilt,
  freePort,
  ml,
  mlJson,
  REPO,
  sandbox,
  startFetchml,
  TASK_ID,
} from './helpers.ts';

beforeAll(ensureBuilt, 180_000);
afterAll(cleanup, 30_000);

describe('quickstart', () => {
  it('runs examples/logreg to completion with its model as an artifact', async () => {
    const sb = sandbox();
    cpSync(join(REPO, 'examples', 'logreg'), sb.project, { recursive: true });
    const port = await freePort();
    const up = await startFetchml(sb, 'up', ['--port', String(port)]);
    expect(up.banner.url).toBe(`https://127.0.0.1:${port}`);
    expect(up.banner.admin_key).toEqual(expect.any(String));

    const init = await ml(sb, ['init', '--server', up.banner.url!]);
    expect(init.code, init.stderr).toBe(0);

    const queued = await ml(sb, ['queue', '--follow', '--', '--epochs', '4', '--sleep', '0']);
    expect(queued.code, queued.stderr).toBe(0);
    const taskId = TASK_ID.exec(queued.stdout)?.[0];
    expect(taskId).toBeDefined();
    expect(queued.stdout).toContain('done: accuracy');

    const info = await mlJson<{
      status: string;
      lifecycle: { exit_code: number | null };
      artifacts: { path: string }[];
      metrics: Record<string, number>;
      trust_level: string;
    }>(sb, ['info', taskId!]);
    expect(info.status).toBe('completed');
    expect(info.lifecycle.exit_code).toBe(0);
    expect(info.artifacts.map((a) => a.path)).toContain('model.json');
    // The example logs its metrics with fetchml_metrics.py; its requirements.txt passes the
    // strict preflight, and without an image the run is `pinned`.
    expect(Object.keys(info.metrics)).toEqual(['accuracy', 'loss']);
    expect(info.artifacts.map((a) => a.path)).toContain('metrics.jsonl');
    expect(info.trust_level).toBe('pinned');

    const logs = await ml(sb, ['logs', taskId!]);
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toContain('done: accuracy');

    const { code } = await up.proc.stop('SIGINT');
    expect(code).toBe(0);
  }, 60_000);
});
