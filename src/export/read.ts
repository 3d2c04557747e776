/**
 * @module export/read
 * Reading an archive someone handed you, safely: every member header is checked before its bytes
 * are read, and the first problem stops the read with a named error.
 *
 * Refused (ML_ERR_ARCHIVE_HOSTILE): absolute names, `..` segments, empty or `.` segments,
 * backslashes and control characters in names; symlinks, hard links, character and block devices,
 * fifos and any other non-file type; a name that appears twice. Refused (ML_ERR_ARCHIVE_TOO_LARGE):
 * more than `maxMembers` members; more than `maxBytes` of content (checked against each header's
 * size before the member is read, and against the bytes gunzip actually produces); a gzip stream
 * that inflates more than `maxRatio` times its compressed size once past `ratioFloorBytes` (a
 * decompression bomb is stopped after a few MiB, not after filling the disk). Anything that is not
 * a tar (or a gzip of one) is ML_ERR_ARCHIVE_INVALID.
 *
 * The reader writes nothing: the caller gets each member's header and bytes and decides.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';

import { extract as tarExtract } from 'tar-stream';

import { FetchmlError, isFetchmlError } from '../core/errors.ts';
import { relativePathProblem } from '../core/paths.ts';
import { formatBytes } from '../core/units.ts';
import { DEFAULT_ARCHIVE_LIMITS } from './limits.ts';
import type { ArchiveLimits } from './limits.ts';

export { DEFAULT_ARCHIVE_LIMITS };
export type { ArchiveLimits };

/** A member's header, after the checks. */
export interface MemberHeader {
  name: string;
  size: number;
  mode: number;
}

/** What {@link readArchive} saw. */
export interface ReadSummary {
  /** File members (directory entries not counted). */
  members: number;
  bytes: number;
  compressed: boolean;
  /** Bytes of the archive file. */
  archiveBytes: number;
}

const hostile = (name: string, reason: string) =>
  new FetchmlError('ML_ERR_ARCHIVE_HOSTILE', `refusing member ${JSON.stringify(name)}: ${reason}`, {
    details: { member: name, reason },
  });

/** Why a member name is unsafe, or null. */
export function memberNameProblem(name: string): string | null {
  if (name.startsWith('/')) return 'absolute path';
  if (name.includes('\\')) return 'contains a backslash';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'contains a control character';
  return relativePathProblem(name);
}

const TYPE_REASONS: Record<string, string> = {
  symlink: 'symbolic links are not allowed',
  link: 'hard links are not allowed',
  'character-device': 'device files are not allowed',
  'block-device': 'device files are not allowed',
  fifo: 'fifos are not allowed',
  'contiguous-file': 'contiguous files are not allowed',
};

/** Counts bytes and enforces the size and ratio limits on what gunzip produces. */
function meter(
  limits: ArchiveLimits,
  compressedBytes: () => number,
  fail: (err: FetchmlError) => void,
): Transform {
  let bytes = 0;
  // Tar headers and padding add at most 1.5 KiB per member over the content bytes.
  const budget = limits.maxBytes + 1536 * (limits.maxMembers + 2);
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      bytes += chunk.length;
      let err: FetchmlError | null = null;
      const compressed = Math.max(1, compressedBytes());
      if (bytes > budget) {
        err = new FetchmlError(
          'ML_ERR_ARCHIVE_TOO_LARGE',
          `archive inflates past ${formatBytes(limits.maxBytes)} (the limit; raise it with --max-size)`,
          { details: { limit: 'bytes', max: limits.maxBytes } },
        );
      } else if (bytes > limits.ratioFloorBytes && bytes / compressed > limits.maxRatio) {
        err = new FetchmlError(
          'ML_ERR_ARCHIVE_TOO_LARGE',
          `archive inflates more than ${limits.maxRatio}x (${formatBytes(compressed)} became ` +
            `${formatBytes(bytes)}): refusing a likely decompression bomb (raise --max-ratio if it is not)`,
          { details: { limit: 'ratio', max: limits.maxRatio } },
        );
      }
      if (err) {
        fail(err);
        cb(err);
      } else cb(null, chunk);
    },
  });
}

/** True when the file starts with the gzip magic bytes. */
async function isGzip(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(2);
    const { bytesRead } = await fh.read(buf, 0, 2, 0);
    return bytesRead === 2 && buf[0] === 0x1f && buf[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/**
 * Streams the archive at `path`, calling `onMember` for every regular file with its checked header
 * and its bytes (which `onMember` must consume or leave; leftovers are drained). Directory entries
 * are checked and skipped. Rejects with the first problem (see the module doc).
 */
export async function readArchive(
  path: string,
  onMember: (header: MemberHeader, content: AsyncIterable<Buffer>) => Promise<void>,
  limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS,
): Promise<ReadSummary> {
  let gz: boolean;
  try {
    gz = await isGzip(path);
  } catch (cause) {
    throw new FetchmlError('ML_ERR_ARCHIVE_INVALID', `cannot read ${path}: ${String(cause)}`, {
      cause,
      details: { path },
    });
  }
  // A holder, not a `let`: TypeScript cannot see the callback below assign it.
  const state: { first: FetchmlError | null } = { first: null };
  const fail = (err: FetchmlError) => {
    state.first ??= err;
  };
  let compressed = 0;
  const source = createReadStream(path);
  source.on('data', (chunk) => {
    compressed += chunk.length;
  });
  const metered = meter(limits, () => compressed, fail);
  const extract = tarExtract();
  const seen = new Set<string>();
  let members = 0;
  let entries = 0;
  let bytes = 0;

  const consume = (async () => {
    for await (const entry of extract) {
      const h = entry.header;
      const name = h.type === 'directory' ? h.name.replace(/\/+$/, '') : h.name;
      entries++;
      if (entries > limits.maxMembers) {
        throw new FetchmlError(
          'ML_ERR_ARCHIVE_TOO_LARGE',
          `archive has more than ${limits.maxMembers} members (the limit)`,
          { details: { limit: 'members', max: limits.maxMembers } },
        );
      }
      const problem = memberNameProblem(name);
      if (problem) throw hostile(h.name, problem);
      const type = h.type ?? 'file';
      if (type !== 'file' && type !== 'directory') {
        throw hostile(name, TYPE_REASONS[type] ?? `member type ${type} is not allowed`);
      }
      if (seen.has(name)) throw hostile(name, 'appears twice in the archive');
      seen.add(name);
      if (type === 'directory') {
        entry.resume();
        continue;
      }
      const size = h.size ?? 0;
      if (bytes + size > limits.maxBytes) {
        throw new FetchmlError(
          'ML_ERR_ARCHIVE_TOO_LARGE',
          `member ${JSON.stringify(name)} (${formatBytes(size)}) takes the archive past ` +
            `${formatBytes(limits.maxBytes)} (the limit; raise it with --max-size)`,
          { details: { limit: 'bytes', max: limits.maxBytes, member: name } },
        );
      }
      bytes += size;
      members++;
      await onMember({ name, size, mode: h.mode ?? 0o644 }, entry as AsyncIterable<Buffer>);
      entry.resume();
    }
  })();
  const sink = extract as unknown as NodeJS.WritableStream;
  const piped = gz
    ? pipeline(source, createGunzip(), metered, sink)
    : pipeline(source, metered, sink);
  const outcome = await Promise.allSettled([consume, piped]);
  const failure = outcome.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failure) {
    source.destroy();
    extract.destroy();
    if (state.first) throw state.first;
    const reason: unknown = failure.reason;
    if (isFetchmlError(reason)) throw reason;
    const msg = reason instanceof Error ? reason.message : String(reason);
    throw new FetchmlError(
      'ML_ERR_ARCHIVE_INVALID',
      `${path} is not a readable ${gz ? 'gzip-compressed ' : ''}tar archive: ${msg}`,
      { cause: reason, details: { path } },
    );
  }
  return { members, bytes, compressed: gz, archiveBytes: compressed };
}
