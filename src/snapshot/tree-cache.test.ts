import {
  chmodSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { canonicalSha256 } from '../core/hash.ts';
import { age, cleanup, makeTree } from '../../test/snapshot/helpers.ts';
import { snapshotTree } from './index.ts';

afterEach(cleanup);

/** Ages every directory under `root` (and `root`), so the tree cache does not find them racy. */
function ageDirs(root: string, secondsAgo = 3600): void {
  const t = Date.now() / 1000 - secondsAgo;
  const walk = (dir: string) => {
    for (const d of readdirSync(dir, { withFileTypes: true })) {
      if (d.isDirectory() && d.name !== '.fetchml') walk(join(dir, d.name));
    }
    utimesSync(dir, t, t);
  };
  walk(root);
}

/** A snapshot with the caches, checked against a full walk without any. */
async function checked(root: string) {
  const withCaches = await snapshotTree(root);
  const plain = await snapshotTree(root, { statCache: false });
  expect(withCaches.manifest).toEqual(plain.manifest);
  expect(withCaches.commitId).toBe(plain.commitId);
  expect(withCaches.commitId).toBe(canonicalSha256(withCaches.manifest));
  return withCaches;
}

function tree(): string {
  const spec: Record<string, string | { link: string } | { exec: string }> = {
    '.gitignore': '*.log\n',
    'src/a.py': 'a\n',
    'src/b.py': 'b\n',
    'src/deep/c.py': 'c\n',
    'src/run.sh': { exec: '#!/bin/sh\n' },
    'data/x.bin': 'x'.repeat(100),
    'link-to-a': { link: 'src/a.py' },
    'ignored.log': 'log\n',
  };
  const root = makeTree(spec);
  return root;
}

/** A first snapshot (which makes `.fetchml/`, a change to the root), then every directory aged. */
async function settled(): Promise<string> {
  const root = tree();
  await snapshotTree(root);
  ageDirs(root);
  return root;
}

describe('tree cache', () => {
  it('replays an unchanged layout, re-hashing only changed files, with the right commit id', async () => {
    const root = await settled();
    const first = await checked(root);
    expect(first.stats.tree).toBe('walked');
    const second = await checked(root);
    expect(second.stats).toMatchObject({ tree: 'replayed', hashed: 0 });
    expect(second.commitId).toBe(first.commitId);

    writeFileSync(join(root, 'src/b.py'), 'b changed\n');
    age(root, ['src/b.py'], 60);
    const changed = await checked(root);
    expect(changed.stats).toMatchObject({ tree: 'replayed', hashed: 1 });
    expect(changed.commitId).not.toBe(first.commitId);
    // Again: the tree cache still has b's old text; the stat cache has its new hash.
    expect((await checked(root)).stats).toMatchObject({ tree: 'replayed', hashed: 0 });
  });

  it('gets a mode-only change right (same content, new mode)', async () => {
    const root = await settled();
    await checked(root);
    chmodSync(join(root, 'src/a.py'), 0o755);
    const after = await checked(root);
    expect(after.stats.tree).toBe('replayed');
    expect(after.manifest.entries.find((e) => e.path === 'src/a.py')).toMatchObject({
      mode: 0o755,
    });
    expect((await checked(root)).stats).toMatchObject({ tree: 'replayed', hashed: 0 });
  });

  it.each([
    ['a new file', (root: string) => writeFileSync(join(root, 'src/deep/new.py'), 'new\n')],
    ['a deleted file', (root: string) => rmSync(join(root, 'src/deep/c.py'))],
    [
      'a renamed file (an editor saving by rename)',
      (root: string) => {
        writeFileSync(join(root, 'src/.a.py.tmp'), 'saved\n');
        rmSync(join(root, 'src/a.py'));
        writeFileSync(join(root, 'src/a.py'), 'saved\n');
        rmSync(join(root, 'src/.a.py.tmp'));
      },
    ],
    [
      'a symlink pointed elsewhere',
      (root: string) => {
        rmSync(join(root, 'link-to-a'));
        symlinkSync('src/b.py', join(root, 'link-to-a'));
      },
    ],
    [
      'an ignore file edited in place',
      (root: string) => {
        const st = statSync(join(root, '.gitignore'));
        writeFileSync(join(root, '.gitignore'), '*.bin\n');
        utimesSync(join(root, '.gitignore'), st.atime, st.mtime); // mtime kept; ctime moves
      },
    ],
    ['a new ignore file', (root: string) => writeFileSync(join(root, 'src/.mlignore'), 'b.py\n')],
    ['a directory removed', (root: string) => rmSync(join(root, 'data'), { recursive: true })],
  ])('walks again after %s, and finds it', async (_name, change) => {
    const root = await settled();
    await checked(root);
    expect((await checked(root)).stats.tree).toBe('replayed');
    change(root);
    const after = await checked(root);
    expect(after.stats.tree).toBe('walked');
    // A directory changed in the clock tick of the walk stays untrusted (racy) until it is older.
    ageDirs(root);
    expect((await checked(root)).stats.tree).toBe('walked');
    expect((await checked(root)).stats.tree).toBe('replayed');
  });

  it('ignores a damaged or truncated cache, and writes it anew', async () => {
    const root = await settled();
    await checked(root);
    const file = join(root, '.fetchml/statcache.tree');
    const bytes = readFileSync(file);
    bytes[bytes.length - 10] = (bytes[bytes.length - 10] as number) ^ 0xff;
    writeFileSync(file, bytes);
    expect((await checked(root)).stats.tree).toBe('walked');
    expect((await checked(root)).stats.tree).toBe('replayed');
    writeFileSync(file, readFileSync(file).subarray(0, 100));
    expect((await checked(root)).stats.tree).toBe('walked');
  });

  it('applies its patches, and ignores a patch cut short (a crash mid-append)', async () => {
    const root = await settled();
    await checked(root);
    const file = join(root, '.fetchml/statcache.tree');
    const before = readFileSync(file).length;
    writeFileSync(join(root, 'src/a.py'), 'a, again\n');
    age(root, ['src/a.py'], 60);
    expect((await checked(root)).stats).toMatchObject({ tree: 'replayed', hashed: 1 });
    const patched = readFileSync(file);
    expect(patched.length).toBeGreaterThan(before); // appended, not rewritten
    expect((await checked(root)).stats).toMatchObject({ tree: 'replayed', hashed: 0 });
    writeFileSync(file, patched.subarray(0, patched.length - 7));
    // The patch is gone: that file's stat data is unknown again, so it is hashed (right answer).
    expect((await checked(root)).stats).toMatchObject({ tree: 'replayed', hashed: 1 });
  });

  it('is rewritten whole once a replay re-hashed many files', async () => {
    const spec: Record<string, string> = {};
    for (let i = 0; i < 400; i++) spec[`d/f${i}`] = `${i}\n`;
    const root = makeTree(spec);
    await snapshotTree(root);
    ageDirs(root);
    await checked(root);
    const file = join(root, '.fetchml/statcache.tree');
    const before = readFileSync(file).length;
    for (let i = 0; i < 300; i++) writeFileSync(join(root, `d/f${i}`), `${i} changed\n`);
    age(root, Object.keys(spec), 60);
    expect((await checked(root)).stats).toMatchObject({ tree: 'replayed', hashed: 400 });
    // 400 re-hashed (age moved every ctime): more than a patch should carry, so rewritten.
    expect(readFileSync(file).length).toBeLessThan(before + 2000); // a patch would add ~43 KB
    expect((await checked(root)).stats).toMatchObject({ tree: 'replayed', hashed: 0 });
  });

  it('replays the same way without the native helper', async () => {
    const root = await settled();
    await snapshotTree(root, { native: false });
    writeFileSync(join(root, 'src/deep/c.py'), 'c, changed\n');
    age(root, ['src/deep/c.py'], 60);
    const js = await snapshotTree(root, { native: false });
    expect(js.stats).toMatchObject({ tree: 'replayed', hashed: 1 });
    const plain = await snapshotTree(root, { statCache: false });
    expect(js.commitId).toBe(plain.commitId);
  });

  it('keeps a cache path inside the tree, and its tree cache, out of the snapshot', async () => {
    const root = tree();
    const cache = join(root, 'state/hashes');
    const first = await snapshotTree(root, { statCache: cache });
    ageDirs(root);
    await snapshotTree(root, { statCache: cache });
    const again = await snapshotTree(root, { statCache: cache });
    const paths = again.manifest.entries.map((e) => e.path);
    expect(paths.some((p) => p.startsWith('state/'))).toBe(false);
    expect(again.commitId).toBe(first.commitId);
  });
});
