import { describe, expect, it } from 'vitest';

import { canonicalSha256, sha256Hex } from '../core/hash.ts';
import type { TreeManifest } from '../core/schemas/tree.ts';
import { commitIdOf, comparePaths, treeSymlinkProblems } from './index.ts';

describe('manifest helpers', () => {
  it('commitIdOf equals canonicalSha256 of the manifest', () => {
    const manifest: TreeManifest = {
      version: 1,
      entries: [
        { path: 'a "quoted"\\ path', type: 'file', mode: 0o644, size: 3, sha256: sha256Hex('abc') },
        { path: 'link', type: 'symlink', target: 'a "quoted"\\ path' },
        { path: 'tab\there', type: 'symlink', target: 'ctl\u0001' },
        { path: 'x/é\u2028𝒳', type: 'file', mode: 0o755, size: 0, sha256: sha256Hex('') },
      ],
    };
    expect(commitIdOf(manifest)).toBe(canonicalSha256(manifest));
    const many: TreeManifest = {
      version: 1,
      entries: Array.from({ length: 1500 }, (_, i) => ({
        path: `f${String(i).padStart(5, '0')}`,
        type: 'file' as const,
        mode: 0o644 as const,
        size: i,
        sha256: sha256Hex(String(i)),
      })),
    };
    expect(commitIdOf(many)).toBe(canonicalSha256(many));
    expect(commitIdOf({ version: 1, entries: [] })).toBe(
      canonicalSha256({ version: 1, entries: [] }),
    );
  });

  it('comparePaths orders by UTF-8 bytes', () => {
    const words = [
      'a',
      'b',
      'a/b',
      'a-b',
      'ab',
      '\uffff',
      '𝒳',
      '\ue000',
      'é',
      'Z',
      '~',
      '\u00ff',
      '😀x',
      '😀',
    ];
    const bytes = [...words].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect([...words].sort(comparePaths)).toEqual(bytes);
  });

  it('treeSymlinkProblems resolves through the tree’s own links', () => {
    const link = (path: string, target: string) => ({ path, type: 'symlink' as const, target });
    expect(treeSymlinkProblems([link('a', 'b'), link('b', 'a')])).toEqual([]); // a loop, harmless
    expect(treeSymlinkProblems([link('d/x', '../y'), link('y', 'd')])).toEqual([]);
    expect(
      treeSymlinkProblems([link('p/q/up', '../..'), link('p/q/s', 'up/..')]).map((p) => p.path),
    ).toEqual(['p/q/s']);
    expect(treeSymlinkProblems([link('a', '/etc')]).map((p) => p.path)).toEqual(['a']);
    expect(treeSymlinkProblems([link('a', 'b/x'), link('b', '/abs')]).map((p) => p.path)).toEqual([
      'a',
      'b',
    ]);
  });
});
