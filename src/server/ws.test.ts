import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';

import { taskFiles } from '../core/layout.ts';
import type { WsServerMessage } from '../core/schemas/api.ts';
import type { Task } from '../core/schemas/task.ts';
import { sampleProject, sampleSpec, startTestServer } from './test-helpers.ts';
import type { TestServer } from './test-helpers.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
  const project = sampleProject();
  await t.deps.blobs.put(project.data, project.sha);
  await t.deps.store.putCommit(project.commitId, project.manifest);
});
afterAll(() => t.cleanup());

async function newTask(): Promise<Task> {
  const res = await t.server.app.inject({
    method: 'POST',
    url: '/v1/tasks',
    headers: t.auth,
    payload: { commit_id: sampleProject().commitId, spec: sampleSpec },
  });
  return res.json<Task>();
}

/** Opens `/v1/ws` in-process, recording every message from the first one. */
async function connect(headers: Record<string, string>) {
  const messages: WsServerMessage[] = [];
  const ws: WebSocket = await t.server.app.injectWS(
    '/v1/ws',
    { headers },
    {
      onInit: (socket: WebSocket) =>
        socket.on('message', (data: Buffer) =>
          messages.push(JSON.parse(data.toString('utf8')) as WsServerMessage),
        ),
    },
  );
  const waitFor = async (pred: (m: WsServerMessage) => boolean): Promise<WsServerMessage> => {
    for (let i = 0; i < 200; i++) {
      const found = messages.find(pred);
      if (found) return found;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`timed out; got ${JSON.stringify(messages)}`);
  };
  return { ws, messages, waitFor };
}

const logText = (messages: WsServerMessage[]) =>
  messages.flatMap((m) => (m.type === 'task.log' ? [m.text] : [])).join('');

describe('/v1/ws', () => {
  it('sends backlog then live lines without gap or duplicate, and the final status last', async () => {
    const task = await newTask();
    const log = taskFiles(t.home).logPath(task.id);
    await mkdir(dirname(log), { recursive: true });
    await writeFile(log, 'line1\nline2\n');
    const { ws, messages, waitFor } = await connect(t.auth);
    await waitFor((m) => m.type === 'ready');
    ws.send(JSON.stringify({ op: 'subscribe', task_id: task.id, log_offset: 0 }));
    await waitFor((m) => m.type === 'task.log' && m.replay === true);
    expect(messages.find((m) => m.type === 'subscribed')).toMatchObject({ status: 'queued' });

    const at = new Date().toISOString();
    const event = (offset: number, text: string) =>
      t.deps.events.publish({
        type: 'task.log',
        task_id: task.id,
        stream: 'stdout',
        offset,
        text,
        at,
      });
    await appendFile(log, 'line3\n');
    await event(0, 'line1\n'); // already sent from the file: dropped
    await event(6, 'line2\nline3\n'); // overlaps: only line3 goes out
    await waitFor((m) => m.type === 'task.log' && m.text.includes('line3'));
    await appendFile(log, 'lost\ntail\n'); // written, but its events never arrive
    const done = await t.deps.store.finishTask(task.id, {
      status: 'completed',
      exit_code: 0,
      error: null,
      ended_at: at,
    });
    await t.deps.events.publish({
      type: 'task.status',
      task_id: task.id,
      status: done.status,
      attempt: 1,
      exit_code: 0,
      at,
    });
    await waitFor((m) => m.type === 'task.status' && m.status === 'completed');
    expect(logText(messages)).toBe('line1\nline2\nline3\nlost\ntail\n');
    expect(messages.at(-1)).toMatchObject({
      type: 'task.status',
      status: 'completed',
      exit_code: 0,
    });
    ws.terminate();
  });

  it('replays a finished task from an offset and ends with its status', async () => {
    const task = await newTask();
    const log = taskFiles(t.home).logPath(task.id);
    await mkdir(dirname(log), { recursive: true });
    await writeFile(log, 'abc\ndef\n');
    await t.deps.store.finishTask(task.id, {
      status: 'failed',
      exit_code: 3,
      error: { code: 'ML_ERR_TASK_FAILED', message: 'exit 3' },
      ended_at: new Date().toISOString(),
    });
    const { ws, messages, waitFor } = await connect(t.auth);
    await waitFor((m) => m.type === 'ready');
    ws.send(JSON.stringify({ op: 'subscribe', task_id: task.id, log_offset: 4 }));
    await waitFor((m) => m.type === 'task.status');
    expect(logText(messages)).toBe('def\n');
    expect(messages.at(-1)).toMatchObject({ type: 'task.status', status: 'failed', exit_code: 3 });
    ws.terminate();
  });

  it('authenticates with a first auth message when no header was sent', async () => {
    const { ws, waitFor } = await connect({});
    ws.send(JSON.stringify({ op: 'auth', api_key: t.key }));
    expect(await waitFor((m) => m.type === 'ready')).toMatchObject({
      user: 'admin',
      role: 'admin',
    });
    ws.send(JSON.stringify({ op: 'subscribe', task_id: 'task_nope' }));
    expect(await waitFor((m) => m.type === 'error')).toMatchObject({
      code: 'ML_ERR_TASK_NOT_FOUND',
    });
    ws.send('not json');
    await waitFor((m) => m.type === 'error' && m.code === 'ML_ERR_VALIDATION');
    ws.terminate();
  });

  it('closes with 4401 on a bad auth message and refuses a bad header before upgrading', async () => {
    const ws = await t.server.app.injectWS('/v1/ws', {});
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    ws.send(JSON.stringify({ op: 'auth', api_key: 'fml_wrong' }));
    expect(await closed).toBe(4401);
    await expect(
      t.server.app.injectWS('/v1/ws', { headers: { authorization: 'Bearer fml_wrong' } }),
    ).rejects.toThrow(/401/);
  });

  it('follows a worker in another process: log and final status arrive with no events at all', async () => {
    const task = await newTask();
    const log = taskFiles(t.home).logPath(task.id);
    await mkdir(dirname(log), { recursive: true });
    const { ws, messages, waitFor } = await connect(t.auth);
    await waitFor((m) => m.type === 'ready');
    ws.send(JSON.stringify({ op: 'subscribe', task_id: task.id, log_offset: 0 }));
    await waitFor((m) => m.type === 'subscribed');
    // What a worker process does: write the file and the store, publish on its own bus (not ours).
    const now = new Date().toISOString();
    await t.deps.queue.claim({
      worker_id: 'w-elsewhere',
      free: { cpus: 64, memory_mb: 1 << 20, gpus: 8, labels: [] },
      lease_ms: 60_000,
    });
    await t.deps.store.markTaskRunning(task.id, {
      worker_id: 'w-elsewhere',
      attempt: 1,
      started_at: now,
    });
    await waitFor((m) => m.type === 'task.status' && m.status === 'running');
    await appendFile(log, 'epoch 1\n');
    await waitFor(() => logText(messages) === 'epoch 1\n');
    await appendFile(log, 'done\n');
    await t.deps.store.finishTask(task.id, {
      status: 'completed',
      exit_code: 0,
      error: null,
      ended_at: now,
    });
    await waitFor((m) => m.type === 'task.status' && m.status === 'completed');
    expect(logText(messages)).toBe('epoch 1\ndone\n');
    expect(messages.at(-1)).toMatchObject({
      type: 'task.status',
      status: 'completed',
      exit_code: 0,
    });
    ws.terminate();
  });

  it('advances by file bytes, not decoded text, after a job printed invalid UTF-8', async () => {
    const task = await newTask();
    const log = taskFiles(t.home).logPath(task.id);
    await mkdir(dirname(log), { recursive: true });
    const bad = Buffer.from([0xff, 0xfe, 0x78, 0x0a]); // two invalid bytes, then "x\n"
    await writeFile(log, 'ok\n');
    const { ws, messages, waitFor } = await connect(t.auth);
    await waitFor((m) => m.type === 'ready');
    ws.send(JSON.stringify({ op: 'subscribe', task_id: task.id, log_offset: 0 }));
    await waitFor(() => logText(messages) === 'ok\n');
    const at = new Date().toISOString();
    await appendFile(log, bad);
    await t.deps.events.publish({
      type: 'task.log',
      task_id: task.id,
      stream: 'stdout',
      offset: 3,
      text: bad.toString('utf8'),
      bytes: bad.length,
      at,
    });
    await appendFile(log, 'euro split\n');
    await t.deps.events.publish({
      type: 'task.log',
      task_id: task.id,
      stream: 'stdout',
      offset: 3 + bad.length,
      text: 'euro split\n',
      bytes: 11,
      at,
    });
    const expected = `ok\n${bad.toString('utf8')}euro split\n`;
    await waitFor(() => logText(messages) === expected);
    expect(logText(messages)).toBe(expected);
    ws.terminate();
  });
});
