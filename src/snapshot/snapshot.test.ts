import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { chmodSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';

import { canonicalSha256, sha256Hex } from '../core/hash.ts';
import { TreeManifest } from '../core/schemas/tree.ts';
import { age, cleanup, makeTree, tempDir, writeTree } from '../../test/snapshot/helpers.ts';
import { hashFileSync } from './hash-file.ts';
import { snapshotTree, statKey } from './index.ts';

afterEach(cleanup);

const binary = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 7919) % 256);

describe('snapshotTree', () => {
  it('records files with size, sha256 and mode; binary files included; commit id is canonicalSha256', async () => {
    const root = makeTree({
      'train.py': 'print("hi")\n',
      'weights.bin': binary,
      'run.sh': { exec: '#!/bin/sh\necho ok\n' },
      'empty.txt': '',
    });
    const { manifest, commitId, stats } = await snapshotTree(root, { statCache: false });
    expect(TreeManifest.parse(manifest)).toEqual(manifest);
    expect(commitId).toBe(canonicalSha256(manifest));
    expect(manifest.entries).toEqual([
      { path: 'empty.txt', type: 'file', mode: 0o644, size: 0, sha256: sha256Hex('') },
      {
        path: 'run.sh',
        type: 'file',
        mode: 0o755,
        size: 18,
        sha256: sha256Hex('#!/bin/sh\necho ok\n'),
      },
      { path: 'train.py', type: 'file', mode: 0o644, size: 12, sha256: sha256Hex('print("hi")\n') },
      { path: 'weights.bin', type: 'file', mode: 0o644, size: 70_000, sha256: sha256Hex(binary) },
    ]);
    expect(stats).toMatchObject({
      files: 4,
      symlinks: 0,
      bytes: 70_030,
      hashed: 4,
      cached: 0,
      cache: 'disabled',
    });
  });

  it('gives the same commit id whatever the creation order and mtimes', async () => {
    const spec = {
      'b/2.txt': 'two',
      'a.txt': 'one',
      'b/1.txt': binary,
      'c/d/e.txt': 'deep',
      'é.txt': 'x',
      '𝒳.txt': 'y',
      'ｚ.txt': 'z',
    };
    const a = makeTree(spec);
    const reversed = Object.fromEntries(Object.entries(spec).reverse());
    const b = tempDir();
    writeTree(b, reversed);
    age(b, Object.keys(spec), 99_999);
    const ra = await snapshotTree(a, { statCache: false });
    const rb = await snapshotTree(b, { statCache: false });
    expect(rb.commitId).toBe(ra.commitId);
    expect(ra.manifest.entries.map((e) => e.path)).toEqual([
      'a.txt',
      'b/1.txt',
      'b/2.txt',
      'c/d/e.txt',
      'é.txt',
      'ｚ.txt',
      '𝒳.txt',
    ]);
    expect(TreeManifest.safeParse(ra.manifest).success).toBe(true);
  });

  it('hashes the same in the main thread and in the worker pool', async () => {
    const spec: Record<string, string | Uint8Array> = {
      'big.bin': new Uint8Array(5 << 20).fill(7),
    };
    for (let i = 0; i < 300; i++) spec[`d${i % 7}/f${i}.txt`] = `file ${i}\n`.repeat(i);
    const root = makeTree(spec);
    const main = await snapshotTree(root, { statCache: false, workers: 0 });
    const pooled = await snapshotTree(root, {
      statCache: false,
      workers: 2,
      poolThreshold: { files: 1, bytes: 0 },
    });
    expect(main.stats.workers).toBe(0);
    expect(pooled.stats.workers).toBe(2);
    expect(pooled.manifest).toEqual(main.manifest);
    expect(pooled.stats.hashed).toBe(301);
  });

  it('records symlinks as links and never follows them; leaves out empty dirs', async () => {
    const root = makeTree({
      'data/x.csv': '1',
      'link-dir': { link: 'data' },
      'link-file': { link: 'data/x.csv' },
      dangling: { link: 'nope/missing' },
    });
    execFileSync('mkdir', ['-p', join(root, 'empty/nested')]);
    const { manifest, stats } = await snapshotTree(root, { statCache: false });
    expect(manifest.entries).toEqual([
      { path: 'dangling', type: 'symlink', target: 'nope/missing' },
      { path: 'data/x.csv', type: 'file', mode: 0o644, size: 1, sha256: sha256Hex('1') },
      { path: 'link-dir', type: 'symlink', target: 'data' },
      { path: 'link-file', type: 'symlink', target: 'data/x.csv' },
    ]);
    expect(stats.symlinks).toBe(3);
  });

  it('skips fifos with a warning', async () => {
    const root = makeTree({ 'a.txt': 'a' });
    execFileSync('mkfifo', [join(root, 'pipe')]);
    const { manifest, warnings, stats } = await snapshotTree(root, { statCache: false });
    expect(manifest.entries.map((e) => e.path)).toEqual(['a.txt']);
    expect(warnings).toEqual([{ path: 'pipe', reason: 'fifo left out of the snapshot' }]);
    expect(stats.skipped).toBe(1);
  });

  it('tracks the executable bit as part of the commit', async () => {
    const root = makeTree({ 'run.sh': 'echo' });
    const before = await snapshotTree(root);
    execFileSync('chmod', ['+x', join(root, 'run.sh')]);
    const after = await snapshotTree(root);
    expect(after.commitId).not.toBe(before.commitId);
    expect(after.manifest.entries[0]).toMatchObject({ mode: 0o755 });
    // chmod changes ctime only: the content hash may come from the cache or not, the mode is fresh
    expect(after.stats.files).toBe(1);
  });

  it('refuses an unreadable file with a clear error', async () => {
    if (process.getuid?.() === 0) return; // root reads everything
    const root = makeTree({ 'secret.txt': 'x' });
    execFileSync('chmod', ['000', join(root, 'secret.txt')]);
    await expect(snapshotTree(root, { statCache: false })).rejects.toThrow(/secret\.txt/);
  });

  it('marks a file that does not match the walk’s stat data as changed', () => {
    const root = makeTree({ 'a.txt': 'hello' });
    const abs = join(root, 'a.txt');
    const st = statSync(abs);
    const buf = Buffer.alloc(4);
    expect(hashFileSync(abs, 5, statKey(st), buf)).toEqual({
      sha256: sha256Hex('hello'),
      size: 5,
      changed: false,
    });
    expect(hashFileSync(abs, 5, statKey({ ...st, mtimeMs: 1 }), buf).changed).toBe(true);
    expect(hashFileSync(abs, 3, statKey({ ...st, size: 3 }), buf)).toMatchObject({
      sha256: sha256Hex('hel'),
      changed: true,
    });
  });
});

describe('native and JavaScript stat checks', () => {
  it('give the same snapshots of the same changes', async () => {
    const spec: Record<string, string> = {};
    for (let i = 0; i < 600; i++) spec[`d${i % 7}/f${i}.txt`] = `file ${i}\n`;
    const roots = [makeTree(spec), makeTree(spec)];
    const results = [];
    for (const [k, root] of roots.entries()) {
      const native = k === 0;
      age(root, Object.keys(spec), 60);
      const cold = await snapshotTree(root, { native });
      writeFileSync(join(root, 'd1/f1.txt'), 'changed\n');
      rmSync(join(root, 'd2/f2.txt'));
      mkdirSync(join(root, 'd3/f3.txt.new'));
      rmSync(join(root, 'd3/f3.txt'));
      mkdirSync(join(root, 'd3/f3.txt'));
      writeFileSync(join(root, 'd3/f3.txt/inner'), 'now a directory\n');
      chmodSync(join(root, 'd4/f4.txt'), 0o755);
      age(root, ['d1/f1.txt', 'd3/f3.txt/inner', 'd4/f4.txt'], 30);
      const warm = await snapshotTree(root, { native });
      const again = await snapshotTree(root, { native });
      results.push({ cold, warm, again });
    }
    const [a, b] = results as [(typeof results)[0], (typeof results)[0]];
    expect(a.cold.commitId).toBe(b.cold.commitId);
    expect(a.warm.commitId).toBe(b.warm.commitId);
    expect(a.warm.stats).toMatchObject({
      hashed: b.warm.stats.hashed,
      cached: b.warm.stats.cached,
    });
    expect(a.warm.stats.hashed).toBe(3); // d1/f1.txt, d3/f3.txt/inner, d4/f4.txt (mode)
    expect(a.again.stats).toMatchObject({ hashed: 0, cached: a.again.stats.files });
    expect(b.again.stats).toMatchObject({ hashed: 0, cached: b.again.stats.files });
  });
});
