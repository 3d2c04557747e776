/**
 * Filesystem-only behaviour of the blob store: on-disk layout, file modes, temp files and crash
 * cleanup, and a writer SIGKILLed mid-put. The backend-neutral contract is in
 * test/conformance/blobs.suite.ts.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  link,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { compileForChild } from '../../../test/support/ts-child.ts';
import { sha256Hex } from '../../core/hash.ts';
import type { FsBlobStore } from './index.ts';
import { openFsBlobStore } from './index.ts';
import { findMissing } from './missing.ts';

let dir: string;
let root: string;
let blobs: FsBlobStore;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fetchml-fsblobs-'));
  root = join(dir, 'objects');
  blobs = await openFsBlobStore({ root });
});
afterEach(async () => {
  await blobs.close();
  await rm(dir, { recursive: true, force: true });
});

const tempEntries = () => readdir(join(root, '.tmp'));

describe('layout and modes', () => {
  it('stores a blob at <root>/ab/cdef… as a read-only file', async () => {
    const { sha256 } = await blobs.put('layout');
    const path = join(root, sha256.slice(0, 2), sha256.slice(2));
    expect(blobs.localPath(sha256)).toBe(path);
    expect(await readFile(path, 'utf8')).toBe('layout');
    expect((await stat(path)).mode & 0o777).toBe(0o444);
    expect(await tempEntries()).toEqual([]);
  });

  it('leaves no temp file after a mismatch, a failing source or a duplicate', async () => {
    await expect(blobs.put('x', sha256Hex('y'))).rejects.toMatchObject({
      code: 'ML_ERR_BLOB_HASH_MISMATCH',
    });
    const failing = Readable.from(
      (async function* () {
        yield Buffer.alloc(10);
        await Promise.resolve();
        throw new Error('boom');
      })(),
    );
    await expect(blobs.put(failing)).rejects.toThrow('boom');
    await blobs.put('dup');
    await blobs.put(Readable.from(['dup']));
    expect(await tempEntries()).toEqual([]);
  });

  it('recreates a removed .tmp directory on the next put', async () => {
    await rm(join(root, '.tmp'), { recursive: true });
    const { sha256 } = await blobs.put('after rm');
    expect(await blobs.has(sha256)).toBe(true);
  });

  it('list skips .tmp and anything not named like a blob', async () => {
    const { sha256 } = await blobs.put('real');
    const h = sha256Hex('junk');
    await writeFile(join(root, '.tmp', h.slice(2)), 'in progress');
    await mkdir(join(root, 'zz'));
    await writeFile(join(root, 'zz', h.slice(2)), 'not a fan-out dir');
    await mkdir(join(root, h.slice(0, 2).toUpperCase() + 'X'));
    await mkdir(join(root, h.slice(0, 2)), { recursive: true });
    await writeFile(join(root, h.slice(0, 2), 'short'), 'bad name');
    await writeFile(join(root, h.slice(0, 2), `${h.slice(2)}.partial`), 'bad name');
    await writeFile(join(root, h.slice(0, 2), h.slice(2).toUpperCase()), 'uppercase');
    await writeFile(join(root, 'README'), 'a stray file');
    const listed: string[] = [];
    for await (const hash of blobs.list()) listed.push(hash);
    expect(listed).toEqual([sha256]);
    expect(await blobs.missing([h, sha256])).toEqual([h]);
  });

  it('a directory where a blob should be is not a blob', async () => {
    const h = sha256Hex('dir');
    await mkdir(join(root, h.slice(0, 2), h.slice(2)), { recursive: true });
    expect(await blobs.has(h)).toBe(false);
    expect(await blobs.missing([h])).toEqual([h]);
    expect(await findMissing(root, [h], 'readdir')).toEqual([h]);
  });

  it('missing() answers the same by readdir and by stat', async () => {
    const stored = await Promise.all(
      Array.from({ length: 200 }, (_, i) => blobs.put(`m${i}`).then((s) => s.sha256)),
    );
    const query = [...stored, ...Array.from({ length: 800 }, (_, i) => sha256Hex(`a${i}`))];
    const absent = query.slice(200);
    expect(await findMissing(root, query, 'readdir')).toEqual(absent);
    expect(await findMissing(root, query, 'stat')).toEqual(absent);
    expect(await findMissing(root, query, 'auto')).toEqual(absent);
  });

  it('a reader that opened a blob keeps reading it through a delete', async () => {
    const data = randomBytes(1024 * 1024);
    const { sha256 } = await blobs.put(data);
    const stream = await blobs.get(sha256);
    await blobs.delete(sha256);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
  });

  it('a hard link from a materialized tree shares the read-only inode', async () => {
    const { sha256 } = await blobs.put('linked');
    const linkPath = join(dir, 'tree-file');
    await link(blobs.localPath(sha256), linkPath);
    expect((await stat(linkPath)).mode & 0o777).toBe(0o444);
    expect((await stat(linkPath)).ino).toBe((await stat(blobs.localPath(sha256))).ino);
  });
});

describe('temp file cleanup', () => {
  it('init() removes temp files older than the stale age and keeps fresh ones', async () => {
    const old = join(root, '.tmp', 'old-writer');
    const fresh = join(root, '.tmp', 'fresh-writer');
    await writeFile(old, 'abandoned');
    await writeFile(fresh, 'in progress');
    const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
    await utimes(old, twoHoursAgo, twoHoursAgo);
    await blobs.init();
    expect(await tempEntries()).toEqual(['fresh-writer']);
    expect(await blobs.cleanTempFiles(0)).toEqual({ removed: 1, kept: 0 });
    expect(await tempEntries()).toEqual([]);
  });

  it('staleTempMs is configurable', async () => {
    await writeFile(join(root, '.tmp', 'a'), 'x');
    const past = new Date(Date.now() - 10_000);
    await utimes(join(root, '.tmp', 'a'), past, past);
    await openFsBlobStore({ root, staleTempMs: 5_000 });
    expect(await tempEntries()).toEqual([]);
  });
});

/**
 * Writes the child program: it imports the blob store compiled for child processes
 * (test/support/ts-child.ts), since Node 20 cannot run TypeScript.
 */
async function writeChildProgram(workDir: string, totalChunks: number, chunk: Buffer) {
  const [storePath] = (await compileForChild(workDir, ['src/blobs/fs/index.ts'])) as [string];
  const storeUrl = pathToFileURL(storePath).href;
  await writeFile(join(workDir, 'chunk.bin'), chunk);
  // Writes the first half of the stream, says so, then stalls until it is killed.
  await writeFile(
    join(workDir, 'child.mjs'),
    `import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { openFsBlobStore } from ${JSON.stringify(storeUrl)};
const [root, expected] = process.argv.slice(2);
const chunk = readFileSync(${JSON.stringify(join(workDir, 'chunk.bin'))});
const blobs = await openFsBlobStore({ root });
async function* source() {
  for (let i = 0; i < ${totalChunks}; i++) {
    if (i === ${totalChunks / 2}) {
      process.stdout.write('halfway\\n');
      await new Promise((resolve) => setTimeout(resolve, 60_000));
    }
    yield chunk;
  }
}
await blobs.put(Readable.from(source()), expected);
process.stdout.write('finished\\n');
`,
  );
}

describe('crash safety', () => {
  it('a writer SIGKILLed mid-put leaves no blob, only a temp file init() cleans', async () => {
    const chunk = randomBytes(1024 * 1024);
    const totalChunks = 64; // 64 MiB; the child stalls after 32 MiB
    const hash = createHash('sha256');
    for (let i = 0; i < totalChunks; i++) hash.update(chunk);
    const expected = hash.digest('hex');

    const workDir = join(dir, 'child');
    await mkdir(workDir);
    await writeChildProgram(workDir, totalChunks, chunk);
    const child = spawn(process.execPath, [join(workDir, 'child.mjs'), root, expected], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, signal) => resolve(signal)),
    );
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        if (d.toString().includes('halfway')) resolve();
      });
      void exited.then(() => reject(new Error(`child exited early: ${stderr}`)));
    });

    // Mid-write: the bytes so far are in a temp file, not under the blob's name.
    const temps = await tempEntries();
    expect(temps.length).toBe(1);
    const tempPath = join(root, '.tmp', temps[0] as string);
    expect((await stat(tempPath)).size).toBeGreaterThan(0);
    expect(await blobs.has(expected)).toBe(false);

    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    expect(await blobs.has(expected)).toBe(false);
    await expect(blobs.get(expected)).rejects.toMatchObject({ code: 'ML_ERR_BLOB_NOT_FOUND' });
    expect(await blobs.missing([expected])).toEqual([expected]);
    const listed: string[] = [];
    for await (const h of blobs.list()) listed.push(h);
    expect(listed).toEqual([]);

    // The leftover is kept while it could still be a live writer's, removed once stale.
    await blobs.init();
    expect(await tempEntries()).toEqual(temps);
    const longAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
    await utimes(tempPath, longAgo, longAgo);
    await blobs.init();
    expect(await tempEntries()).toEqual([]);

    // The same blob can still be stored afterwards.
    const whole = Buffer.concat(Array.from({ length: totalChunks }, () => chunk));
    expect((await blobs.put(whole, expected)).sha256).toBe(expected);
    expect((await blobs.verify(expected)).ok).toBe(true);
  }, 60_000);
});
