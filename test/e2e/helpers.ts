/**
 * @module test/e2e/helpers
 * End-to-end plumbing: the real `fetchml` and `ml` binaries (compiled code in dist/) spawned as
 * child processes in temp dirs (base dir, client config, project), talking over real HTTPS and
 * WebSocket on a free port. Every child is tracked and killed by {@link cleanup}, so a failing
 * test leaves no process behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FETCHML_BIN = join(REPO, 'bin', 'fetchml.js');
export const ML_BIN = join(REPO, 'bin', 'ml.js');

export { ensureBuilt } from '../support/dist.ts';

/** A port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => ok(port));
    });
  });
}

/** Polls `check` until it returns a truthy value; throws with `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => T | Promise<T>,
  timeoutMs = 20_000,
  intervalMs = 100,
): Promise<NonNullable<T>> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) {
      const why = last instanceof Error ? `: ${last.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await sleep(intervalMs);
  }
}

export const sleep = (ms: number) => new Promise<void>((ok) => setTimeout(ok, ms));

/** One spawned child with its output collected. */
export class Proc {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  exitCode: number | null = null;
  signal: NodeJS.Signals | null = null;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  readonly name: string;

  constructor(name: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }) {
    this.name = name;
    this.child = spawn(process.execPath, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.add(this);
    this.child.stdout?.setEncoding('utf8').on('data', (d: string) => (this.stdout += d));
    this.child.stderr?.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.exited = new Promise((ok) => {
      this.child.once('close', (code, signal) => {
        this.exitCode = code;
        this.signal = signal;
        live.delete(this);
        ok({ code, signal });
      });
      this.child.once('error', () => {
        live.delete(this);
        ok({ code: null, signal: null });
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.exitCode === null && this.signal === null && live.has(this);
  }

  /** Waits for a stdout line matching `re`; fails early when the process exits. */
  async waitForOutput(re: RegExp, timeoutMs = 20_000): Promise<RegExpExecArray> {
    const exitedEarly = this.exited.then(({ code, signal }) => {
      throw new Error(
        `${this.name} exited (code ${code}, signal ${signal}) before printing ${re}\n` +
          `stdout: ${this.stdout}\nstderr: ${this.stderr}`,
      );
    });
    return Promise.race([
      waitFor(`${this.name} to print ${re}`, () => re.exec(this.stdout), timeoutMs),
      exitedEarly,
    ]);
  }

  /** Sends `signal` and waits for the exit, SIGKILLing after `graceMs`. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000) {
    if (!this.running) return this.exited;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

const live = new Set<Proc>();

/** Stops every child still running (SIGTERM, then SIGKILL), then removes the temp dirs. */
export async function cleanup(): Promise<void> {
  await Promise.all([...live].map((p) => p.stop('SIGTERM', 5_000)));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

process.once('exit', () => {
  for (const p of live) p.child.kill('SIGKILL');
});

const dirs: string[] = [];

/** A temp root with a base dir, a client config and a project dir; `env` points at them. */
export interface Sandbox {
  root: string;
  home: string;
  project: string;
  clientConfig: string;
  env: NodeJS.ProcessEnv;
}

export function sandbox(extraEnv: Record<string, string> = {}): Sandbox {
  const root = mkdtempSync(join(tmpdir(), 'fetchml-e2e-'));
  dirs.push(root);
  const home = join(root, 'home');
  const project = join(root, 'project');
  mkdirSync(project);
  const clientConfig = join(root, 'client.json');
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    // Nothing from the developer's own fetchml setup leaks in.
    if (!k.startsWith('FETCHML_') && !k.startsWith('VITEST') && k !== 'NODE_OPTIONS') env[k] = v;
  }
  Object.assign(env, {
    FETCHML_HOME: home,
    FETCHML_CLIENT_CONFIG: clientConfig,
    FETCHML_WORKER_RUNTIME: 'sandbox',
    NO_COLOR: '1',
    ...extraEnv,
  });
  return { root, home, project, clientConfig, env };
}

/** The JSON head line of `fetchml up|server --json`. */
export interface Banner {
  url: string | null;
  fingerprint: string | null;
  admin_key: string | null;
  worker_id: string | null;
  runtime: string | null;
  home: string;
}

/** Starts `fetchml <command> --json ...args` and waits for its banner (first stdout line). */
export async function startFetchml(
  sb: Sandbox,
  command: 'up' | 'server' | 'worker',
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<{ proc: Proc; banner: Banner }> {
  const proc = new Proc(
    `fetchml ${command} ${args.join(' ')}`,
    [FETCHML_BIN, command, '--json', ...args],
    {
      cwd: sb.root,
      env: { ...sb.env, ...env },
    },
  );
  // The banner is one (pretty-printed) JSON object; JSON log lines follow it.
  const head = await proc.waitForOutput(/^\{[\s\S]*?^\}$/m, 30_000);
  return { proc, banner: JSON.parse(head[0]) as Banner };
}

export interface MlResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `ml ...args` in the project dir to its end. */
export async function ml(
  sb: Sandbox,
  args: string[],
  options: { timeoutMs?: number; cwd?: string } = {},
): Promise<MlResult> {
  const proc = new Proc(`ml ${args.join(' ')}`, [ML_BIN, ...args], {
    cwd: options.cwd ?? sb.project,
    env: sb.env,
  });
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  const { code } = await proc.exited;
  clearTimeout(timer);
  return { code, stdout: proc.stdout, stderr: proc.stderr };
}

/** `ml ...args --json`, parsed; throws with the output when it fails. */
export async function mlJson<T>(sb: Sandbox, args: string[]): Promise<T> {
  const r = await ml(sb, [...args, '--json']);
  if (r.code !== 0)
    throw new Error(`ml ${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`);
  return JSON.parse(r.stdout) as T;
}

/** Writes a project: `fetchml.yaml` with `command` plus the given files. */
export function writeProject(
  sb: Sandbox,
  command: string,
  files: Record<string, string> = {},
  extraYaml = '',
): void {
  writeFileSync(
    join(sb.project, 'fetchml.yaml'),
    `name: e2e\ncommand: ${command}\ndeps: none\nresources:\n  cpus: 1\n  memory: 256m\ntimeout: 2m\n${extraYaml}`,
  );
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(sb.project, path)), { recursive: true });
    writeFileSync(join(sb.project, path), text);
  }
}

/**
 * A Python job that prints `tick i` every `intervalS` for `ticks` ticks, then writes
 * `$FETCHML_OUTPUT/result.txt` and exits with `exitCode`.
 */
export function tickerJob(ticks: number, intervalS: number, exitCode = 0): string {
  return [
    'import os, sys, time',
    `for i in range(${ticks}):`,
    '    print(f"tick {i}", flush=True)',
    `    time.sleep(${intervalS})`,
    'out = os.environ.get("FETCHML_OUTPUT", "output")',
    'os.makedirs(out, exist_ok=True)',
    'with open(os.path.join(out, "result.txt"), "w") as f:',
    `    f.write("ticks ${ticks}\\n")`,
    `print("finished", flush=True)`,
    `sys.exit(${exitCode})`,
    '',
  ].join('\n');
}

/** The subset of a Task the tests read. */
export interface TaskView {
  id: string;
  status: string;
  attempt: number;
  worker_id: string | null;
  exit_code: number | null;
}

export interface StatusView {
  tasks: TaskView[];
  counts: Record<string, number>;
}

/** The task from `ml status --json`. */
export async function taskStatus(sb: Sandbox, taskId: string): Promise<TaskView> {
  const status = await mlJson<StatusView>(sb, ['status', '--all']);
  const task = status.tasks.find((t) => t.id === taskId);
  if (!task) throw new Error(`${taskId} is not in ml status`);
  return task;
}

/** Paths of one task's files in the base dir. */
export function taskPaths(sb: Sandbox, taskId: string) {
  const dir = join(sb.home, 'experiments', taskId);
  return {
    dir,
    manifest: join(dir, 'run_manifest.json'),
    log: join(dir, 'logs', 'output.log'),
    output: join(dir, 'output'),
  };
}

export function readIfExists(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Every file under `dir` (relative paths). */
export function listFiles(dir: string, prefix = ''): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listFiles(p, `${prefix}${name}/`));
    else out.push(`${prefix}${name}`);
  }
  return out;
}

/** The pids of `pid`'s descendants (from /proc), children first. */
export function descendants(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readIfExists(`/proc/${name}/stat`);
    // pid (comm) state ppid ...; comm may hold spaces and parens, so split after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (!Number.isFinite(ppid)) continue;
    const list = parents.get(ppid) ?? [];
    list.push(Number(name));
    parents.set(ppid, list);
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of parents.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

/** True while `pid` exists and is not a zombie. */
export function alive(pid: number): boolean {
  const stat = readIfExists(`/proc/${pid}/stat`);
  if (!stat) return false;
  const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  return state !== 'Z' && state !== 'X';
}

export const TASK_ID = /task_[0-9A-Z]{26}/;
