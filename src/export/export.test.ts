/**
 * Export archives: a packed export verifies; hostile archives (built with tar-stream) are refused
 * with a named error before anything is trusted — traversal, absolute names, links, devices,
 * duplicates, checksum mismatches, bombs, too many members — and semantic tampering (a file whose
 * bytes differ from the tree) is named.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { gzipSync } from 'node:zlib';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { FetchmlError } from '../core/errors.ts';
import type { ErrorCode } from '../core/errors.ts';
import { sha256Hex } from '../core/hash.ts';
import { MEMBER } from './format.ts';
import { packArchive } from './pack.ts';
import { DEFAULT_ARCHIVE_LIMITS, readArchive } from './read.ts';
import { validExportFiles, withChecksums, writeTar } from './test-fixture.ts';
import type { RawMember } from './test-fixture.ts';
import { verifyExport } from './verify.ts';

let dir: string;
let n = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fetchml-export-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function tarOf(members: readonly RawMember[], gzip = false): Promise<string> {
  const path = join(dir, `a${n++}.tar${gzip ? '.gz' : ''}`);
  await writeTar(path, members, gzip);
  return path;
}

async function refused(
  promise: Promise<unknown>,
  code: ErrorCode,
  ...fragments: string[]
): Promise<FetchmlError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, 'expected a refusal').toBeInstanceOf(FetchmlError);
  const e = err as FetchmlError;
  expect(e.code, e.message).toBe(code);
  for (const f of fragments) expect(e.message).toContain(f);
  return e;
}

describe('packArchive + verifyExport', () => {
  it('a packed export verifies, plain and gzip; packing twice gives the same bytes', async () => {
    const files = validExportFiles();
    const pack = async (path: string) => {
      const { stream, done } = packArchive(
        files.map(([name, data]) => ({ name, size: data.length, data })),
        { mtime: new Date('2030-01-01T00:00:02Z') },
      );
      await pipeline(stream, createWriteStream(path));
      return done;
    };
    const a = join(dir, 'packed-a.tar');
    const result = await pack(a);
    expect(result.members).toBe(files.length + 1);
    await pack(join(dir, 'packed-b.tar'));
    expect(sha256Hex(await readFile(a))).toBe(sha256Hex(await readFile(join(dir, 'packed-b.tar'))));

    const verified = await verifyExport(a);
    expect(verified.task.id).toBe('task_01JD3Q3Z4X6V0000000000000A');
    expect(verified.members.size).toBe(files.length + 1);
    expect(verified.checksums_sha256).toBe(result.checksums_sha256);
    expect(verified.log?.sha256).toBe(sha256Hex('hello\n'));

    const gz = join(dir, 'packed.tar.gz');
    await writeFile(gz, gzipSync(await readFile(a)));
    expect((await verifyExport(gz)).compressed).toBe(true);
  });

  it('a member whose source gives fewer bytes than announced fails the pack', async () => {
    const { stream, done } = packArchive([{ name: 'x', size: 10, data: Buffer.from('short') }], {
      mtime: new Date(0),
    });
    stream.on('error', () => undefined).resume();
    await refused(done, 'ML_ERR_INTERNAL', 'export member x', 'expected 10 bytes');
  });
});

describe('hostile archives are refused by name', () => {
  const ok = (name: string) => ({ header: { name, size: 2 }, data: Buffer.from('hi') });

  it.each([
    ['../escape', "contains a '..' segment"],
    ['snapshot/files/../../etc/passwd', "'..'"],
    ['/etc/passwd', 'absolute path'],
    ['a\\b', 'backslash'],
    ['a/./b', "'.' segment"],
    ['a\nb', 'control character'],
  ])('name %j', async (name, reason) => {
    const path = await tarOf([ok('export.json'), ok(name)]);
    const err = await refused(verifyExport(path), 'ML_ERR_ARCHIVE_HOSTILE', reason);
    expect(err.details).toMatchObject({ member: name });
  });

  it.each([
    ['symlink', { type: 'symlink', linkname: '/etc/passwd' }, 'symbolic links'],
    ['hard link', { type: 'link', linkname: 'export.json' }, 'hard links'],
    ['character device', { type: 'character-device', devmajor: 1, devminor: 3 }, 'device'],
    ['block device', { type: 'block-device', devmajor: 8, devminor: 0 }, 'device'],
    ['fifo', { type: 'fifo' }, 'fifos'],
  ] as const)('%s', async (_what, header, reason) => {
    const path = await tarOf([ok('export.json'), { header: { name: 'evil', ...header } }]);
    await refused(verifyExport(path), 'ML_ERR_ARCHIVE_HOSTILE', '"evil"', reason);
  });

  it('a duplicate name', async () => {
    const path = await tarOf([ok('task.json'), ok('plan.json'), ok('task.json')]);
    await refused(verifyExport(path), 'ML_ERR_ARCHIVE_HOSTILE', '"task.json"', 'twice');
  });

  it('a member whose bytes do not match checksums.sha256', async () => {
    const path = await tarOf(withChecksums(validExportFiles(), 'snapshot/files/train.py'));
    await refused(
      verifyExport(path),
      'ML_ERR_ARCHIVE_CHECKSUM',
      'snapshot/files/train.py: content hashes to',
    );
  });

  it('a snapshot file changed together with its checksum line (tree.json disagrees)', async () => {
    const files = validExportFiles().map(([name, data]): [string, Buffer] =>
      name === 'snapshot/files/train.py' ? [name, Buffer.from('print("evil")\n')] : [name, data],
    );
    const path = await tarOf(withChecksums(files));
    await refused(verifyExport(path), 'ML_ERR_ARCHIVE_CHECKSUM', 'snapshot file train.py');
  });

  it('an artifact left out, an extra member, a missing checksums file', async () => {
    const noArtifact = validExportFiles().filter(([name]) => name !== 'artifacts/model.json');
    await refused(
      verifyExport(await tarOf(withChecksums(noArtifact))),
      'ML_ERR_ARCHIVE_INVALID',
      'artifact model.json is recorded but artifacts/model.json is not in the archive',
    );
    const extra = [...validExportFiles(), ['notes.txt', Buffer.from('x')] as [string, Buffer]];
    await refused(
      verifyExport(await tarOf(withChecksums(extra))),
      'ML_ERR_ARCHIVE_INVALID',
      'notes.txt has no place',
    );
    const bare = validExportFiles().map(([name, data]) => ({
      header: { name, size: data.length },
      data,
    }));
    await refused(
      verifyExport(await tarOf(bare)),
      'ML_ERR_ARCHIVE_INVALID',
      'checksums.sha256 is missing',
    );
  });

  it('a gzip bomb is stopped by the ratio cap, long before it inflates', async () => {
    const zeros = Buffer.alloc(16 * 1024 * 1024);
    const path = await tarOf([{ header: { name: 'big', size: zeros.length }, data: zeros }], true);
    const err = await refused(
      verifyExport(path, { ...DEFAULT_ARCHIVE_LIMITS, ratioFloorBytes: 1024 * 1024 }),
      'ML_ERR_ARCHIVE_TOO_LARGE',
      'decompression bomb',
    );
    expect(err.details).toMatchObject({ limit: 'ratio' });
  });

  it('total size and member count caps', async () => {
    const path = await tarOf([ok('export.json'), ok('task.json'), ok('plan.json')]);
    const limits = { ...DEFAULT_ARCHIVE_LIMITS, maxBytes: 5 };
    await refused(verifyExport(path, limits), 'ML_ERR_ARCHIVE_TOO_LARGE', '"plan.json"', 'limit');
    await refused(
      verifyExport(path, { ...DEFAULT_ARCHIVE_LIMITS, maxMembers: 2 }),
      'ML_ERR_ARCHIVE_TOO_LARGE',
      'more than 2 members',
    );
  });

  it('not a tar at all, and a truncated gzip', async () => {
    const junk = join(dir, 'junk.tar');
    await writeFile(junk, Buffer.alloc(2048, 7));
    await refused(verifyExport(junk), 'ML_ERR_ARCHIVE_INVALID', 'not a readable');
    const gz = join(dir, 'cut.tar.gz');
    await writeFile(gz, gzipSync(Buffer.alloc(100_000, 1)).subarray(0, 50));
    await refused(verifyExport(gz), 'ML_ERR_ARCHIVE_INVALID', 'gzip-compressed');
  });

  it('the reader hands over nothing after a hostile member', async () => {
    const seen: string[] = [];
    const path = await tarOf([
      ok('a'),
      { header: { name: 'b', type: 'symlink', linkname: 'a' } },
      ok('c'),
    ]);
    await refused(
      readArchive(path, async (h, content) => {
        seen.push(h.name);
        for await (const _ of content) void _;
      }),
      'ML_ERR_ARCHIVE_HOSTILE',
    );
    expect(seen).toEqual(['a']);
    expect(MEMBER.checksums).toBe('checksums.sha256');
  });
});
