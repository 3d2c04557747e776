/**
 * @module export/pack
 * Writing an export archive as a stream: members one after another into a tar (tar-stream), each
 * hashed while it passes, and `checksums.sha256` last, listing what was actually written. Nothing
 * is buffered but the small JSON members; a blob of any size streams from its source into the tar.
 *
 * A member whose source yields a different number of bytes than announced fails the archive (the
 * tar header already promised a size); a source that yields other bytes of the right length is
 * written and its real hash goes into the checksums, so the verifier (./verify.ts) names it.
 */
import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { pack as tarPack } from 'tar-stream';

import { FetchmlError } from '../core/errors.ts';
import { checksumLine, MEMBER } from './format.ts';

/** One member to write. */
export interface PackMember {
  name: string;
  size: number;
  /** 0o644 (default) or 0o755. */
  mode?: number;
  /** The bytes: in memory, or opened when the member is written. */
  data?: Uint8Array;
  open?: () => Promise<Readable | AsyncIterable<Uint8Array>>;
}

/** What {@link packArchive} wrote. */
export interface PackResult {
  members: number;
  /** Bytes of member content (tar headers and padding not counted). */
  bytes: number;
  /** sha256 of the `checksums.sha256` member (names the export). */
  checksums_sha256: string;
}

/**
 * Starts writing `members` (in order) and then `checksums.sha256` into a tar stream. Read `stream`
 * (pipe it to a file or an HTTP response); `done` settles when the last byte was produced, or
 * rejects (and the stream is destroyed) when a source fails.
 */
export function packArchive(
  members: Iterable<PackMember> | AsyncIterable<PackMember>,
  opts: { mtime: Date },
): { stream: Readable; done: Promise<PackResult> } {
  const pack = tarPack();
  const header = (name: string, size: number, mode = 0o644) => ({
    name,
    size,
    mode,
    mtime: opts.mtime,
    type: 'file' as const,
    uid: 0,
    gid: 0,
    uname: '',
    gname: '',
  });
  const write = async (
    m: PackMember,
    chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
  ): Promise<string> => {
    const hash = createHash('sha256');
    let seen = 0;
    const sizeError = () =>
      new FetchmlError(
        'ML_ERR_INTERNAL',
        `export member ${m.name}: expected ${m.size} bytes, its source gave ${seen}`,
        { details: { member: m.name } },
      );
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        seen += chunk.length;
        if (seen > m.size) return cb(sizeError());
        hash.update(chunk);
        cb(null, chunk);
      },
    });
    const entry = pack.entry(header(m.name, m.size, m.mode));
    try {
      await pipeline(Readable.from(chunks), counter, entry as unknown as NodeJS.WritableStream);
    } catch (err) {
      throw seen !== m.size ? sizeError() : err;
    }
    if (seen !== m.size) throw sizeError();
    return hash.digest('hex');
  };

  const done = (async (): Promise<PackResult> => {
    let lines = '';
    let count = 0;
    let bytes = 0;
    for await (const m of members) {
      const source = m.data ? [m.data] : ((await m.open?.()) ?? []);
      const sha = await write(m, source);
      lines += checksumLine(sha, m.name);
      count++;
      bytes += m.size;
    }
    const text = Buffer.from(lines);
    const sha = createHash('sha256').update(text).digest('hex');
    await write({ name: MEMBER.checksums, size: text.byteLength, data: text }, [text]);
    pack.finalize();
    return { members: count + 1, bytes: bytes + text.byteLength, checksums_sha256: sha };
  })();
  done.catch((err: unknown) => pack.destroy(err as Error));
  return { stream: pack as unknown as Readable, done };
}
