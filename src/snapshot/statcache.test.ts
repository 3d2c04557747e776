import { existsSync, readFileSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { age, cleanup, makeTree, tempDir } from '../../test/snapshot/helpers.ts';
import { loadStatCache, saveStatCache, snapshotTree } from './index.ts';
import { appendStatCache } from './statcache.ts';

afterEach(cleanup);

function spec(n: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < n; i++) out[`dir${i % 3}/file${i}.txt`] = `content ${i}\n`;
  return out;
}

describe('stat cache', () => {
  it('reuses hashes of unchanged files and re-hashes only what changed', async () => {
    const root = makeTree(spec(20));
    const cold = await snapshotTree(root);
    expect(cold.stats).toMatchObject({ files: 20, hashed: 20, cached: 0, cache: 'missing' });
    const warm = await snapshotTree(root);
    expect(warm.stats).toMatchObject({ files: 20, hashed: 0, cached: 20, cache: 'loaded' });
    expect(warm.commitId).toBe(cold.commitId);

    writeFileSync(join(root, 'dir1/file1.txt'), 'changed, same length?\n');
    age(root, ['dir1/file1.txt'], 60);
    const changed = await snapshotTree(root);
    expect(changed.stats).toMatchObject({ hashed: 1, cached: 19 });
    expect(changed.commitId).not.toBe(cold.commitId);
    expect((await snapshotTree(root)).stats).toMatchObject({ hashed: 0, cached: 20 });
  });

  it('notices a same-size rewrite that keeps the mtime (via ctime/inode)', async () => {
    const root = makeTree({ 'a.txt': 'aaaa' });
    await snapshotTree(root);
    const t = Date.now() / 1000 - 3600;
    writeFileSync(join(root, 'a.txt'), 'bbbb');
    utimesSync(join(root, 'a.txt'), t, t); // mtime as before; ctime moves
    const again = await snapshotTree(root);
    expect(again.stats.hashed).toBe(1);
  });

  it('keeps its file under .fetchml/, git-ignored and out of the snapshot', async () => {
    const root = makeTree({ 'a.txt': 'a' });
    const { manifest } = await snapshotTree(root);
    expect(existsSync(join(root, '.fetchml/statcache'))).toBe(true);
    expect(readFileSync(join(root, '.fetchml/.gitignore'), 'utf8')).toBe('*\n');
    expect(manifest.entries.map((e) => e.path)).toEqual(['a.txt']);
  });

  it('takes a cache path, and leaves it out when it lies inside the tree', async () => {
    const root = makeTree({ 'a.txt': 'a', 'state/keep.txt': 'k' });
    const file = join(root, 'state/hashes.cache');
    const first = await snapshotTree(root, { statCache: file });
    const second = await snapshotTree(root, { statCache: file });
    expect(second.manifest.entries.map((e) => e.path)).toEqual(['a.txt', 'state/keep.txt']);
    expect(second.commitId).toBe(first.commitId);
    expect(second.stats.cached).toBe(2);
    expect(existsSync(join(root, '.fetchml'))).toBe(false);
  });

  it.each([
    [
      'flipped byte',
      (f: string) => {
        const b = readFileSync(f);
        b[b.length - 70] = (b[b.length - 70] as number) ^ 1;
        writeFileSync(f, b);
      },
    ],
    ['truncated', (f: string) => truncateSync(f, readFileSync(f).length - 10)],
    [
      'wrong version',
      (f: string) =>
        writeFileSync(f, readFileSync(f, 'latin1').replace('STATCACHE 3', 'STATCACHE 9'), 'latin1'),
    ],
    ['garbage', (f: string) => writeFileSync(f, 'not a cache at all')],
    ['empty', (f: string) => writeFileSync(f, '')],
  ])('ignores a %s cache, re-hashes everything and rebuilds it', async (_name, damage) => {
    const root = makeTree(spec(10));
    const cold = await snapshotTree(root);
    damage(join(root, '.fetchml/statcache'));
    const after = await snapshotTree(root);
    expect(after.stats).toMatchObject({ cache: 'corrupt', hashed: 10, cached: 0 });
    expect(after.commitId).toBe(cold.commitId);
    expect((await snapshotTree(root)).stats).toMatchObject({
      cache: 'loaded',
      hashed: 0,
      cached: 10,
    });
  });

  it('does not trust a racy entry (mtime not older than the cache write) and re-hashes it next time', async () => {
    const root = makeTree({ 'old.txt': 'o', 'racy.txt': 'r' });
    const future = Date.now() / 1000 + 3600;
    utimesSync(join(root, 'racy.txt'), future, future);
    await snapshotTree(root);
    const next = await snapshotTree(root);
    expect(next.stats).toMatchObject({ hashed: 1, cached: 1 });
  });

  it('round-trips records with odd paths, leaving out racy ones', () => {
    const dir = tempDir();
    const file = join(dir, 'c');
    const st = (n: number) => ({
      size: n,
      mtimeMs: 1_700_000_000_000.123 + n,
      ctimeMs: n + 0.5,
      ino: 2 ** 40 + n,
      dev: n,
    });
    const records = [
      { path: 'a b/ü.txt', sha256: 'a'.repeat(64), ...st(1) },
      { path: '𝒳', sha256: 'b'.repeat(64), ...st(2) },
      { path: 'racy', sha256: 'c'.repeat(64), ...st(3), mtimeMs: Date.now() + 3_600_000 },
    ];
    expect(saveStatCache(file, records)).toBe(2);
    const cache = loadStatCache(file);
    expect(cache.status).toBe('loaded');
    expect(cache.size).toBe(2);
    expect(cache.lookup('a b/ü.txt', st(1))).toBe('a'.repeat(64));
    expect(cache.lookup('𝒳', st(2))).toBe('b'.repeat(64));
    expect(cache.lookup('𝒳', { ...st(2), ctimeMs: 9 })).toBeNull();
    expect(cache.lookup('𝒳', { ...st(2), ino: 1 })).toBeNull();
    expect(cache.lookup('racy', st(3))).toBeNull();
    expect(loadStatCache(join(dir, 'absent')).status).toBe('missing');
    saveStatCache(file, []);
    expect(loadStatCache(file)).toMatchObject({ status: 'loaded', size: 0 });
  });

  it('appends the records of a few changed files; a later record wins; a torn segment ends the file', () => {
    const dir = tempDir();
    const file = join(dir, 'c');
    const st = (n: number) => ({
      size: n,
      mtimeMs: 1_700_000_000_000 + n,
      ctimeMs: n,
      ino: n,
      dev: 1,
    });
    saveStatCache(file, [
      { path: 'a', sha256: 'a'.repeat(64), ...st(1) },
      { path: 'b', sha256: 'b'.repeat(64), ...st(2) },
    ]);
    const fields = new Float64Array([3, 1_700_000_000_003, 3, 3, 1]);
    expect(appendStatCache(file, ['b'], ['c'.repeat(64)], fields)).toBe(1);
    const cache = loadStatCache(file);
    expect(cache).toMatchObject({
      status: 'loaded',
      size: 2,
      segments: 1,
      appended: 1,
      damaged: false,
    });
    expect(cache.lookup('b', st(2))).toBeNull();
    expect(cache.lookup('b', st(3))).toBe('c'.repeat(64));
    expect(cache.lookup('a', st(1))).toBe('a'.repeat(64));
    // A racy record is not appended.
    const racy = new Float64Array([4, Date.now() + 3_600_000, 4, 4, 1]);
    expect(appendStatCache(file, ['d'], ['d'.repeat(64)], racy)).toBe(0);
    // A torn append: the records before it stand, and the next save is asked to rewrite.
    truncateSync(file, readFileSync(file).length - 5);
    expect(loadStatCache(file)).toMatchObject({ status: 'loaded', size: 2, damaged: true });
    expect(loadStatCache(file).lookup('b', st(2))).toBe('b'.repeat(64));
  });

  it('a warm snapshot after one change appends to the cache rather than rewriting it', async () => {
    const root = makeTree(spec(20));
    await snapshotTree(root);
    const file = join(root, '.fetchml/statcache');
    const before = readFileSync(file);
    writeFileSync(join(root, 'dir1/file1.txt'), 'changed\n');
    age(root, ['dir1/file1.txt'], 60);
    expect((await snapshotTree(root)).stats).toMatchObject({ hashed: 1, cached: 19 });
    const after = readFileSync(file);
    expect(after.subarray(0, before.length).equals(before)).toBe(true);
    expect(loadStatCache(file)).toMatchObject({ segments: 1, size: 20 });
    expect((await snapshotTree(root)).stats).toMatchObject({ hashed: 0, cached: 20 });
    expect(readFileSync(file).length).toBe(after.length); // nothing changed: nothing written
  });
});

describe('stat cache lookups', () => {
  const st = (n: number) => ({ size: n, mtimeMs: n, ctimeMs: n, ino: n, dev: 1 });
  const rec = (path: string, n: number, h = 'a') => ({ path, sha256: h.repeat(64), ...st(n) });

  it('finds records by a forward cursor and by search, appended ones first', () => {
    const dir = tempDir();
    const file = join(dir, 'cache');
    const sorted = ['a', 'a b/ü.txt', 'a/x', 'b', 'd/e/f', 'z', '𝒳'];
    saveStatCache(
      file,
      sorted.map((p, i) => rec(p, i + 1)),
    );
    appendStatCache(
      file,
      ['b', 'c'],
      ['c'.repeat(64), 'd'.repeat(64)],
      new Float64Array([50, 50, 50, 50, 1, 60, 60, 60, 60, 1]),
    );
    const cache = loadStatCache(file);
    expect(cache.size).toBe(8); // 7 + 'c' ('b' replaced)
    expect(cache.records).toBe(9);
    const next = cache.cursor();
    const asked = ['a', 'a/x', 'b', 'c', 'c2', 'd/e/f', 'y', '𝒳'];
    const byCursor = asked.map((p) => next(p));
    expect(byCursor).toEqual(asked.map((p) => cache.indexOf(p)));
    expect(byCursor).toEqual([0, 2, 7, 8, -1, 4, -1, 6]);
    expect(cache.hashOf(7)).toBe('c'.repeat(64));
    expect(cache.recordPaths().split('\0')).toEqual([...sorted, 'b', 'c']);
  });

  it('sorts records given out of order, so both lookups find them', () => {
    const dir = tempDir();
    const file = join(dir, 'cache');
    const paths = ['z', 'a', 'm/n', 'b'];
    saveStatCache(
      file,
      paths.map((p, i) => rec(p, i + 1)),
    );
    const cache = loadStatCache(file);
    expect(cache.recordPaths().split('\0')).toEqual(['a', 'b', 'm/n', 'z']);
    const next = cache.cursor();
    expect(['a', 'b', 'm/n', 'z'].map((p) => next(p))).toEqual([0, 1, 2, 3]);
    expect(paths.map((p) => cache.indexOf(p))).toEqual([3, 0, 2, 1]);
    expect(cache.lookup('m/n', st(3))).toBe('a'.repeat(64));
    expect(cache.indexOf('nope')).toBe(-1);
  });

  it('treats a cache whose hashes are not hex as corrupt', () => {
    const dir = tempDir();
    const file = join(dir, 'cache');
    saveStatCache(file, [rec('a', 1, 'g')]);
    expect(loadStatCache(file).status).toBe('corrupt');
  });
});
