import { afterEach, describe, expect, it } from 'vitest';

import { openFsBlobStore } from '../blobs/fs/index.ts';
import { cleanup, makeTree, tempDir } from '../../test/snapshot/helpers.ts';
import type { UploadItem } from './index.ts';
import { snapshotTree, uploadMissing } from './index.ts';

afterEach(cleanup);

describe('uploadMissing', () => {
  it('uploads each missing blob once, in few batches, and nothing the second time', async () => {
    const spec: Record<string, string> = { 'dup1.txt': 'same', 'dup2.txt': 'same' };
    for (let i = 0; i < 25; i++) spec[`f${i}.txt`] = `file ${i} `.repeat(i * 10);
    const root = makeTree(spec);
    const { manifest } = await snapshotTree(root, { statCache: false });
    const store = await openFsBlobStore({ root: tempDir() });
    const batches: number[] = [];
    const transport = {
      missing: (hashes: string[]) => store.missing(hashes),
      upload: async (batch: UploadItem[]) => {
        batches.push(batch.length);
        for (const item of batch) await store.put(item.open(), item.sha256);
      },
    };
    const first = await uploadMissing(manifest, root, transport, { batchFiles: 10 });
    expect(first).toMatchObject({ blobs: 26, missing: 26, requests: 1 + 3 });
    expect(batches).toEqual([10, 10, 6]);
    for (const e of manifest.entries)
      if (e.type === 'file') expect(await store.has(e.sha256)).toBe(true);
    const second = await uploadMissing(manifest, root, transport);
    expect(second).toMatchObject({ missing: 0, uploadedBytes: 0, requests: 1 });
  });

  it('splits batches by bytes', async () => {
    const root = makeTree({ a: 'x'.repeat(600), b: 'y'.repeat(600), c: 'z'.repeat(100) });
    const { manifest } = await snapshotTree(root, { statCache: false });
    const sizes: number[][] = [];
    await uploadMissing(
      manifest,
      root,
      {
        missing: (h) => Promise.resolve(h),
        upload: (b) => Promise.resolve(void sizes.push(b.map((i) => i.size))),
      },
      { batchBytes: 1000 },
    );
    expect(sizes).toEqual([[600], [600, 100]]);
  });
});
