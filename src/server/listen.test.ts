/**
 * The real thing: the HTTPS listener on port 0, spoken to by the typed client over TLS (with
 * certificate pinning) and WebSocket.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer as createNetServer } from 'node:net';
import { dirname } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createClient } from '../client/index.ts';
import type { FetchmlClient } from '../client/index.ts';
import { isFetchmlError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import { taskFiles } from '../core/layout.ts';
import type { WsServerMessage } from '../core/schemas/api.ts';
import { sampleProject, sampleSpec, startTestServer } from './test-helpers.ts';
import type { TestServer } from './test-helpers.ts';

let t: TestServer;
let url: string;
let client: FetchmlClient;
let firstSeen: string | null = null;

beforeAll(async () => {
  t = await startTestServer();
  ({ url } = await t.server.listen());
  client = createClient({ url, apiKey: t.key, onFirstFingerprint: (fp) => (firstSeen = fp) });
});
afterAll(async () => {
  await client.close();
  await t.cleanup();
});

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (isFetchmlError(err)) return err.code;
    throw err;
  }
  throw new Error('expected a FetchmlError');
}

describe('HTTPS listener + client', () => {
  it('trusts on first use and reports the fingerprint', async () => {
    expect(await client.health()).toEqual({ ok: true, version: '0.1.0' });
    expect(firstSeen).toBe(t.server.fingerprint);
    expect(client.fingerprint).toBe(t.server.fingerprint);
    expect(await client.whoami()).toEqual({ user: 'admin', role: 'admin', version: '0.1.0' });
  });

  it('syncs, submits and follows a task over the WebSocket until it ends', async () => {
    const project = sampleProject();
    expect(await client.missingBlobs([project.sha])).toEqual([project.sha]);
    const progress: number[] = [];
    await client.uploadBlobs(
      [{ sha256: project.sha, size: project.data.length, data: project.data }],
      (p) => progress.push(p.blobs),
    );
    expect(progress).toEqual([1]);
    expect(await client.createCommit(project.manifest)).toEqual({
      commit_id: project.commitId,
      missing: [],
    });
    const task = await client.createTask({ commit_id: project.commitId, spec: sampleSpec });
    expect(await client.getTask(task.id)).toEqual(task);
    expect((await client.listTasks({ status: 'queued' })).tasks.map((x) => x.id)).toContain(
      task.id,
    );
    expect((await client.status()).counts.queued).toBeGreaterThanOrEqual(1);

    const log = taskFiles(t.home).logPath(task.id);
    await mkdir(dirname(log), { recursive: true });
    await writeFile(log, 'epoch 1\n');
    const got: WsServerMessage[] = [];
    const sub = client.subscribe(task.id, { logOffset: 0 }, (m) => got.push(m));
    while (!got.some((m) => m.type === 'task.log')) await new Promise((r) => setTimeout(r, 10));
    const at = new Date().toISOString();
    await writeFile(log, 'epoch 1\nepoch 2\n');
    await t.deps.events.publish({
      type: 'task.log',
      task_id: task.id,
      stream: 'stdout',
      offset: 8,
      text: 'epoch 2\n',
      at,
    });
    await t.deps.store.finishTask(task.id, {
      status: 'completed',
      exit_code: 0,
      error: null,
      ended_at: at,
    });
    await t.deps.events.publish({
      type: 'task.status',
      task_id: task.id,
      status: 'completed',
      attempt: 1,
      exit_code: 0,
      at,
    });
    const end = await sub.done;
    expect(end).toMatchObject({ status: 'completed', exit_code: 0 });
    expect(got.flatMap((m) => (m.type === 'task.log' ? [m.text] : [])).join('')).toBe(
      'epoch 1\nepoch 2\n',
    );
    expect(sub.logOffset).toBe(16);
    expect(await client.readLogs(task.id, { offset: 8 })).toMatchObject({
      text: 'epoch 2\n',
      finished: true,
    });
  });

  it('maps server errors to their codes', async () => {
    expect(await codeOf(client.getTask(newId('task')))).toBe('ML_ERR_TASK_NOT_FOUND');
    const bad = createClient({ url, apiKey: 'fml_nope' });
    expect(await codeOf(bad.status())).toBe('ML_ERR_UNAUTHORIZED');
    expect(await codeOf(bad.subscribe('*', {}, () => {}).done)).toBe('ML_ERR_UNAUTHORIZED');
    await bad.close();
  });

  it('refuses a changed certificate before sending anything', async () => {
    const pinned = Array.from({ length: 32 }, () => 'AB').join(':');
    const wrong = createClient({ url, apiKey: t.key, fingerprint: pinned });
    const err = await wrong.health().catch((e: unknown) => e);
    expect(isFetchmlError(err, 'ML_ERR_CERT_CHANGED')).toBe(true);
    expect((err as Error).message).toContain(pinned);
    expect((err as Error).message).toContain(t.server.fingerprint);
    expect(await codeOf(wrong.subscribe('*', {}, () => {}).done)).toBe('ML_ERR_CERT_CHANGED');
    await wrong.close();
  });

  it('names the URL and `fetchml up` when the server is unreachable', async () => {
    const probe = createNetServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as { port: number };
    await new Promise((resolve) => probe.close(resolve));
    const gone = createClient({ url: `https://127.0.0.1:${port}`, apiKey: t.key });
    const err = await gone.health().catch((e: unknown) => e);
    expect(isFetchmlError(err, 'ML_ERR_SERVER_UNREACHABLE')).toBe(true);
    expect((err as Error).message).toContain(`https://127.0.0.1:${port}`);
    expect((err as Error).message).toContain('fetchml up');
    await gone.close();
  });
});
