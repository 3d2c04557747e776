import { writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { sha256Hex } from '../core/hash.ts';
import { cleanup, makeTree, age } from '../../test/snapshot/helpers.ts';
import { diffTrees, snapshotTree } from './index.ts';

afterEach(cleanup);

describe('diffTrees', () => {
  it('lists added, removed and modified entries with old/new hashes', async () => {
    const root = makeTree({
      'a.txt': 'a',
      'b.txt': 'b',
      'c.txt': 'c',
      l: { link: 'a.txt' },
      'm.sh': 'echo',
    });
    const before = (await snapshotTree(root)).manifest;
    writeFileSync(join(root, 'b.txt'), 'B');
    rmSync(join(root, 'c.txt'));
    writeFileSync(join(root, 'd.txt'), 'd');
    rmSync(join(root, 'l'));
    writeFileSync(join(root, 'l'), 'now a file');
    age(root, ['b.txt', 'd.txt', 'l']);
    const after = (await snapshotTree(root)).manifest;
    const d = diffTrees(before, after);
    expect(d.added.map((e) => e.path)).toEqual(['d.txt']);
    expect(d.removed.map((e) => e.path)).toEqual(['c.txt']);
    expect(d.modified.map((m) => [m.path, m.oldSha256, m.newSha256])).toEqual([
      ['b.txt', sha256Hex('b'), sha256Hex('B')],
      ['l', null, sha256Hex('now a file')],
    ]);
    expect(d.unchanged).toBe(2);
    expect(diffTrees(after, after)).toEqual({ added: [], removed: [], modified: [], unchanged: 5 });
  });

  it('treats a mode change as a modification', () => {
    const sha = sha256Hex('x');
    const a = {
      version: 1 as const,
      entries: [{ path: 'x', type: 'file' as const, mode: 0o644 as const, size: 1, sha256: sha }],
    };
    const b = {
      version: 1 as const,
      entries: [{ path: 'x', type: 'file' as const, mode: 0o755 as const, size: 1, sha256: sha }],
    };
    expect(diffTrees(a, b).modified).toHaveLength(1);
    expect(diffTrees({ version: 1, entries: [] }, b).added).toHaveLength(1);
  });
});
