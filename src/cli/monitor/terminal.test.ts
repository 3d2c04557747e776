/**
 * `ml monitor` in a real terminal: the built `bin/ml.js` runs inside tmux (a pseudo-terminal of a
 * known size) against a real server; the test types with `send-keys` and reads the screen with
 * `capture-pane` — navigates, opens details and a log, resizes the window, and quits, after which
 * the shell's screen is back and the exit code is 0. Skipped only where tmux is not installed
 * (CI installs it: .ci/install-system-deps).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ensureBuilt } from '../../../test/support/dist.ts';
import { taskFiles } from '../../core/layout.ts';
import type { Task } from '../../core/schemas/task.ts';
import { sampleProject, sampleSpec, startTestServer } from '../../server/test-helpers.ts';
import type { TestServer } from '../../server/test-helpers.ts';
import { main } from '../main.ts';
import { testIo } from '../shared/test-io.ts';

const hasTmux = spawnSync('sh', ['-c', 'command -v tmux']).status === 0;
const root = fileURLToPath(new URL('../../../', import.meta.url));
const socket = `fetchml-test-${process.pid}`;

const tmux = (...args: string[]) =>
  execFileSync('tmux', ['-L', socket, '-f', '/dev/null', ...args], { encoding: 'utf8' });
const screen = () => tmux('capture-pane', '-p', '-t', 'mon');
const keys = (...k: string[]) => tmux('send-keys', '-t', 'mon', ...k);
const sq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Waits until the screen satisfies `ok`. */
async function screenWhere(ok: (s: string) => boolean, what: string): Promise<string> {
  const until = Date.now() + 45_000;
  for (;;) {
    const s = screen();
    if (ok(s)) return s;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}; screen:\n${s}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
const shows = (text: string) => (s: string) => s.includes(text);

let t: TestServer;
let dir: string;
const tasks: Task[] = [];

const title = `ml monitor in tmux${hasTmux ? '' : ' (skipped: tmux is not installed)'}`;

describe.skipIf(!hasTmux)(title, () => {
  beforeAll(async () => {
    ensureBuilt();
    t = await startTestServer({ wsFollowPollMs: 100 });
    const { url } = await t.server.listen();
    const project = sampleProject();
    await t.deps.blobs.put(project.data, project.sha);
    await t.deps.store.putCommit(project.commitId, project.manifest);
    for (const name of ['first', 'second', 'third']) {
      const res = await t.server.app.inject({
        method: 'POST',
        url: '/v1/tasks',
        headers: t.auth,
        payload: { commit_id: project.commitId, spec: { ...sampleSpec, name } },
      });
      tasks.push(res.json<Task>());
    }
    const log = taskFiles(t.home).logPath(tasks[2]!.id);
    await mkdir(dirname(log), { recursive: true });
    await writeFile(log, 'hello from the third task\nstep 2 of 2\n');

    dir = await mkdtemp(join(tmpdir(), 'fetchml-tmux-'));
    const env = {
      FETCHML_CLIENT_CONFIG: join(dir, 'client.json'),
      FETCHML_HOME: t.home,
      HOME: dir,
    };
    const io = testIo(env, dir);
    expect(await main(['login', '--server', url, '--yes'], io), io.err()).toBe(0);

    const command = [
      'env',
      `FETCHML_CLIENT_CONFIG=${sq(env.FETCHML_CLIENT_CONFIG)}`,
      `HOME=${sq(dir)}`,
      'TERM=xterm-256color',
      sq(process.execPath),
      sq(join(root, 'bin', 'ml.js')),
      'monitor',
      '--interval',
      '500',
      '; echo "ML-EXIT=$?"; sleep 600',
    ].join(' ');
    tmux('new-session', '-d', '-s', 'mon', '-x', '100', '-y', '24', command);
  }, 300_000);

  afterAll(async () => {
    spawnSync('tmux', ['-L', socket, 'kill-server']);
    await t?.cleanup();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('draws the list, moves, shows details and a log, resizes, and quits cleanly', async () => {
    const list = await screenWhere(shows('task 1 of 3'), 'the first frame');
    expect(list).toContain(' fetchml monitor ');
    expect(list).toMatch(/> \w{12} queued .* third/);
    expect(list).toContain('USER');

    // The first frame is painted before Ink is loaded; a key typed in that window can be lost
    // on a loaded machine (see start.ts), so move with j/k until the second task is selected.
    const order = ['third', 'second', 'first'];
    const selected = () => /> \w{12} queued .* (third|second|first)/.exec(screen())?.[1];
    for (const until = Date.now() + 45_000; selected() !== 'second';) {
      if (Date.now() > until) throw new Error(`j/k never selected the second task:\n${screen()}`);
      keys(order.indexOf(selected() ?? 'third') < 1 ? 'j' : 'k');
      await new Promise((r) => setTimeout(r, 1000));
    }
    keys('Enter');
    await screenWhere(shows(`id            ${tasks[1]!.id}`), 'the details of the second task');
    keys('q', 'k');
    await screenWhere((s) => /> \w{12} queued .* third/.test(s), 'q and k back to the third task');

    keys('l');
    const log = await screenWhere(shows('hello from the third task'), 'the log of the third task');
    expect(log).toContain(`logs of ${tasks[2]!.id}`);
    expect(log).toContain('step 2 of 2');
    keys('q');
    await screenWhere(shows('task 1 of 3'), 'the list again');

    tmux('resize-window', '-t', 'mon', '-x', '60', '-y', '16');
    const narrow = await screenWhere(
      (s) => !s.includes('USER') && s.includes('task 1 of 3'),
      'a narrower list',
    );
    for (const line of narrow.split('\n')) expect(line.length).toBeLessThanOrEqual(60);

    keys('?');
    await screenWhere(shows('move the selection'), 'help');
    keys('x');
    await screenWhere(shows('task 1 of 3'), 'the list after help');
    keys('q');
    const after = await screenWhere(shows('ML-EXIT='), 'the exit');
    expect(after).toContain('ML-EXIT=0');
    expect(after).not.toContain('fetchml monitor');
  }, 300_000);
});
