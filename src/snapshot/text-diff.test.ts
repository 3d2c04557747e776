import { describe, expect, it } from 'vitest';

import { unifiedDiff } from './text-diff.ts';

const opts = { from: 'a/train.py', to: 'b/train.py' };
const lines = (n: number, f: (i: number) => string = (i) => `line ${i}`) =>
  Array.from({ length: n }, (_, i) => `${f(i + 1)}\n`).join('');

describe('unifiedDiff', () => {
  it('is empty for equal texts', () => {
    expect(unifiedDiff('a\nb\n', 'a\nb\n', opts)).toBe('');
  });

  it('writes one hunk with three lines of context, like diff -u', () => {
    const before = lines(10);
    const after = before.replace('line 5\n', 'line five\n');
    expect(unifiedDiff(before, after, opts)).toBe(
      '--- a/train.py\n+++ b/train.py\n@@ -2,7 +2,7 @@\n line 2\n line 3\n line 4\n-line 5\n+line five\n line 6\n line 7\n line 8\n',
    );
  });

  it('splits far-apart changes into hunks and handles insertions at the start and end', () => {
    const before = lines(20);
    const after = `new first\n${before.replace('line 2\n', '').replace('line 19\n', 'line 19\nline 19b\n')}`;
    expect(unifiedDiff(before, after, opts)).toBe(
      '--- a/train.py\n+++ b/train.py\n@@ -1,5 +1,5 @@\n+new first\n line 1\n-line 2\n line 3\n line 4\n line 5\n' +
        '@@ -17,4 +17,5 @@\n line 17\n line 18\n line 19\n+line 19b\n line 20\n',
    );
  });

  it('diffs against an empty side (an added or removed file)', () => {
    expect(unifiedDiff('', 'x\ny\n', { from: '/dev/null', to: 'b/new.py' })).toBe(
      '--- /dev/null\n+++ b/new.py\n@@ -0,0 +1,2 @@\n+x\n+y\n',
    );
  });

  it('gives null past maxEdits instead of a huge answer', () => {
    const before = lines(100);
    const after = lines(100, (i) => `other ${i}`);
    expect(unifiedDiff(before, after, { ...opts, maxEdits: 50 })).toBeNull();
    expect(unifiedDiff(before, after, opts)).toContain('+other 100');
  });
});
