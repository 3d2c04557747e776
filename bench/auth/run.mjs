#!/usr/bin/env node
// What the whole security stack costs (issue 5): `GET /v1/tasks/:id` requests/s through the full
// auth chain (IP allowlist, ban check, API key verification, permission, rate limit, audit step)
// as a ratio to the same route on the same server build with the chain skipped — the in-process
// benchmark switch (server/auth/bench-switch), which no configuration can turn on. Two servers
// (bench/auth/server.mjs on and off) run side by side on one base dir, one task, same certificate,
// same logs; the same load generator drives each in turn: an undici Pool with CONNECTIONS
// keep-alive connections, each sending its next request as soon as the previous one answered, for
// DURATION_MS after a warm-up. Each round measures both sides back to back, alternating which goes
// first; the ratio is the median over rounds of (on / off) within a round, so a burst of load from
// elsewhere on the machine hits a pair alike instead of one side. The ratio of the two medians and
// the server CPU per request (from /proc) are printed too. Both sides send the same Authorization
// header (the unauthenticated server ignores it).
// Target: median paired ratio >= 0.85.
//
//   npm run bench:auth   (AUTH_CONNECTIONS=16 AUTH_DURATION_MS=3000 AUTH_ROUNDS=7 by default;
//                         AUTH_CPU_PROF=1 writes on.cpuprofile and off.cpuprofile of the two
//                         servers to $AUTH_PROF_DIR, default <tmp>/fetchml-bench-auth-prof)
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Pool } from 'undici';

import {
  cpuMs,
  load,
  finish,
  fmt,
  freePort,
  makeSandbox,
  median,
  repo,
  sleep,
  spawnNode,
  stop,
  verdict,
} from '../common.mjs';

const CONNECTIONS = Number(process.env.AUTH_CONNECTIONS ?? 16);
const DURATION_MS = Number(process.env.AUTH_DURATION_MS ?? 3000);
const WARMUP_MS = 1000;
const ROUNDS = Number(process.env.AUTH_ROUNDS ?? 7);
const TARGET_RATIO = 0.85;
const PROF_DIR = process.env.AUTH_PROF_DIR ?? join(tmpdir(), 'fetchml-bench-auth-prof');

/** Starts bench/auth/server.mjs in `mode`; resolves with {child, url, admin_key}. */
async function startServer(sb, mode) {
  const port = await freePort();
  const prof = process.env.AUTH_CPU_PROF
    ? ['--cpu-prof', `--cpu-prof-dir=${PROF_DIR}`, `--cpu-prof-name=${mode}.cpuprofile`]
    : [];
  const child = spawnNode(
    [...prof, join(repo, 'bench', 'auth', 'server.mjs'), mode, sb.home, String(port)],
    { cwd: sb.root, env: sb.env },
  );
  const until = Date.now() + 30_000;
  for (;;) {
    const line = child.out.split('\n')[0];
    if (child.out.includes('\n')) return { child, ...JSON.parse(line) };
    if (child.exitCode !== null || Date.now() > until) {
      throw new Error(`server.mjs ${mode} did not start:\n${child.out}\n${child.err}`);
    }
    await sleep(20);
  }
}

/** Uploads a one-file project, commits it and submits a task; returns the task id. */
async function createTask(url, auth) {
  const pool = new Pool(url, { connect: { rejectUnauthorized: false } });
  const call = async (method, path, body, type = 'application/json') => {
    const res = await pool.request({
      method,
      path,
      headers: { ...auth, 'content-type': type },
      body: type === 'application/json' ? JSON.stringify(body) : body,
    });
    const json = await res.body.json();
    if (res.statusCode >= 300) throw new Error(`${method} ${path}: ${JSON.stringify(json)}`);
    return json;
  };
  const data = Buffer.from('print("hello")\n');
  const sha = createHash('sha256').update(data).digest('hex');
  await call('PUT', `/v1/blobs/${sha}`, data, 'application/octet-stream');
  const manifest = {
    version: 1,
    entries: [{ path: 'job.py', type: 'file', mode: 0o644, size: data.length, sha256: sha }],
  };
  const { commit_id } = await call('POST', '/v1/commits', { manifest });
  const task = await call('POST', '/v1/tasks', {
    commit_id,
    spec: { name: 'bench', command: 'python3 job.py', deps: 'none' },
  });
  await pool.close();
  return task.id;
}

async function main() {
  if (process.env.AUTH_CPU_PROF) mkdirSync(PROF_DIR, { recursive: true });
  const sb = makeSandbox('auth');
  const servers = {};
  try {
    // `on` first: it creates the base dir (certificate, admin key); `off` reuses both.
    servers.on = await startServer(sb, 'on');
    servers.off = await startServer(sb, 'off');
    const auth = { authorization: `Bearer ${servers.on.admin_key}` };
    const taskId = await createTask(servers.on.url, auth);
    const path = `/v1/tasks/${taskId}`;

    // The request under test must be the real thing on both: 200 with the task; and the auth
    // chain must really run on `on` (no key: 401) and really be skipped on `off`.
    const probe = async (url, headers) => {
      const pool = new Pool(url, { connect: { rejectUnauthorized: false } });
      const res = await pool.request({ method: 'GET', path, headers });
      const body = await res.body.json();
      await pool.close();
      return { status: res.statusCode, body };
    };
    for (const side of ['on', 'off']) {
      const r = await probe(servers[side].url, auth);
      if (r.status !== 200 || r.body.id !== taskId) {
        throw new Error(`${side}: GET ${path}: ${r.status} ${JSON.stringify(r.body)}`);
      }
    }
    if ((await probe(servers.on.url, {})).status !== 401) throw new Error('on: no key was not 401');
    if ((await probe(servers.off.url, {})).status !== 200)
      throw new Error('off: chain not skipped');

    const results = { on: [], off: [] };
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? ['off', 'on'] : ['on', 'off'];
      for (const side of order) {
        const s = servers[side];
        await load(s.url, path, auth, WARMUP_MS, CONNECTIONS);
        const cpu0 = cpuMs(s.child.pid);
        const r = await load(s.url, path, auth, DURATION_MS, CONNECTIONS);
        r.cpuUsPerReq = ((cpuMs(s.child.pid) - cpu0) * 1000) / ((r.rps * DURATION_MS) / 1000);
        results[side].push(r);
        process.stdout.write(
          `  round ${round + 1} auth ${side.padEnd(3)} ${fmt(r.rps, 0).padStart(6)} req/s  ` +
            `p50 ${fmt(r.p50, 2)} ms  p99 ${fmt(r.p99, 2)} ms  ` +
            `server CPU ${fmt(r.cpuUsPerReq, 0)} us/req  errors ${r.errors}\n`,
        );
      }
    }
    const errors = [...results.on, ...results.off].reduce((n, r) => n + r.errors, 0);
    const on = median(results.on.map((r) => r.rps));
    const off = median(results.off.map((r) => r.rps));
    const cpuOn = median(results.on.map((r) => r.cpuUsPerReq));
    const cpuOff = median(results.off.map((r) => r.cpuUsPerReq));
    const paired = median(results.on.map((r, i) => r.rps / results.off[i].rps));
    const ratio = on / off;
    process.stdout.write(
      `GET /v1/tasks/:id with the whole auth chain vs the chain skipped ` +
        `(${CONNECTIONS} keep-alive connections, ${DURATION_MS} ms x ${ROUNDS} rounds each)\n` +
        `  auth off: median ${fmt(off, 0)} req/s, server CPU median ${fmt(cpuOff, 0)} us/req\n` +
        `  auth on:  median ${fmt(on, 0)} req/s, server CPU median ${fmt(cpuOn, 0)} us/req ` +
        `(the chain: ~${fmt(cpuOn - cpuOff, 0)} us/req)\n` +
        `  ratio of the medians ${fmt(ratio, 3)}x; median of the paired ratios ${fmt(paired, 3)}x; ` +
        `CPU per request off/on ${fmt(cpuOff / cpuOn, 3)}x\n`,
    );
    if (errors > 0) verdict('auth load without errors', false, `${errors} failed requests`);
    verdict(
      'authenticated GET /v1/tasks/:id throughput',
      paired >= TARGET_RATIO,
      `${fmt(paired, 3)}x >= ${TARGET_RATIO}x of the same route without auth (median paired ratio)`,
    );
  } finally {
    for (const s of Object.values(servers)) await stop(s.child);
    sb.remove();
  }
  if (process.env.AUTH_CPU_PROF) process.stdout.write(`CPU profiles in ${PROF_DIR}\n`);
  finish();
}

await main();
