import { lstatSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { cleanup, tempDir } from '../../test/snapshot/helpers.ts';
import { nativeStats } from './native.ts';
import {
  CHECK_DIFFERENT,
  CHECK_GONE,
  CHECK_SAME,
  newStatCheck,
  runStatCheck,
  StatHelper,
  StatPrecheck,
} from './stat-check.ts';

afterEach(cleanup);

const native = nativeStats();

describe('shared stat check', () => {
  it.each([
    ['main thread alone', false, false],
    ['with a helper thread', true, false],
    ['native, on two threads', false, true],
  ])('answers every path the same way: %s', async (_name, withHelper, useNative) => {
    if (useNative && !native) {
      // `npm run build` builds it where there is a C compiler and Node's headers (CI has both).
      expect.soft(native, 'native helper not built: run npm run build').not.toBeNull();
      return;
    }
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
      runStatCheck(job, helper, useNative ? native : null, 2);
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

describe('native stat check', () => {
  it.runIf(native)('gives the numbers fs.lstatSync gives, exactly (times in ms as doubles)', () => {
    const root = tempDir();
    const paths: string[] = [];
    for (let i = 0; i < 300; i++) {
      writeFileSync(join(root, `f${i}`), 'x'.repeat(i));
      paths.push(`f${i}`);
    }
    const job = newStatCheck(root, paths);
    runStatCheck(job, null, native, 3);
    paths.forEach((p, k) => {
      const st = lstatSync(join(root, p));
      expect([...job.found.subarray(k * 6, k * 6 + 5)]).toEqual([
        st.size,
        st.mtimeMs,
        st.ctimeMs,
        st.ino,
        st.dev,
      ]);
    });
  });

  it.runIf(native)('checks records on threads of its own while the caller goes on', () => {
    const root = tempDir();
    const n = 2000;
    const names: string[] = [];
    const expect5 = new Float64Array(n * 5);
    for (let i = 0; i < n; i++) {
      writeFileSync(join(root, `r${i}`), `record ${i}`);
      names.push(`r${i}`);
      const st = lstatSync(join(root, `r${i}`));
      expect5.set([st.size, st.mtimeMs, st.ctimeMs, st.ino, st.dev], i * 5);
    }
    writeFileSync(join(root, 'r5'), 'now longer than before');
    rmSync(join(root, 'r6'));
    const pre = new StatPrecheck(
      native as NonNullable<typeof native>,
      root,
      names.join('\0'),
      expect5,
      n,
      2,
    );
    pre.finish();
    pre.finish(); // idempotent
    expect(pre.status[5]).toBe(CHECK_DIFFERENT);
    expect(pre.status[6]).toBe(CHECK_GONE);
    expect([...pre.status].filter((s) => s === CHECK_SAME)).toHaveLength(n - 2);
  });

  it.runIf(native)('refuses arrays too small for the paths instead of writing past them', () => {
    const root = tempDir();
    expect(() =>
      (native as NonNullable<typeof native>).checkStats(
        root,
        'a\0b\0c',
        new Float64Array(10),
        new Float64Array(18),
        new Uint8Array(3),
        1,
      ),
    ).toThrow(/typed arrays too small/);
  });
});
