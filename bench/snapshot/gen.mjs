/**
 * @module bench/snapshot/gen
 * Generates the benchmark tree deterministically from a seed: many small files, some MB-sized,
 * a few of 50-100 MB (scaled down with the total), a .gitignore with ignored files, a couple of
 * symlinks and executables — then commits it into a git repository, so `git status` has an index
 * to compare against. The tree is cached in a seed-named directory and reused by later runs.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  openSync,
  writeSync,
  closeSync,
} from 'node:fs';
import { join } from 'node:path';

/** A small seeded PRNG (mulberry32): same seed, same tree. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** File sizes in bytes summing to about `totalBytes`: ~0.02% huge, ~1.5% MB-sized, the rest small. */
export function planSizes(files, totalBytes, rand) {
  const huge = Math.max(1, Math.round(files * 0.0002));
  const medium = Math.max(1, Math.round(files * 0.015));
  const small = Math.max(1, files - huge - medium);
  const hugeBudget = totalBytes * 0.3;
  const mediumBudget = totalBytes * 0.4;
  const smallBudget = totalBytes - hugeBudget - mediumBudget;
  const shape = (n, lo, hi) =>
    Array.from({ length: n }, () =>
      Math.exp(Math.log(lo) + rand() * (Math.log(hi) - Math.log(lo))),
    );
  const scale = (xs, budget) => {
    const sum = xs.reduce((s, x) => s + x, 0);
    return xs.map((x) => Math.max(0, Math.round((x / sum) * budget)));
  };
  return [
    ...scale(shape(huge, 50, 100), hugeBudget),
    ...scale(shape(medium, 0.5, 4), mediumBudget),
    ...scale(shape(small, 0.05, 64), smallBudget),
  ];
}

function fill(block, seed) {
  let off = 0;
  let counter = 0;
  while (off < block.length) {
    const h = createHash('sha256').update(`${seed}:${counter++}`).digest();
    off += h.copy(block, off);
  }
}

/**
 * Makes (or reuses) the tree for `{files, totalMb, seed}` under `baseDir`. Returns its path and
 * the planned byte count.
 */
export function ensureTree(baseDir, { files, totalMb, seed }) {
  const dir = join(baseDir, `fetchml-bench-snapshot-s${seed}-n${files}-m${totalMb}`);
  const tree = join(dir, 'tree');
  if (existsSync(join(dir, 'complete'))) return { tree, generated: false };
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(tree, { recursive: true });
  const rand = prng(seed);
  const sizes = planSizes(files, totalMb * 1024 * 1024, rand);
  const block = Buffer.alloc(8 << 20);
  fill(block, seed);
  const perDir = 100;
  sizes.forEach((size, i) => {
    const d = Math.floor(i / perDir);
    const rel = join(`pkg${d % 20}`, `mod${d}`, `file${i}${i % 13 === 0 ? '.bin' : '.py'}`);
    const abs = join(tree, rel);
    if (i % perDir === 0) mkdirSync(join(tree, `pkg${d % 20}`, `mod${d}`), { recursive: true });
    const fd = openSync(abs, 'w');
    const head = Buffer.from(`file ${i} seed ${seed}\n`);
    writeSync(fd, head, 0, Math.min(head.length, size));
    let left = size - Math.min(head.length, size);
    let off = (i * 7919) % block.length;
    while (left > 0) {
      const n = Math.min(left, block.length - off);
      writeSync(fd, block, off, n);
      left -= n;
      off = 0;
    }
    closeSync(fd);
    if (i % 97 === 0) chmodSync(abs, 0o755);
  });
  writeFileSync(join(tree, '.gitignore'), '*.pyc\n__pycache__/\n/outputs/\n');
  for (let i = 0; i < 50; i++) {
    mkdirSync(join(tree, `pkg${i % 20}`, '__pycache__'), { recursive: true });
    writeFileSync(join(tree, `pkg${i % 20}`, '__pycache__', `m${i}.pyc`), `cache ${i}`);
  }
  mkdirSync(join(tree, 'outputs'), { recursive: true });
  writeFileSync(join(tree, 'outputs', 'ignored.bin'), Buffer.alloc(1 << 20));
  symlinkSync('pkg0/mod0/file1.py', join(tree, 'latest.py'));
  symlinkSync('../mod0', join(tree, 'pkg1', 'mod0-link'));
  writeFileSync(join(tree, 'touched.txt'), 'initial\n');
  const git = (...args) =>
    execFileSync('git', args, { cwd: tree, stdio: ['ignore', 'ignore', 'inherit'] });
  git('init', '-q');
  git('-c', 'core.autocrlf=false', 'add', '-A');
  git(
    '-c',
    'user.name=bench',
    '-c',
    'user.email=bench@example.invalid',
    'commit',
    '-q',
    '-m',
    'bench tree',
  );
  writeFileSync(join(dir, 'complete'), new Date().toISOString());
  return { tree, generated: true };
}
