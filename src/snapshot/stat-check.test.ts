import { lstatSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { cleanup, tempDir } from '../../test/snapshot/helpers.ts';
import {
  CHECK_DIFFERENT,
  CHECK_GONE,
  CHECK_SAME,
  newStatCheck,
  runStatCheck,
  StatHelper,
} from './stat-check.ts';

afterEach(cleanup);

describe('shared stat check', () => {
  it.each([
    ['main thread alone', false],
    ['with a helper thread', true],
  ])('answers every path the same way: %s', async (_name, withHelper) => {
    const root = tempDir();
    const paths: string[] = [];
    for (let i = 0; i < 1000; i++) {
      writeFileSync(join(root, `f${i}`), `file ${i}`);
      paths.push(`f${i}`);
    }
    const job = newStatCheck(root, paths);
    paths.forEach((p, k) => {
      const st = lstatSync(join(root, p));
      job.expect.set([st.size, st.mtimeMs, st.ctimeMs, st.ino, st.dev], k * 5);
    });
    writeFileSync(join(root, 'f10'), 'changed size');
    rmSync(join(root, 'f20'));
    rmSync(join(root, 'f30'));
    symlinkSync('f0', join(root, 'f30'));
    const helper = withHelper ? new StatHelper() : null;
    try {
      if (helper) await new Promise((r) => setTimeout(r, 200)); // let it start and take a share
      runStatCheck(job, helper);
    } finally {
      await helper?.close();
    }
    expect(job.status[10]).toBe(CHECK_DIFFERENT);
    expect(job.found[10 * 6]).toBe('changed size'.length);
    expect(job.status[20]).toBe(CHECK_GONE); // deleted
    expect(job.status[30]).toBe(CHECK_GONE); // not a regular file any more
    const same = [...job.status].filter((s) => s === CHECK_SAME).length;
    expect(same).toBe(997);
    expect(job.found[999 * 6]).toBe('file 999'.length);
  });
});
