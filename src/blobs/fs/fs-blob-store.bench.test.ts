/**
 * Opt-in measurements of the filesystem blob store (`ML_BENCH=1 npx vitest run
 * src/blobs/fs/fs-blob-store.bench`): put throughput against a baseline of hashing plus a plain
 * write+fsync of the same bytes, and missing() for 20k hashes by readdir, by stat and by the
 * hybrid the store uses. Numbers are printed; nothing is asserted beyond correctness.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';

import { describe, expect, it } from 'vitest';

import { sha256Hex } from '../../core/hash.ts';
import { openFsBlobStore } from './index.ts';
import { findMissing, forEachLimit } from './missing.ts';

const enabled = process.env['ML_BENCH'] === '1';
const MiB = 1024 * 1024;

async function time<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const result = await fn();
  return [performance.now() - t0, result];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

function* pieces(block: Buffer, total: number, size: number): Generator<Buffer> {
  for (let off = 0, i = 0; off < total; off += size, i++) {
    const piece = Buffer.from(block.subarray(off % block.length, (off % block.length) + size));
    piece.writeUInt32BE(i, 0);
    yield piece;
  }
}

describe.skipIf(!enabled)('fs blob store benchmarks', () => {
  it('put throughput', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fetchml-bench-'));
    try {
      const blobs = await openFsBlobStore({ root: join(dir, 'objects') });
      const total = 256 * MiB;
      const block = randomBytes(4 * MiB);
      for (const size of [MiB, 64 * 1024, 16 * 1024]) {
        const [hashMs] = await time(() => {
          const h = createHash('sha256');
          for (const p of pieces(block, total, size)) h.update(p);
          return Promise.resolve(h.digest('hex'));
        });
        const [baseMs] = await time(async () => {
          const h = createHash('sha256');
          const fh = await open(join(dir, 'baseline'), 'w');
          for await (const p of Readable.from(pieces(block, total, size))) {
            h.update(p as Buffer);
            await fh.write(p as Buffer);
          }
          await fh.sync();
          await fh.close();
        });
        await rm(join(dir, 'baseline'));
        const [putMs, stat] = await time(() =>
          blobs.put(Readable.from(pieces(block, total, size))),
        );
        const [againMs] = await time(() =>
          blobs.put(Readable.from(pieces(block, total, size)), stat.sha256),
        );
        const mbps = (ms: number) => ((total / MiB / ms) * 1000).toFixed(0);
        console.log(
          `put 256 MiB in ${size / 1024} KiB chunks: put ${mbps(putMs)} MB/s; ` +
            `baseline hash+write+fsync ${mbps(baseMs)} MB/s (put/baseline ${(putMs / baseMs).toFixed(2)}); ` +
            `hash only ${mbps(hashMs)} MB/s; re-put of stored blob ${mbps(againMs)} MB/s`,
        );
        await blobs.delete(stat.sha256);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 300_000);

  it('missing() for 20k hashes', async () => {
    for (const storeSize of [20_000, 400_000]) {
      const dir = await mkdtemp(join(tmpdir(), 'fetchml-bench-'));
      try {
        const root = join(dir, 'objects');
        const blobs = await openFsBlobStore({ root });
        // Fill the fan-out directly (content is irrelevant to lookups).
        const stored = Array.from({ length: storeSize }, (_, i) => sha256Hex(`s${i}`));
        for (let i = 0; i < 256; i++) {
          await mkdir(join(root, i.toString(16).padStart(2, '0')), { recursive: true });
        }
        await forEachLimit(stored, 64, (h) => writeFile(join(root, h.slice(0, 2), h.slice(2)), ''));
        const query = [
          ...stored.slice(0, 10_000),
          ...Array.from({ length: 10_000 }, (_, i) => sha256Hex(`a${i}`)),
        ];
        const absent = query.slice(10_000);
        const results: string[] = [];
        for (const strategy of ['readdir', 'stat', 'auto'] as const) {
          await findMissing(root, query, strategy); // warm the cache
          const runs: number[] = [];
          for (let r = 0; r < 5; r++) {
            const [ms, answer] = await time(() => findMissing(root, query, strategy));
            expect(answer).toEqual(absent);
            runs.push(ms);
          }
          results.push(`${strategy} ${median(runs).toFixed(0)} ms`);
        }
        const apiRuns: number[] = [];
        for (let r = 0; r < 5; r++) apiRuns.push((await time(() => blobs.missing(query)))[0]);
        const apiMs = median(apiRuns);
        console.log(
          `missing(20k: 10k present) in a store of ${storeSize}: ${results.join(', ')}; ` +
            `missing() incl. validation ${apiMs.toFixed(0)} ms`,
        );
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
  }, 600_000);
});
