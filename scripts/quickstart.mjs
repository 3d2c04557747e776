#!/usr/bin/env node
// The quickstart (`npm run quickstart`): in a temporary base dir, start `fetchml up`, run
// `ml init`, queue the example experiment and follow its log, print the run manifest summary and
// the artifact list, then shut down gracefully. Everything a new user would type, in order.
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const fetchmlBin = join(repo, 'bin', 'fetchml.js');
const mlBin = join(repo, 'bin', 'ml.js');

const root = mkdtempSync(join(tmpdir(), 'fetchml-quickstart-'));
const home = join(root, 'home');
const project = join(root, 'logreg');
cpSync(join(repo, 'examples', 'logreg'), project, { recursive: true });
const env = {
  ...process.env,
  FETCHML_HOME: home,
  FETCHML_CLIENT_CONFIG: join(root, 'client.json'),
};

const step = (text) => process.stdout.write(`\n\x1b[1m==> ${text}\x1b[0m\n`);

function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

/** Runs `ml ...args` in the project, echoing the command; resolves with its exit code. */
function ml(args, { capture = false } = {}) {
  process.stdout.write(`$ ml ${args.join(' ')}\n`);
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, [mlBin, ...args], {
      cwd: project,
      env,
      stdio: ['ignore', capture ? 'pipe' : 'inherit', 'inherit'],
    });
    let out = '';
    child.stdout?.on('data', (d) => {
      out += d;
      process.stdout.write(d);
    });
    child.once('error', fail);
    child.once('exit', (code) => ok({ code: code ?? 1, out }));
  });
}

async function main() {
  step(`fetchml up  (base dir ${home})`);
  const port = await freePort();
  const server = spawn(process.execPath, [fetchmlBin, 'up', '--port', String(port)], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((ok) => server.once('exit', (code, signal) => ok({ code, signal })));
  const ready = new Promise((ok, fail) => {
    const lines = createInterface({ input: server.stdout });
    lines.on('line', (line) => {
      process.stdout.write(`  | ${line}\n`);
      if (line.startsWith('base dir ')) ok();
    });
    void exited.then(({ code }) => fail(new Error(`fetchml up exited early (code ${code})`)));
  });
  let failed = false;
  try {
    await ready;
    const url = `https://127.0.0.1:${port}`;

    step('ml init  (pins the server certificate, stores the key)');
    if ((await ml(['init', '--server', url])).code !== 0) throw new Error('ml init failed');

    step('ml queue --follow  (snapshot, upload, submit, stream the log)');
    const queued = await ml(['queue', '--follow', '--', '--epochs', '8', '--sleep', '0.1'], {
      capture: true,
    });
    const taskId = /task_[0-9A-Z]{26}/.exec(queued.out)?.[0];
    if (queued.code !== 0 || !taskId)
      throw new Error(`the task did not complete (exit ${queued.code})`);

    step('ml status');
    await ml(['status']);

    step('ml info  (the run manifest and artifacts)');
    if ((await ml(['info', taskId])).code !== 0) throw new Error('ml info failed');
    const manifestPath = join(home, 'experiments', taskId, 'run_manifest.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    process.stdout.write(
      `\nrun_manifest.json: ${manifestPath}\n  status ${manifest.status}, exit ${manifest.lifecycle.exit_code}, ` +
        `${manifest.artifacts.length} artifacts, plan_sha256 ${manifest.plan_sha256.slice(0, 16)}…\n`,
    );
  } catch (err) {
    failed = true;
    process.stderr.write(`\nquickstart failed: ${err instanceof Error ? err.message : err}\n`);
  } finally {
    step('stopping fetchml (Ctrl-C)');
    server.kill('SIGINT');
    const { code } = await exited;
    if (code !== 0) failed = true;
  }
  process.stdout.write(
    failed
      ? `\nThe quickstart did not finish; state is kept in ${root}\n`
      : `\nDone. Everything is kept in ${root} — the base dir is ${home}.\n` +
          `Next: read docs/quickstart.md to use fetchml on your own project.\n`,
  );
  process.exitCode = failed ? 1 : 0;
}

await main();
