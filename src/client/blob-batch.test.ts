import { describe, expect, it } from 'vitest';

import {
  batchLength,
  encodeBatch,
  FRAME_HEADER_BYTES,
  frameHeader,
  groupBatches,
} from './blob-batch.ts';
import type { BlobUpload } from './blob-batch.ts';

const blob = (size: number, sha = 'a'.repeat(64)): BlobUpload => ({
  sha256: sha,
  size,
  data: Buffer.alloc(size),
});

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('blob batch framing', () => {
  it('writes the hash and a big-endian length', () => {
    const h = frameHeader('f'.repeat(64), 258);
    expect(h.length).toBe(FRAME_HEADER_BYTES);
    expect(h.subarray(0, 64).toString()).toBe('f'.repeat(64));
    expect(h.readBigUInt64BE(64)).toBe(258n);
  });

  it('groups by bytes and count; a big blob goes alone', async () => {
    const batches = await all(groupBatches([blob(10), blob(10), blob(500), blob(10)], 200, 10));
    expect(batches.map((b) => b.map((x) => x.size))).toEqual([[10, 10], [500], [10]]);
    const counted = await all(groupBatches([blob(1), blob(1), blob(1)], 1e9, 2));
    expect(counted.map((b) => b.length)).toEqual([2, 1]);
  });

  it('encodes exactly batchLength bytes and refuses a blob whose size changed', async () => {
    const batch = [blob(3), blob(0)];
    const bytes = Buffer.concat(await all(encodeBatch(batch)));
    expect(bytes.length).toBe(batchLength(batch));
    const liar: BlobUpload = { sha256: 'b'.repeat(64), size: 5, data: Buffer.alloc(3) };
    await expect(all(encodeBatch([liar]))).rejects.toThrow(/changed while uploading/);
  });
});
