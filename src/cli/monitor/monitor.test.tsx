/**
 * `ml monitor` rendered with ink-testing-library against a real server (HTTPS + WebSocket on
 * SQLite, test-helpers): the list, details, a live log, help, the filter, cancel with its
 * confirmation, and priority changes — allowed and refused — checked on the screen and on the
 * server.
 */
import { mkdir, appendFile } from 'node:fs/promises';
import { dirname } from 'node:path';

import { render } from 'ink-testing-library';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { createClient } from '../../client/index.ts';
import { taskFiles } from '../../core/layout.ts';
import type { Task } from '../../core/schemas/task.ts';
import { generateApiKey, hashApiKey } from '../../server/auth/api-keys.ts';
import { sampleProject, sampleSpec, startTestServer } from '../../server/test-helpers.ts';
import type { TestServer } from '../../server/test-helpers.ts';
import { createLightClient } from '../shared/light-client.ts';
import { createMonitorApi } from './api.ts';
import { App } from './components/App.tsx';
import type { PreparedMonitor } from './start.ts';
import { prepareMonitor } from './start.ts';
import { themeOf } from './theme.ts';

let t: TestServer;
let url: string;
let fingerprint: string;
const project = sampleProject();
const tasks: Task[] = [];
let viewerKey: string;

async function submit(name: string, priority = 0): Promise<Task> {
  const res = await t.server.app.inject({
    method: 'POST',
    url: '/v1/tasks',
    headers: t.auth,
    payload: { commit_id: project.commitId, spec: { ...sampleSpec, name }, priority },
  });
  expect(res.statusCode).toBe(201);
  return res.json<Task>();
}

beforeAll(async () => {
  t = await startTestServer({ wsFollowPollMs: 50 });
  ({ url } = await t.server.listen());
  fingerprint = t.server.fingerprint;
  await t.deps.blobs.put(project.data, project.sha);
  await t.deps.store.putCommit(project.commitId, project.manifest);
  for (const [i, name] of ['alpha', 'bravo', 'charlie', 'delta'].entries()) {
    tasks.push(await submit(name, i));
  }
  viewerKey = generateApiKey();
  await t.server.keys.add(hashApiKey(viewerKey, { user: 'vic', role: 'viewer' }));
});
afterAll(() => t.cleanup());

interface Mounted {
  m: PreparedMonitor;
  ui: ReturnType<typeof render>;
  close(): Promise<void>;
}
let open: Mounted | null = null;
afterEach(async () => {
  await open?.close();
  open = null;
});

/** The monitor as `ml monitor` builds it, drawn by ink-testing-library (100 x 24). */
async function mount(key = t.key, filter = ''): Promise<Mounted> {
  const target = { url, apiKey: key, fingerprint };
  const api = createMonitorApi(createLightClient(target), () =>
    Promise.resolve(createClient({ url, apiKey: key, fingerprint })),
  );
  const m = await prepareMonitor(api, {
    server: url,
    size: { columns: 100, rows: 24 },
    intervalMs: 60_000,
    filter,
    now: Date.now,
  });
  const ui = render(<App store={m.store} theme={themeOf('none')} />);
  m.begin();
  const mounted = {
    m,
    ui,
    async close() {
      ui.unmount();
      await m.controller.stop();
      await api.close();
    },
  };
  open = mounted;
  return mounted;
}

/** Waits until the last frame satisfies `ok` (the server and Ink answer asynchronously). */
async function frameWhere(ui: Mounted['ui'], ok: (frame: string) => boolean): Promise<string> {
  const until = Date.now() + 15_000;
  for (;;) {
    const frame = ui.lastFrame() ?? '';
    if (ok(frame)) return frame;
    if (Date.now() > until) throw new Error(`timed out; last frame:\n${frame}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const has = (text: string) => (frame: string) => frame.includes(text);
const short = (task: Task) => task.id.slice(5, 17);
async function press(mounted: Mounted, ...keys: string[]): Promise<void> {
  for (const k of keys) {
    mounted.ui.stdin.write(k);
    await new Promise((r) => setTimeout(r, 15));
  }
}

describe('ml monitor on a real server', () => {
  it('lists tasks newest first with the counts and the position', async () => {
    const mon = await mount();
    const frame = await frameWhere(mon.ui, has('task 1 of 4'));
    expect(frame).toContain(' fetchml monitor ');
    expect(frame).toContain('4 queued');
    const rows = frame.split('\n').filter((l) => /alpha|bravo|charlie|delta/.test(l));
    expect(rows.map((l) => /(alpha|bravo|charlie|delta)/.exec(l)![1])).toEqual([
      'delta',
      'charlie',
      'bravo',
      'alpha',
    ]);
    expect(rows[0]).toMatch(new RegExp(`^> ${short(tasks[3]!)} queued +3 `));
  });

  it('j and enter show the details of the selected task; q goes back', async () => {
    const mon = await mount();
    await frameWhere(mon.ui, has('task 1 of 4'));
    await press(mon, 'j', '\r');
    const frame = await frameWhere(mon.ui, has(`id            ${tasks[2]!.id}`));
    expect(frame).toContain('status        queued');
    expect(frame).toContain('priority      2');
    expect(frame).toContain('command       python3 train.py');
    await press(mon, 'q');
    await frameWhere(mon.ui, has('task 2 of 4'));
  });

  it('? shows the keys; any key returns', async () => {
    const mon = await mount();
    await frameWhere(mon.ui, has('task 1 of 4'));
    await press(mon, '?');
    const help = await frameWhere(mon.ui, has('change its priority'));
    expect(help).toContain('log viewer');
    await press(mon, 'x');
    await frameWhere(mon.ui, has('task 1 of 4'));
  });

  it('/ filters by words and by status on the server', async () => {
    const mon = await mount();
    await frameWhere(mon.ui, has('task 1 of 4'));
    await press(mon, '/', 'b', 'r', 'a', 'v', '\r');
    const frame = await frameWhere(mon.ui, has('filter: brav'));
    expect(frame).toContain('bravo');
    expect(frame).not.toContain('alpha');
    await press(mon, '/', '\x15', ...'status:failed', '\r');
    await frameWhere(mon.ui, has('no task matches the filter'));
    await press(mon, '\x1b');
    await frameWhere(mon.ui, has('task 1 of 4'));
  });

  it('l follows the log live over the WebSocket, and shows when the task ends', async () => {
    const task = await submit('echo', 0);
    const log = taskFiles(t.home).logPath(task.id);
    await mkdir(dirname(log), { recursive: true });
    await appendFile(log, 'epoch 1 loss 0.9\n');
    const mon = await mount();
    await frameWhere(mon.ui, has('task 1 of 5'));
    await press(mon, 'l');
    await frameWhere(mon.ui, has('epoch 1 loss 0.9'));
    await appendFile(log, 'epoch 2 loss 0.5\n');
    const live = await frameWhere(mon.ui, has('epoch 2 loss 0.5'));
    expect(live).toContain(`logs of ${task.id}`);
    expect(live).toContain('following');
    await t.server.app.inject({
      method: 'POST',
      url: `/v1/tasks/${task.id}/cancel`,
      headers: t.auth,
      payload: {},
    });
    await frameWhere(mon.ui, has('task cancelled'));
    await press(mon, '/', ...'epoch 1', '\r');
    await frameWhere(mon.ui, has('search: epoch 1'));
    await press(mon, 'q');
    await frameWhere(mon.ui, has('task 1 of 5'));
  });

  it('c asks first: n keeps the task, y cancels it on the server', async () => {
    const task = await submit('victim', 0);
    const mon = await mount();
    await frameWhere(mon.ui, has(`> ${short(task)}`));
    await press(mon, 'c');
    await frameWhere(mon.ui, has(`cancel ${task.id} (victim)? y yes, any other key no`));
    await press(mon, 'n');
    await frameWhere(mon.ui, has('not cancelled'));
    expect((await t.deps.store.getTask(task.id))?.status).toBe('queued');
    await press(mon, 'c', 'y');
    await frameWhere(mon.ui, has(`${short(task)}: cancelled (removed from the queue)`));
    expect((await t.deps.store.getTask(task.id))?.status).toBe('cancelled');
    await frameWhere(mon.ui, (f) => new RegExp(`> ${short(task)} cancelled`).test(f));
  });

  it('p changes the priority of a queued task on the server', async () => {
    const task = await submit('bump', 0);
    const mon = await mount();
    await frameWhere(mon.ui, has(`> ${short(task)}`));
    await press(mon, 'p', '\x15', '4', '2', '\r');
    await frameWhere(mon.ui, has(`${short(task)}: priority 0 -> 42`));
    expect((await t.deps.queue.get(task.id))?.priority).toBe(42);
    await frameWhere(mon.ui, (f) => new RegExp(`> ${short(task)} queued +42 `).test(f));
  });

  it("a role without tasks:priority sees the server's refusal, and nothing changes", async () => {
    const task = await submit('guarded', 1);
    const mon = await mount(viewerKey);
    await frameWhere(mon.ui, has(`> ${short(task)}`));
    await press(mon, 'p', '\x15', '9', '\r');
    const frame = await frameWhere(mon.ui, has(`cannot change the priority of ${short(task)}`));
    expect(frame).toContain('role viewer lacks permission tasks:priority');
    expect((await t.deps.queue.get(task.id))?.priority).toBe(1);
  });
});
