/**
 * @module blobs/fs/write
 * The write path of the filesystem store: stream into a temp file while hashing, then commit.
 *
 * Why this order: the hash is only known once the last byte is in, so bytes go to a temp file in
 * `<root>/.tmp/` first. Commit is fchmod 0444 → fsync(file) → rename into `<root>/ab/…` → fsync(dir):
 * a reader sees either no file or the complete, durable one, and a crash at any point leaves at
 * most a temp file (cleaned by `init()`). Blobs are read-only because materialized trees hard-link
 * them; a job writing through such a link would otherwise corrupt the store.
 *
 * Chunks are written in batches of about 1 MiB (one `writev` each) — many small chunks from a
 * socket would otherwise cost one syscall and one promise each.
 */
import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { access, mkdir, open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';

import { FetchmlError } from '../../core/errors.ts';
import { blobHashMismatch } from '../hash-check.ts';
import type { BlobStat } from '../types.ts';
import { hasErrno } from './errno.ts';
import { ensureDurableDir, fsyncDir } from './fsync.ts';
import { blobFilePath } from './layout.ts';
import { newTempPath } from './temp-files.ts';

/** Bytes gathered before one `writev`. */
const WRITE_BATCH_BYTES = 1024 * 1024;

/** Mode of every stored blob: read-only for everyone (see the module comment). */
export const BLOB_FILE_MODE = 0o444;

export type BlobData = Readable | Uint8Array | string;

function toBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  throw new FetchmlError(
    'ML_ERR_VALIDATION',
    `data: stream chunks must be Buffer, Uint8Array or string, got ${typeof chunk}`,
  );
}

/** Feeds every byte of `data` to `sink` in order (whole input for buffers, chunks for streams). */
async function forEachChunk(
  data: BlobData,
  sink: (chunk: Uint8Array) => Promise<void> | void,
): Promise<void> {
  if (typeof data === 'string' || data instanceof Uint8Array) {
    await sink(toBytes(data));
    return;
  }
  for await (const chunk of data as AsyncIterable<unknown>) await sink(toBytes(chunk));
}

/** Hashes `data` without storing it (used when the blob is already stored). */
export async function hashOnly(data: BlobData): Promise<BlobStat> {
  const hash = createHash('sha256');
  let size = 0;
  await forEachChunk(data, (chunk) => {
    hash.update(chunk);
    size += chunk.byteLength;
  });
  return { sha256: hash.digest('hex'), size };
}

async function writeFully(handle: FileHandle, chunks: Uint8Array[], total: number): Promise<void> {
  const { bytesWritten } = await handle.writev(chunks);
  if (bytesWritten === total) return;
  // Short write (rare on regular files): finish the remainder with plain writes.
  const rest = Buffer.concat(chunks).subarray(bytesWritten);
  let offset = 0;
  while (offset < rest.byteLength) {
    const { bytesWritten: n } = await handle.write(rest, offset);
    offset += n;
  }
}

async function streamToTemp(handle: FileHandle, data: BlobData, hash: Hash): Promise<number> {
  let size = 0;
  let batch: Uint8Array[] = [];
  let batchBytes = 0;
  const flush = async (): Promise<void> => {
    if (batchBytes === 0) return;
    const chunks = batch;
    const bytes = batchBytes;
    batch = [];
    batchBytes = 0;
    await writeFully(handle, chunks, bytes);
  };
  await forEachChunk(data, async (chunk) => {
    if (chunk.byteLength === 0) return;
    hash.update(chunk);
    size += chunk.byteLength;
    batch.push(chunk);
    batchBytes += chunk.byteLength;
    if (batchBytes >= WRITE_BATCH_BYTES) await flush();
  });
  await flush();
  return size;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch (err) {
    if (hasErrno(err, 'ENOENT')) return false;
    throw err;
  }
}

/** Creates the temp file, recreating `<root>/.tmp` if it went missing since `init()`. */
async function openTemp(tempPath: string): Promise<FileHandle> {
  try {
    return await open(tempPath, 'wx', BLOB_FILE_MODE);
  } catch (err) {
    if (!hasErrno(err, 'ENOENT')) throw err;
    await mkdir(dirname(tempPath), { recursive: true });
    return open(tempPath, 'wx', BLOB_FILE_MODE);
  }
}

/**
 * Stores `data` under `root` and returns its hash and size. `expected` must already be validated.
 * On a mismatch, or any failure, the temp file is removed and nothing is stored.
 */
export async function writeBlob(
  root: string,
  data: BlobData,
  expected: string | undefined,
): Promise<BlobStat> {
  // Already stored and we know which one: verify the bytes, but do not write them again.
  if (expected !== undefined && (await exists(blobFilePath(root, expected)))) {
    const stat = await hashOnly(data);
    if (stat.sha256 !== expected) throw blobHashMismatch(expected, stat.sha256, stat.size);
    return stat;
  }

  const tempPath = newTempPath(root);
  const handle = await openTemp(tempPath);
  let closed = false;
  let committed = false;
  try {
    const hash = createHash('sha256');
    const size = await streamToTemp(handle, data, hash);
    const sha256 = hash.digest('hex');
    if (expected !== undefined && sha256 !== expected) {
      throw blobHashMismatch(expected, sha256, size);
    }
    const finalPath = blobFilePath(root, sha256);
    if (await exists(finalPath)) return { sha256, size }; // finally{} discards the temp file
    await handle.chmod(BLOB_FILE_MODE); // independent of the umask
    await handle.sync();
    await handle.close();
    closed = true;
    await ensureDurableDir(dirname(finalPath));
    // A concurrent put of the same bytes may rename first; replacing an identical file is harmless.
    await rename(tempPath, finalPath);
    committed = true;
    await fsyncDir(dirname(finalPath));
    return { sha256, size };
  } finally {
    if (!closed) await handle.close().catch(() => undefined);
    if (!committed) await unlink(tempPath).catch(() => undefined);
  }
}
