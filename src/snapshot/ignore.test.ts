import { afterEach, describe, expect, it } from 'vitest';

import { cleanup, makeTree } from '../../test/snapshot/helpers.ts';
import { snapshotTree } from './index.ts';

const paths = async (root: string) =>
  (await snapshotTree(root, { statCache: false })).manifest.entries.map((e) => e.path);

afterEach(cleanup);

describe('ignore rules', () => {
  it('applies root .gitignore patterns, dir-only patterns and negation', async () => {
    const root = makeTree({
      '.gitignore': '*.log\n!keep.log\nbuild/\n/top.txt\n# comment\n',
      'a.log': 'x',
      'keep.log': 'x',
      'build/out.bin': 'x',
      'src/build': 'a file named build is not a directory',
      'top.txt': 'x',
      'src/top.txt': 'x',
      'src/main.py': 'print(1)',
    });
    expect(await paths(root)).toEqual([
      '.gitignore',
      'keep.log',
      'src/build',
      'src/main.py',
      'src/top.txt',
    ]);
  });

  it('honours nested .gitignore files relative to their directory, deeper files winning', async () => {
    const root = makeTree({
      '.gitignore': '*.tmp\nlogs/\n',
      'x.tmp': 'x',
      'sub/.gitignore': '/local.txt\n!keep.tmp\n!logs/\n',
      'sub/local.txt': 'x',
      'sub/deeper/local.txt': 'anchored pattern applies only at sub/',
      'sub/keep.tmp': 'x',
      'sub/other.tmp': 'x',
      'sub/logs/a.txt': 're-included dir',
      'sub/logs/b.tmp': 'still excluded by the root *.tmp',
      'logs/c.txt': 'excluded',
      'other/.gitignore': '*\n',
      'other/hidden.txt': 'x',
    });
    expect(await paths(root)).toEqual([
      '.gitignore',
      'sub/.gitignore',
      'sub/deeper/local.txt',
      'sub/keep.tmp',
      'sub/logs/a.txt',
    ]);
  });

  it('lets .mlignore exclude more and re-include what .gitignore excludes', async () => {
    const root = makeTree({
      '.gitignore': 'data/\n*.ckpt\n',
      '.mlignore': '!data/\ndata/big/\nwandb/\n!best.ckpt\n',
      'data/small.csv': '1,2',
      'data/big/huge.bin': 'x',
      'wandb/run.log': 'x',
      'last.ckpt': 'x',
      'best.ckpt': 'x',
      'models/.mlignore': '*.pt\n',
      'models/a.pt': 'x',
      'models/a.txt': 'x',
    });
    expect(await paths(root)).toEqual([
      '.gitignore',
      '.mlignore',
      'best.ckpt',
      'data/small.csv',
      'models/.mlignore',
      'models/a.txt',
    ]);
  });

  it('cannot re-include a file inside an excluded directory (git semantics)', async () => {
    const root = makeTree({
      '.gitignore': 'out/\n!out/keep.txt\n',
      'out/keep.txt': 'x',
      'in.txt': 'x',
    });
    expect(await paths(root)).toEqual(['.gitignore', 'in.txt']);
  });

  it('always leaves out .git (at any depth) and .fetchml/', async () => {
    const root = makeTree({
      '.git/HEAD': 'ref: refs/heads/main',
      'vendor/lib/.git': 'gitdir: ../../.git/modules/lib',
      'vendor/lib/a.c': 'x',
      '.fetchml/statcache': 'x',
      '.mlignore': '!.git\n!.fetchml/\n',
      'a.txt': 'x',
    });
    expect(await paths(root)).toEqual(['.mlignore', 'a.txt', 'vendor/lib/a.c']);
  });
});
