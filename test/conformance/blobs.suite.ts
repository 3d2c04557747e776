/**
 * @module test/conformance/blobs.suite
 * The one BlobStore conformance suite (DESIGN.md "Backends"): every backend runs it unchanged
 * through a factory, so "content-addressed, verified, atomic, idempotent" means the same thing on
 * the filesystem and on S3. Backend-only behaviour (temp files, file modes, crash cleanup) is
 * tested beside the backend, not here. A backend that cannot pass a test names it (the bare test
 * title) in `skip` with a reason (see {@link SuiteSkip}).
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';

import { afterEach, beforeEach, describe, expect } from 'vitest';

import type { FetchmlError } from '../../src/core/errors.ts';
import { sha256Hex } from '../../src/core/hash.ts';
import { fsckBlobs } from '../../src/blobs/fsck.ts';
import { collectGarbage } from '../../src/blobs/gc.ts';
import type { BlobStore } from '../../src/blobs/types.ts';
import { skipList } from './suite-helpers.ts';
import type { SuiteSkip } from './suite-helpers.ts';

/** What a backend factory hands the suite for one test. */
export interface BlobSuiteFixture {
  /** A fresh, empty, initialised store. */
  blobs: BlobStore;
  /** Removes everything the fixture created. */
  cleanup: () => Promise<void>;
  /**
   * Overwrites a stored blob's bytes behind the store's back (bit rot). Backends that cannot do
   * this leave it out and the corruption tests are skipped.
   */
  corrupt?: (sha256: string, bytes: Uint8Array) => Promise<void>;
}

export interface BlobSuiteOptions {
  create: () => Promise<BlobSuiteFixture>;
  /** Tests this backend skips, each group with the reason. Names must match test titles. */
  skip?: SuiteSkip[];
}

const MiB = 1024 * 1024;

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function hashStream(stream: Readable): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).byteLength;
  }
  return { sha256: hash.digest('hex'), size };
}

/** `count` chunks of `chunkSize` pseudo-random bytes, each distinct; same output every call. */
function* chunks(seed: Buffer, count: number): Generator<Buffer> {
  for (let i = 0; i < count; i++) {
    const chunk = Buffer.from(seed);
    chunk.writeUInt32BE(i, 0);
    yield chunk;
  }
}

function sha256OfChunks(seed: Buffer, count: number): string {
  const hash = createHash('sha256');
  for (const chunk of chunks(seed, count)) hash.update(chunk);
  return hash.digest('hex');
}

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

/** Asserts that `promise` rejects with a FetchmlError of `code` and returns it. */
async function rejectsWithCode(promise: Promise<unknown>, code: string): Promise<FetchmlError> {
  try {
    await promise;
  } catch (err) {
    expect((err as FetchmlError).code).toBe(code);
    return err as FetchmlError;
  }
  throw new Error(`expected a rejection with ${code}`);
}

const INVALID_HASHES = [
  '',
  'abc',
  'A'.repeat(64),
  'g'.repeat(64),
  '0'.repeat(63),
  '0'.repeat(65),
  `../${'0'.repeat(61)}`,
  ` ${'0'.repeat(63)}`,
];

/** Registers the conformance suite for one backend. */
export function runBlobSuite(name: string, options: BlobSuiteOptions): void {
  const skips = skipList(options.skip);

  describe(`BlobStore conformance: ${name}`, () => {
    let fixture: BlobSuiteFixture;
    let blobs: BlobStore;

    beforeEach(async () => {
      fixture = await options.create();
      blobs = fixture.blobs;
    });
    afterEach(async () => {
      await fixture.blobs.close();
      await fixture.cleanup();
    });

    const test = (title: string, fn: () => Promise<void>, timeout?: number): void =>
      skips.it(title, fn, { timeout });

    // --- put / get -------------------------------------------------------------------------

    test('round trip: Buffer', async () => {
      const data = randomBytes(4096);
      const stat = await blobs.put(data);
      expect(stat).toEqual({ sha256: sha256Hex(data), size: 4096 });
      expect(await readAll(await blobs.get(stat.sha256))).toEqual(data);
    });

    test('round trip: string is stored as UTF-8', async () => {
      const text = 'héllo, wörld — ✓\n';
      const stat = await blobs.put(text);
      expect(stat).toEqual({ sha256: sha256Hex(text), size: Buffer.byteLength(text, 'utf8') });
      expect((await readAll(await blobs.get(stat.sha256))).toString('utf8')).toBe(text);
    });

    test('round trip: Uint8Array that is not a Buffer', async () => {
      const data = new Uint8Array([1, 2, 3, 250]);
      const stat = await blobs.put(data);
      expect(stat.sha256).toBe(sha256Hex(data));
      expect([...(await readAll(await blobs.get(stat.sha256)))]).toEqual([1, 2, 3, 250]);
    });

    test('round trip: stream of many small chunks', async () => {
      const parts = Array.from({ length: 1000 }, (_, i) => Buffer.from(`line ${i}\n`));
      const whole = Buffer.concat(parts);
      const stat = await blobs.put(Readable.from(parts));
      expect(stat).toEqual({ sha256: sha256Hex(whole), size: whole.byteLength });
      expect(await readAll(await blobs.get(stat.sha256))).toEqual(whole);
    });

    test('round trip: empty blob', async () => {
      const empty = sha256Hex('');
      expect(await blobs.put(Buffer.alloc(0))).toEqual({ sha256: empty, size: 0 });
      expect(await blobs.put(Readable.from([]))).toEqual({ sha256: empty, size: 0 });
      expect(await blobs.put('', empty)).toEqual({ sha256: empty, size: 0 });
      expect(await blobs.has(empty)).toBe(true);
      expect((await readAll(await blobs.get(empty))).byteLength).toBe(0);
    });

    test('round trip: 50 MB stream', async () => {
      const seed = randomBytes(MiB);
      const expected = sha256OfChunks(seed, 50);
      const stat = await blobs.put(Readable.from(chunks(seed, 50)), expected);
      expect(stat).toEqual({ sha256: expected, size: 50 * MiB });
      expect(await hashStream(await blobs.get(expected))).toEqual({
        sha256: expected,
        size: 50 * MiB,
      });
    }, 120_000);

    test('put with the right expected hash stores the blob', async () => {
      const data = Buffer.from('expected');
      expect(await blobs.put(Readable.from([data]), sha256Hex(data))).toEqual({
        sha256: sha256Hex(data),
        size: data.byteLength,
      });
      expect(await blobs.has(sha256Hex(data))).toBe(true);
    });

    test('put with a wrong expected hash is rejected and stores nothing', async () => {
      const data = Buffer.from('the real bytes');
      const claimed = sha256Hex('other bytes');
      const err = await rejectsWithCode(
        blobs.put(Readable.from([data]), claimed),
        'ML_ERR_BLOB_HASH_MISMATCH',
      );
      expect(err.message).toContain(claimed);
      expect(err.message).toContain(sha256Hex(data));
      expect(await blobs.has(claimed)).toBe(false);
      expect(await blobs.has(sha256Hex(data))).toBe(false);
      expect(await collect(blobs.list())).toEqual([]);
    });

    test('put with an invalid expected hash is refused before reading', async () => {
      let read = false;
      const source = new Readable({
        read() {
          read = true;
          this.push(null);
        },
      });
      for (const bad of INVALID_HASHES) {
        await rejectsWithCode(blobs.put(source, bad), 'ML_ERR_BLOB_INVALID_HASH');
      }
      expect(read).toBe(false);
      expect(await collect(blobs.list())).toEqual([]);
    });

    test('a failing source stream stores nothing', async () => {
      const first = Buffer.alloc(100_000, 7);
      const source = Readable.from(
        (async function* () {
          yield first;
          await new Promise((r) => setTimeout(r, 5));
          throw new Error('source broke');
        })(),
      );
      await expect(blobs.put(source)).rejects.toThrow('source broke');
      expect(await collect(blobs.list())).toEqual([]);
      expect(await blobs.has(sha256Hex(first))).toBe(false);
    });

    test('put of a stored blob is a no-op that still verifies', async () => {
      const data = Buffer.from('twice');
      const hash = sha256Hex(data);
      await blobs.put(data);
      expect(await blobs.put(Readable.from([data]), hash)).toEqual({ sha256: hash, size: 5 });
      expect(await blobs.put(data)).toEqual({ sha256: hash, size: 5 });
      await rejectsWithCode(blobs.put('not twice', hash), 'ML_ERR_BLOB_HASH_MISMATCH');
      expect(await readAll(await blobs.get(hash))).toEqual(data);
      expect(await collect(blobs.list())).toEqual([hash]);
    });

    test('concurrent identical puts', async () => {
      const data = randomBytes(3 * MiB);
      const hash = sha256Hex(data);
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => {
          // Half with the expected hash, half without; all streamed in 256 KiB pieces.
          const pieces = Array.from({ length: 12 }, (_, j) =>
            data.subarray(j * 256 * 1024, (j + 1) * 256 * 1024),
          );
          return blobs.put(Readable.from(pieces), i % 2 === 0 ? hash : undefined);
        }),
      );
      for (const r of results) expect(r).toEqual({ sha256: hash, size: data.byteLength });
      expect(await collect(blobs.list())).toEqual([hash]);
      // Buffer.equals, not toEqual: deep equality walks megabytes byte by byte.
      expect((await readAll(await blobs.get(hash))).equals(data)).toBe(true);
    });

    test('concurrent different puts', async () => {
      const datas = Array.from({ length: 32 }, (_, i) => Buffer.from(`blob number ${i}`));
      const results = await Promise.all(datas.map((d) => blobs.put(d)));
      expect(results.map((r) => r.sha256)).toEqual(datas.map((d) => sha256Hex(d)));
      expect((await collect(blobs.list())).sort()).toEqual(datas.map((d) => sha256Hex(d)).sort());
    });

    test('get of an absent blob throws NOT_FOUND', async () => {
      const absent = sha256Hex('never stored');
      const err = await rejectsWithCode(blobs.get(absent), 'ML_ERR_BLOB_NOT_FOUND');
      expect(err.message).toContain(absent);
    });

    // --- lookups ---------------------------------------------------------------------------

    test('every method refuses invalid hashes', async () => {
      for (const bad of INVALID_HASHES) {
        await rejectsWithCode(blobs.get(bad), 'ML_ERR_BLOB_INVALID_HASH');
        await rejectsWithCode(blobs.stat(bad), 'ML_ERR_BLOB_INVALID_HASH');
        await rejectsWithCode(blobs.has(bad), 'ML_ERR_BLOB_INVALID_HASH');
        await rejectsWithCode(blobs.delete(bad), 'ML_ERR_BLOB_INVALID_HASH');
        await rejectsWithCode(blobs.missing([sha256Hex('ok'), bad]), 'ML_ERR_BLOB_INVALID_HASH');
        if (blobs.verify) {
          await rejectsWithCode(blobs.verify(bad), 'ML_ERR_BLOB_INVALID_HASH');
        }
        if (blobs.localPath) {
          expect(() => blobs.localPath?.(bad)).toThrow(/not a sha256/);
        }
      }
    });

    test('stat and has', async () => {
      const before = Date.now();
      const { sha256 } = await blobs.put('stat me');
      const info = await blobs.stat(sha256);
      expect(info).toMatchObject({ sha256, size: 7 });
      // Clocks of remote backends may differ a little; allow a minute either way.
      expect(Math.abs((info?.storedAtMs ?? 0) - before)).toBeLessThan(60_000);
      expect(await blobs.has(sha256)).toBe(true);
      const absent = sha256Hex('absent');
      expect(await blobs.stat(absent)).toBeNull();
      expect(await blobs.has(absent)).toBe(false);
    });

    test('missing: present, absent and duplicates, in input order', async () => {
      const a = (await blobs.put('a')).sha256;
      const b = (await blobs.put('b')).sha256;
      const x = sha256Hex('x');
      const y = sha256Hex('y');
      expect(await blobs.missing([x, a, y, x, b, y, a])).toEqual([x, y]);
      expect(await blobs.missing([a, b, a])).toEqual([]);
      expect(await blobs.missing([y, x, y])).toEqual([y, x]);
      expect(await blobs.missing([])).toEqual([]);
    });

    test('missing: 20k hashes in one call', async () => {
      const stored = await Promise.all(
        Array.from({ length: 300 }, (_, i) => blobs.put(`stored ${i}`)),
      );
      const storedSet = new Set(stored.map((s) => s.sha256));
      const query = [
        ...stored.map((s) => s.sha256),
        ...Array.from({ length: 19_700 }, (_, i) => sha256Hex(`absent ${i}`)),
      ].sort(); // interleave present and absent
      const answer = await blobs.missing(query);
      expect(answer).toEqual(query.filter((h) => !storedSet.has(h)));
    }, 60_000);

    test('delete is idempotent', async () => {
      const keep = (await blobs.put('keep')).sha256;
      const gone = (await blobs.put('gone')).sha256;
      await blobs.delete(gone);
      await blobs.delete(gone);
      await blobs.delete(sha256Hex('never stored'));
      expect(await blobs.has(gone)).toBe(false);
      await rejectsWithCode(blobs.get(gone), 'ML_ERR_BLOB_NOT_FOUND');
      expect(await collect(blobs.list())).toEqual([keep]);
      // Deleted blobs can be stored again.
      expect((await blobs.put('gone')).sha256).toBe(gone);
      expect(await blobs.has(gone)).toBe(true);
    });

    test('list yields every stored hash once', async () => {
      expect(await collect(blobs.list())).toEqual([]);
      const hashes = await Promise.all(
        Array.from({ length: 50 }, (_, i) => blobs.put(`list ${i}`).then((s) => s.sha256)),
      );
      await blobs.put('list 0'); // a duplicate put adds nothing
      const listed = await collect(blobs.list());
      expect(listed.length).toBe(50);
      expect([...listed].sort()).toEqual([...hashes].sort());
    });

    test('localPath gives the blob bytes when the backend has local files', async () => {
      const { sha256 } = await blobs.put('local');
      if (!blobs.capabilities.localFiles) {
        expect(typeof blobs.localPath).toBe('undefined');
        return;
      }
      const path = blobs.localPath?.(sha256);
      expect(typeof path).toBe('string');
      expect(await readFile(path as string, 'utf8')).toBe('local');
    });

    // --- verify / fsck ---------------------------------------------------------------------

    test('verify: intact blobs are ok, absent ones NOT_FOUND', async () => {
      if (!blobs.verify) return;
      const { sha256 } = await blobs.put('intact');
      expect(await blobs.verify(sha256)).toEqual({ sha256, ok: true, actual: sha256, size: 6 });
      await rejectsWithCode(blobs.verify(sha256Hex('nope')), 'ML_ERR_BLOB_NOT_FOUND');
    });

    test('verify and fsck report a corrupt blob', async () => {
      if (!blobs.verify || !fixture.corrupt) return;
      const good = (await blobs.put('good')).sha256;
      const bad = (await blobs.put('soon rotten')).sha256;
      await fixture.corrupt(bad, Buffer.from('rotten bytes'));
      const result = await blobs.verify(bad);
      expect(result).toEqual({
        sha256: bad,
        ok: false,
        actual: sha256Hex('rotten bytes'),
        size: 12,
      });
      const report = await fsckBlobs(blobs);
      expect(report.checked).toBe(2);
      expect(report.corrupt.map((c) => c.sha256)).toEqual([bad]);
      expect((await blobs.verify(good)).ok).toBe(true);
    });

    // --- garbage collection ----------------------------------------------------------------

    const HOUR = 60 * 60 * 1000;
    const later = () => Date.now() + 2 * HOUR;

    test('gc deletes only unreferenced blobs', async () => {
      const kept = (await blobs.put('referenced')).sha256;
      const dropped = (await blobs.put('unreferenced!')).sha256;
      const report = await collectGarbage(blobs, new Set([kept]), { graceMs: HOUR, now: later });
      expect(report).toMatchObject({ scanned: 2, referenced: 1, young: 0, deleted: [dropped] });
      expect(report.bytesFreed).toBe(13);
      expect(await collect(blobs.list())).toEqual([kept]);
    });

    test('gc accepts a predicate and a dry run deletes nothing', async () => {
      const a = (await blobs.put('a')).sha256;
      const b = (await blobs.put('b')).sha256;
      const dry = await collectGarbage(blobs, async (h) => Promise.resolve(h === a), {
        dryRun: true,
        graceMs: HOUR,
        now: later,
      });
      expect(dry).toMatchObject({ dryRun: true, deleted: [b], bytesFreed: 1 });
      expect(await blobs.has(b)).toBe(true);
      const wet = await collectGarbage(blobs, (h) => h === a, { graceMs: HOUR, now: later });
      expect(wet.deleted).toEqual([b]);
      expect(await blobs.has(b)).toBe(false);
      expect(await blobs.has(a)).toBe(true);
    });

    test('gc spares unreferenced blobs younger than the grace period', async () => {
      const fresh = (await blobs.put('just uploaded')).sha256;
      const report = await collectGarbage(blobs, new Set(), { graceMs: HOUR });
      expect(report).toMatchObject({ scanned: 1, young: 1, deleted: [] });
      expect(await blobs.has(fresh)).toBe(true);
    });

    skips.checkNames();
  });
}
