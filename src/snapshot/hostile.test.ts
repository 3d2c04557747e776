import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { FetchmlError } from '../core/errors.ts';
import { cleanup, makeTree } from '../../test/snapshot/helpers.ts';
import { snapshotTree } from './index.ts';

afterEach(cleanup);

async function refusal(root: string): Promise<FetchmlError> {
  try {
    await snapshotTree(root, { statCache: false });
  } catch (err) {
    expect(err).toBeInstanceOf(FetchmlError);
    return err as FetchmlError;
  }
  throw new Error('snapshot was not refused');
}

describe('hostile paths', () => {
  it('refuses an absolute symlink, naming it and suggesting .mlignore', async () => {
    const root = makeTree({ 'ok.txt': 'x', 'cfg/passwd': { link: '/etc/passwd' } });
    const err = await refusal(root);
    expect(err.code).toBe('ML_ERR_PATH_HOSTILE');
    expect(err.message).toContain('"cfg/passwd"');
    expect(err.message).toContain('/etc/passwd');
    expect(err.message).toContain('.mlignore');
    expect(err.details).toMatchObject({ path: 'cfg/passwd' });
  });

  it('refuses symlinks out of the tree, lexically and through other links', async () => {
    const root = makeTree({ 'a/up': { link: '../../x' } });
    expect((await refusal(root)).message).toContain('"a/up"');
    const chained = makeTree({
      'x/y/b': { link: '../..' }, // resolves to the root: fine on its own
      'x/y/s': { link: 'b/../..' }, // lexically x/, really the root's parent
      'x/file': 'x',
    });
    const err = await refusal(chained);
    expect(err.message).toContain('"x/y/s"');
    expect(err.details?.['problems']).toHaveLength(1);
  });

  it('accepts links that stay inside, and an escaping link once .mlignore leaves it out', async () => {
    const root = makeTree({
      'a/b/in': { link: '../../c.txt' },
      'c.txt': 'x',
      out: { link: '../outside' },
      '.mlignore': 'out\n',
    });
    const { manifest } = await snapshotTree(root, { statCache: false });
    expect(manifest.entries.map((e) => e.path)).toEqual(['.mlignore', 'a/b/in', 'c.txt']);
  });

  it('refuses a name that is not valid UTF-8, showing its bytes', async () => {
    const root = makeTree({ 'ok.txt': 'x' });
    mkdirSync(join(root, 'sub'));
    writeFileSync(
      Buffer.concat([
        Buffer.from(join(root, 'sub') + '/caf'),
        Buffer.from([0xe9]),
        Buffer.from('.txt'),
      ]),
      'x',
    );
    const err = await refusal(root);
    expect(err.code).toBe('ML_ERR_PATH_HOSTILE');
    expect(err.message).toContain('sub/caf\\\\xe9.txt');
    expect(err.message).toMatch(/not valid UTF-8.*\.mlignore/);
    writeFileSync(join(root, '.mlignore'), 'sub/caf*\n');
    const { manifest } = await snapshotTree(root, { statCache: false });
    expect(manifest.entries.map((e) => e.path)).toEqual(['.mlignore', 'ok.txt']);
  });

  it('refuses names with line breaks and lists every problem', async () => {
    const root = makeTree({ 'bad\nname.txt': 'x', 'also\rbad': 'y', abs: { link: '/tmp' } });
    const err = await refusal(root);
    expect(err.message).toMatch(/and 2 more/);
    expect((err.details?.['problems'] as unknown[]).length).toBe(3);
  });
});
