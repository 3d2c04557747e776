#!/usr/bin/env node
// Authenticated `GET /v1/tasks/:id` requests/s on a running `fetchml up`, as a ratio to a bare
// Fastify HTTPS hello-world (bench/api/hello.mjs) on the same machine, with the same certificate
// and key. Both are driven by the same small load generator: an undici Pool with CONNECTIONS
// keep-alive connections, each sending its next request as soon as the previous one answered,
// for DURATION_MS after a warm-up. Rounds alternate (hello, fetchml, hello, fetchml, ...) and the
// median of each side is compared, so a burst of load from elsewhere hits both alike.
// Target: ratio >= 0.5.
//
//   npm run bench:api      (API_CONNECTIONS=16 API_DURATION_MS=4000 API_ROUNDS=3 by default)
import { join } from 'node:path';

import { Pool } from 'undici';

import {
  cpuMs,
  load,
  finish,
  fmt,
  makeSandbox,
  median,
  mlOk,
  repo,
  sleep,
  spawnNode,
  startUp,
  stop,
  verdict,
  writeProject,
} from '../common.mjs';

const CONNECTIONS = Number(process.env.API_CONNECTIONS ?? 16);
const DURATION_MS = Number(process.env.API_DURATION_MS ?? 4000);
const WARMUP_MS = 1000;
const ROUNDS = Number(process.env.API_ROUNDS ?? 3);
const TARGET_RATIO = 0.5;

async function startHello(home) {
  const child = spawnNode(
    [
      join(repo, 'bench', 'api', 'hello.mjs'),
      join(home, 'tls', 'cert.pem'),
      join(home, 'tls', 'key.pem'),
    ],
    {},
  );
  for (let i = 0; i < 500; i++) {
    const line = child.out.split('\n')[0];
    if (child.out.includes('\n')) return { child, url: JSON.parse(line).url };
    if (child.exitCode !== null) throw new Error(`hello.mjs exited: ${child.err}`);
    await sleep(20);
  }
  throw new Error('hello.mjs did not start');
}

async function main() {
  const sb = makeSandbox('api');
  writeProject(sb, 'python3 job.py', { 'job.py': 'print("hello", flush=True)\n' });
  const up = await startUp(sb);
  let hello = null;
  try {
    await mlOk(sb, ['init', '--server', up.banner.url]);
    const queued = await mlOk(sb, ['queue', '--follow']);
    const taskId = /task_[0-9A-Z]{26}/.exec(queued.out)?.[0];
    if (!taskId) throw new Error(`no task id in ${queued.out}`);
    hello = await startHello(sb.home);

    const auth = { authorization: `Bearer ${up.banner.admin_key}` };
    const targets = {
      hello: { origin: hello.url, path: '/hello', headers: {} },
      fetchml: { origin: up.banner.url, path: `/v1/tasks/${taskId}`, headers: auth },
    };
    // The request under test must be the real thing: authenticated and answered with the task.
    const probe = new Pool(up.banner.url, { connect: { rejectUnauthorized: false } });
    const res = await probe.request({ method: 'GET', path: targets.fetchml.path, headers: auth });
    const body = await res.body.json();
    await probe.close();
    if (res.statusCode !== 200 || body.id !== taskId) {
      throw new Error(`GET ${targets.fetchml.path}: ${res.statusCode} ${JSON.stringify(body)}`);
    }

    const results = { hello: [], fetchml: [] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const name of ['hello', 'fetchml']) {
        const t = targets[name];
        await load(t.origin, t.path, t.headers, WARMUP_MS, CONNECTIONS);
        const pid = name === 'hello' ? hello.child.pid : up.child.pid;
        const cpu0 = cpuMs(pid);
        const r = await load(t.origin, t.path, t.headers, DURATION_MS, CONNECTIONS);
        r.cpuUsPerReq = ((cpuMs(pid) - cpu0) * 1000) / ((r.rps * DURATION_MS) / 1000);
        results[name].push(r);
        process.stdout.write(
          `  round ${round + 1} ${name.padEnd(7)} ${fmt(r.rps, 0).padStart(6)} req/s  ` +
            `p50 ${fmt(r.p50, 2)} ms  p99 ${fmt(r.p99, 2)} ms  ` +
            `server CPU ${fmt(r.cpuUsPerReq, 0)} us/req  errors ${r.errors}\n`,
        );
      }
    }
    const errors = [...results.hello, ...results.fetchml].reduce((n, r) => n + r.errors, 0);
    const h = median(results.hello.map((r) => r.rps));
    const f = median(results.fetchml.map((r) => r.rps));
    const ratio = f / h;
    process.stdout.write(
      `GET /v1/tasks/:id (authenticated) vs bare Fastify HTTPS hello-world ` +
        `(${CONNECTIONS} keep-alive connections, ${DURATION_MS} ms x ${ROUNDS} rounds each)\n` +
        `  hello-world: median ${fmt(h, 0)} req/s, server CPU median ${fmt(median(results.hello.map((r) => r.cpuUsPerReq)), 0)} us/req\n` +
        `  fetchml:     median ${fmt(f, 0)} req/s, server CPU median ${fmt(median(results.fetchml.map((r) => r.cpuUsPerReq)), 0)} us/req\n` +
        `  ratio ${fmt(ratio, 2)}x\n`,
    );
    if (errors > 0) verdict('api load without errors', false, `${errors} failed requests`);
    verdict(
      'GET /v1/tasks/:id throughput',
      ratio >= TARGET_RATIO,
      `${fmt(ratio, 2)}x >= ${TARGET_RATIO}x`,
    );
  } finally {
    if (hello) await stop(hello.child);
    await stop(up.child);
    sb.remove();
  }
  finish();
}

await main();
