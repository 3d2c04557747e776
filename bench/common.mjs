// Shared plumbing for the end-to-end benchmarks in bench/*/run.mjs: start the real `fetchml`
// binaries in a temp base dir on a free port, run `ml`, time things, print PASS/FAIL lines.
// Every child started here is killed on exit.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { Pool } from 'undici';

export const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const fetchmlBin = join(repo, 'bin', 'fetchml.js');
export const mlBin = join(repo, 'bin', 'ml.js');

const children = new Set();
process.once('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    for (const c of children) c.kill('SIGKILL');
    process.exit(130);
  });
}

export const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

export function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

export const fmt = (n, digits = 1) => n.toFixed(digits);

/** A temp root with base dir, client config and project; `env` points the binaries at them. */
export function makeSandbox(name) {
  const root = mkdtempSync(join(tmpdir(), `fetchml-bench-${name}-`));
  const home = join(root, 'home');
  const project = join(root, 'project');
  mkdirSync(project);
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('FETCHML_')) env[k] = v;
  Object.assign(env, {
    FETCHML_HOME: home,
    FETCHML_CLIENT_CONFIG: join(root, 'client.json'),
    NO_COLOR: '1',
  });
  // The benches send thousands of requests with the admin key: give admin a limit they never reach
  // (the rate-limit step still runs on every request, so its cost stays in the measurement).
  mkdirSync(home);
  writeFileSync(
    join(home, 'roles.yaml'),
    'roles:\n  admin: { permissions: ["*"], rate_limit_per_min: 1000000000 }\n',
  );
  return { root, home, project, env, remove: () => rmSync(root, { recursive: true, force: true }) };
}

/** Spawns a node child that is killed when this process exits. */
export function spawnNode(args, options) {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  children.add(child);
  child.once('exit', () => children.delete(child));
  child.exited = new Promise((ok) => child.once('exit', (code, signal) => ok({ code, signal })));
  child.out = '';
  child.err = '';
  child.stdout?.setEncoding('utf8').on('data', (d) => (child.out += d));
  child.stderr?.setEncoding('utf8').on('data', (d) => (child.err += d));
  return child;
}

/**
 * Starts `fetchml up --json` and resolves with {child, banner, port} once its banner is printed.
 * `nodeArgs` go to node itself (e.g. `--cpu-prof` when looking into a result).
 */
export async function startUp(sb, args = [], extraEnv = {}, nodeArgs = []) {
  const port = await freePort();
  const child = spawnNode(
    [...nodeArgs, fetchmlBin, 'up', '--json', '--port', String(port), ...args],
    {
      cwd: sb.root,
      env: { ...sb.env, ...extraEnv },
    },
  );
  const until = Date.now() + 30_000;
  for (;;) {
    const m = /^\{[\s\S]*?^\}$/m.exec(child.out);
    if (m) return { child, banner: JSON.parse(m[0]), port };
    if (child.exitCode !== null || Date.now() > until) {
      throw new Error(`fetchml up did not start:\n${child.out}\n${child.err}`);
    }
    await sleep(20);
  }
}

/** Stops a child with SIGINT (SIGKILL after 10 s). */
export async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await child.exited;
  clearTimeout(timer);
}

/** Runs `ml ...args` in the project; resolves with {code, out, err, ms}. */
export async function ml(sb, args) {
  const t0 = performance.now();
  const child = spawnNode([mlBin, ...args], { cwd: sb.project, env: sb.env });
  const { code } = await child.exited;
  const ms = performance.now() - t0;
  return { code, out: child.out, err: child.err, ms };
}

export async function mlOk(sb, args) {
  const r = await ml(sb, args);
  if (r.code !== 0) throw new Error(`ml ${args.join(' ')} exited ${r.code}:\n${r.err}${r.out}`);
  return r;
}

/** Writes fetchml.yaml (and the given files) into the project. */
export function writeProject(sb, command, files = {}) {
  writeFileSync(
    join(sb.project, 'fetchml.yaml'),
    `name: bench\ncommand: ${command}\ndeps: none\nresources:\n  cpus: 1\n  memory: 256m\ntimeout: 2m\n`,
  );
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(sb.project, path)), { recursive: true });
    writeFileSync(join(sb.project, path), text);
  }
}

export function readIfExists(path) {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** VmRSS of a pid in MiB (from /proc). */
export function rssMb(pid) {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Prints a PASS/FAIL line and records the outcome for {@link finish}. */
const results = [];
export function verdict(name, ok, detail) {
  results.push(ok);
  process.stdout.write(`${ok ? 'PASS' : 'FAIL'} ${name}: ${detail}\n`);
}

/** Sets the exit code: non-zero when any target failed. */
export function finish() {
  process.exitCode = results.every(Boolean) ? 0 : 1;
}

/** Drives GET `path` on `origin` for `ms` over `connections` keep-alive connections, each sending
 * its next request when the last is answered; resolves with {rps, errors, p50, p99} (latencies in ms). */
export async function load(origin, path, headers, ms, connections) {
  const pool = new Pool(origin, {
    connections,
    pipelining: 1,
    connect: { rejectUnauthorized: false },
  });
  let ok = 0;
  let errors = 0;
  const latencies = [];
  const until = performance.now() + ms;
  const worker = async () => {
    while (performance.now() < until) {
      const t0 = performance.now();
      try {
        const res = await pool.request({ method: 'GET', path, headers });
        await res.body.arrayBuffer();
        if (res.statusCode === 200) {
          ok += 1;
          latencies.push(performance.now() - t0);
        } else errors += 1;
      } catch {
        errors += 1;
      }
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: connections }, worker));
  const elapsed = performance.now() - t0;
  await pool.close();
  latencies.sort((a, b) => a - b);
  const at = (p) =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  return { rps: (ok * 1000) / elapsed, errors, p50: at(0.5), p99: at(0.99) };
}

/** User + system CPU time of a process so far, ms (from /proc/<pid>/stat; clock ticks of 10 ms). */
export function cpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * Times `n` keep-alive GETs of `path` (after 2 warm-up requests) with an API key; returns the
 * times in ms. One connection, so each is one request's server time plus the round trip.
 */
export async function serverTimes(url, key, path, n = 10) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false });
  const once = () =>
    new Promise((resolve, reject) => {
      const t0 = performance.now();
      const req = request(`${url}${path}`, { agent, headers: { authorization: `Bearer ${key}` } });
      req.on('error', reject);
      req.on('response', (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode === 200
            ? resolve(performance.now() - t0)
            : reject(new Error(`GET ${path}: HTTP ${res.statusCode}`)),
        );
      });
      req.end();
    });
  const times = [];
  for (let i = 0; i < n + 2; i++) {
    const ms = await once();
    if (i >= 2) times.push(ms);
  }
  agent.destroy();
  return times;
}
