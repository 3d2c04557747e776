import { describe, expect, it } from 'vitest';

import { isFetchmlError } from './errors.ts';
import { assertRelativePath, relativePathProblem, symlinkTargetProblem } from './paths.ts';

describe('relativePathProblem', () => {
  it.each([
    ['', 'empty path'],
    ['/etc/passwd', 'absolute path'],
    ['a/../../b', "contains a '..' segment"],
    ['..', "contains a '..' segment"],
    ['./a', "contains a '.' segment"],
    ['a//b', 'empty segment'],
    ['a/', 'empty segment'],
    ['a\0b', 'NUL'],
  ])('refuses %j', (path, reason) => {
    expect(relativePathProblem(path)).toContain(reason);
  });

  it.each(['a', 'a/b.txt', '.hidden/x', 'dir with space/ü.bin', '..a/b..'])('accepts %j', (p) => {
    expect(relativePathProblem(p)).toBeNull();
  });

  it('throws ML_ERR_PATH_HOSTILE naming the path', () => {
    try {
      assertRelativePath('../secret');
      expect.unreachable();
    } catch (err) {
      expect(isFetchmlError(err, 'ML_ERR_PATH_HOSTILE')).toBe(true);
      expect(String(err)).toContain('"../secret"');
    }
  });
});

describe('symlinkTargetProblem', () => {
  it('accepts links that stay inside the tree', () => {
    expect(symlinkTargetProblem('a/b/link', '../c')).toBeNull();
    expect(symlinkTargetProblem('link', 'sub/file')).toBeNull();
  });
  it('refuses links that leave the tree or are absolute', () => {
    expect(symlinkTargetProblem('a/link', '../../x')).toContain('outside the tree');
    expect(symlinkTargetProblem('link', '/etc/passwd')).toContain('absolute');
    expect(symlinkTargetProblem('link', '')).toContain('empty');
  });
});
