/**
 * @module bench/snapshot/run
 * Snapshot benchmark (`npm run bench:snapshot`; `--files N --total-mb M` for a quick run,
 * `--seed S`, `--runs R`). Every timing is a ratio against a baseline measured in the same run,
 * each side the best of R runs (the dev machine is shared, so the minimum is the least noisy):
 *
 * 1. cold snapshot (no stat cache, fresh process) vs `openssl dgst -sha256` over exactly the
 *    snapshot's files in one process: `xargs -0 -s <ARG_MAX less the environment>` passes the
 *    whole list to one invocation (xargs' default of 128 KiB per command line would split 20k
 *    paths into several runs, each paying openssl's start-up); the number of invocations is
 *    printed, and if the list ever exceeds ARG_MAX it says so — target throughput ratio >= 1.0;
 * 2. warm re-snapshot after one file changed (must hash exactly 1 file) vs `git status
 *    --porcelain` on the same tree, committed to git — target time ratio <= 2.0;
 * 3. peak RSS (VmHWM) of the cold-snapshot process — target <= 150 MB.
 * Library times are of the `snapshotTree` call in a fresh process (JIT cold, as in the CLI);
 * Node's own start-up is not counted, git's and openssl's are (a few ms).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { ensureTree } from './gen.mjs';

const argv = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const files = arg('files', 20_000);
const totalMb = arg('total-mb', 1024);
const seed = arg('seed', 1);
const runs = arg('runs', 3);
const here = fileURLToPath(new URL('.', import.meta.url));
const child = join(here, 'child.mjs');

if (!existsSync(join(here, '../../dist/snapshot/index.js'))) {
  console.error('dist/snapshot/index.js is missing: build first (npx tsc -p tsconfig.build.json)');
  process.exit(2);
}

const now = () => performance.now();
const best = (xs) => Math.min(...xs);
const fmt = (x, d = 1) => x.toFixed(d);

function snapshotChild(tree, cache, list = false) {
  const r = spawnSync(process.execPath, [child, tree, cache, ...(list ? ['list'] : [])], {
    encoding: 'utf8',
    maxBuffer: 256 << 20,
  });
  if (r.status !== 0) throw new Error(`snapshot child failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

function timed(cmd, args, opts) {
  const t = now();
  const r = spawnSync(cmd, args, { stdio: ['pipe', 'ignore', 'inherit'], ...opts });
  const ms = now() - t;
  if (r.status !== 0) throw new Error(`${cmd} exited with ${r.status}`);
  return ms;
}

console.log(
  `fetchml snapshot benchmark: ${files} files, ~${totalMb} MB, seed ${seed}, best of ${runs}`,
);
let t = now();
const { tree, generated } = ensureTree(tmpdir(), { files, totalMb, seed });
console.log(
  `tree: ${tree} (${generated ? `generated in ${fmt((now() - t) / 1000)} s` : 'cached'})`,
);
const scratch = mkdtempSync(join(tmpdir(), 'fetchml-bench-cache-'));
const results = [];
const verdict = (name, ok, text) => {
  results.push(ok);
  console.log(`${ok ? 'PASS' : 'FAIL'}  ${name}: ${text}`);
};

try {
  // Warm the page cache for both sides and get the exact file list.
  const first = snapshotChild(tree, 'none', true);
  const listFile = join(scratch, 'files.list');
  writeFileSync(listFile, first.files.join('\0'));
  const bytes = first.stats.bytes;
  // One openssl process: let xargs use all of ARG_MAX (less the environment and some slack).
  const argMax = Number(execFileSync('getconf', ['ARG_MAX'], { encoding: 'utf8' }).trim());
  const envBytes = Object.entries(process.env).reduce(
    (n, [k, v]) => n + k.length + String(v).length + 2 + 8,
    0,
  );
  const xargsSize = Math.max(4096, Math.min(argMax - envBytes - 64 * 1024, 8 << 20));
  const xargs = `xargs -0 -s ${xargsSize}`;
  const invocations = Number(
    execFileSync('sh', ['-c', `${xargs} sh -c 'echo x' sh < '${listFile}' | wc -l`], {
      cwd: tree,
      encoding: 'utf8',
    }).trim(),
  );
  console.log(
    `files: ${first.stats.files} (${fmt(bytes / 2 ** 20)} MiB), symlinks: ${first.stats.symlinks}; openssl via ${xargs}: ${invocations} process(es)${invocations > 1 ? ' (the list exceeds ARG_MAX: openssl runs one after another)' : ''}`,
  );

  // 1. Cold snapshot vs openssl.
  const opensslMs = [];
  const coldMs = [];
  let cold;
  for (let i = 0; i < runs; i++) {
    opensslMs.push(
      timed('sh', ['-c', `${xargs} openssl dgst -sha256 < '${listFile}'`], { cwd: tree }),
    );
    const cache = join(scratch, `cold-${i}`);
    cold = snapshotChild(tree, cache);
    rmSync(cache, { force: true });
    if (cold.stats.hashed !== cold.stats.files) throw new Error('cold run used a cache');
    coldMs.push(cold.ms);
  }
  const mbps = (ms) => bytes / 2 ** 20 / (ms / 1000);
  const coldRatio = best(opensslMs) / best(coldMs);
  console.log(
    `\n1. cold snapshot: ${fmt(best(coldMs))} ms = ${fmt(mbps(best(coldMs)), 0)} MiB/s (${cold.stats.workers} workers; runs ${coldMs.map((x) => fmt(x, 0)).join(', ')} ms)`,
  );
  console.log(
    `   openssl dgst -sha256 (${invocations} process${invocations > 1 ? 'es' : ''}): ${fmt(best(opensslMs))} ms = ${fmt(mbps(best(opensslMs)), 0)} MiB/s (runs ${opensslMs.map((x) => fmt(x, 0)).join(', ')} ms)`,
  );
  verdict(
    'cold throughput vs openssl',
    coldRatio >= 1.0,
    `${fmt(coldRatio, 2)}x (target >= 1.00x)`,
  );

  // 2. Warm re-snapshot after one change vs git status.
  snapshotChild(tree, 'default'); // builds <tree>/.fetchml/statcache
  execFileSync('git', ['status', '--porcelain'], { cwd: tree }); // lets git refresh its index too
  const warmMs = [];
  const gitMs = [];
  let warm;
  for (let i = 0; i < runs; i++) {
    writeFileSync(join(tree, 'touched.txt'), `changed ${Date.now()} ${i}\n`);
    execFileSync('sleep', ['0.05']);
    warm = snapshotChild(tree, 'default');
    if (warm.stats.hashed !== 1)
      throw new Error(`warm run hashed ${warm.stats.hashed} files, expected 1`);
    warmMs.push(warm.ms);
    gitMs.push(timed('git', ['status', '--porcelain'], { cwd: tree }));
  }
  const warmRatio = best(warmMs) / best(gitMs);
  console.log(
    `\n2. warm re-snapshot, 1 file changed: ${fmt(best(warmMs))} ms, hashed ${warm.stats.hashed}, cached ${warm.stats.cached} (runs ${warmMs.map((x) => fmt(x, 0)).join(', ')} ms)`,
  );
  console.log(
    `   git status --porcelain: ${fmt(best(gitMs))} ms (runs ${gitMs.map((x) => fmt(x, 0)).join(', ')} ms)`,
  );
  verdict(
    'only the changed file re-hashed',
    warm.stats.hashed === 1,
    `${warm.stats.hashed} hashed`,
  );
  verdict('warm time vs git status', warmRatio <= 2.0, `${fmt(warmRatio, 2)}x (target <= 2.00x)`);

  // 3. Peak RSS of a cold snapshot process.
  const rss = cold.peakRssMb;
  console.log(`\n3. peak RSS of the cold snapshot process (VmHWM): ${fmt(rss)} MB`);
  verdict('peak RSS', rss <= 150, `${fmt(rss)} MB (target <= 150 MB)`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

const failed = results.filter((ok) => !ok).length;
console.log(`\n${failed === 0 ? 'all targets met' : `${failed} target(s) missed`}`);
if (failed > 0) process.exit(1);
