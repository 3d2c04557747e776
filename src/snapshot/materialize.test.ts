import { createReadStream, lstatSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';

import type { BlobStore } from '../blobs/types.ts';
import { openFsBlobStore } from '../blobs/fs/index.ts';
import { FetchmlError } from '../core/errors.ts';
import { sha256Hex } from '../core/hash.ts';
import type { TreeManifest } from '../core/schemas/tree.ts';
import { cleanup, makeTree, tempDir } from '../../test/snapshot/helpers.ts';
import { materialize, snapshotTree } from './index.ts';

afterEach(cleanup);

async function storeWith(root: string, manifest: TreeManifest) {
  const store = await openFsBlobStore({ root: tempDir('fetchml-blobs-') });
  for (const e of manifest.entries) {
    if (e.type === 'file') await store.put(createReadStream(join(root, e.path)), e.sha256);
  }
  return store;
}

/** The same store seen through a transport without local files (like S3), with overrides. */
function remoteView(store: BlobStore, overrides: Partial<BlobStore> = {}): BlobStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'capabilities') return { localFiles: false };
      if (prop === 'localPath') return undefined;
      if (prop in overrides) return overrides[prop as keyof BlobStore];
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === 'function'
        ? (value as (...a: unknown[]) => unknown).bind(target)
        : value;
    },
  });
}

const project = {
  'train.py': 'print("train")\n',
  'run.sh': { exec: '#!/bin/sh\npython train.py\n' },
  'data/weights.bin': Uint8Array.from({ length: 100_000 }, (_, i) => i % 251),
  'data/dup.bin': 'same',
  'data/dup2.bin': 'same',
  latest: { link: 'data/weights.bin' },
  'data/up': { link: '../train.py' },
};

describe('materialize', () => {
  it.each(['auto', 'hardlink', 'copy'] as const)('round-trips a snapshot (%s)', async (link) => {
    const root = makeTree(project);
    const snap = await snapshotTree(root, { statCache: false });
    const store = await storeWith(root, snap.manifest);
    const dest = join(tempDir(), 'out');
    const stats = await materialize(snap.manifest, store, dest, { link });
    expect(stats).toMatchObject({ files: 5, symlinks: 2 });
    expect(stats.linked + stats.copied).toBe(5);
    if (link === 'copy') expect(stats.linked).toBe(0);
    else expect(stats.linked).toBe(4); // every non-executable file; run.sh is copied
    const again = await snapshotTree(dest, { statCache: false });
    expect(again.commitId).toBe(snap.commitId);
    expect(readlinkSync(join(dest, 'latest'))).toBe('data/weights.bin');
    expect(statSync(join(dest, 'run.sh')).mode & 0o777).toBe(0o755);
    const trainMode = statSync(join(dest, 'train.py')).mode & 0o777;
    expect(trainMode).toBe(link === 'copy' ? 0o644 : 0o444); // hard links share the blob's mode
    expect(lstatSync(join(dest, 'latest')).isSymbolicLink()).toBe(true);
  });

  it('streams and verifies copies from a store without local files', async () => {
    const root = makeTree(project);
    const snap = await snapshotTree(root, { statCache: false });
    const store = remoteView(await storeWith(root, snap.manifest));
    const dest = join(tempDir(), 'out');
    const stats = await materialize(snap.manifest, store, dest);
    expect(stats).toMatchObject({ linked: 0, copied: 5 });
    expect((await snapshotTree(dest, { statCache: false })).commitId).toBe(snap.commitId);
    await expect(
      materialize(snap.manifest, store, join(tempDir(), 'x'), { link: 'hardlink' }),
    ).rejects.toThrow(/local files/);
  });

  it('detects a blob whose bytes do not match its hash', async () => {
    const sha = sha256Hex('expected');
    const bad = remoteView(await openFsBlobStore({ root: tempDir() }), {
      get: () => Promise.resolve(Readable.from([Buffer.from('tampered')])),
    });
    const manifest: TreeManifest = {
      version: 1,
      entries: [{ path: 'a', type: 'file', mode: 0o644, size: 8, sha256: sha }],
    };
    await expect(materialize(manifest, bad, join(tempDir(), 'o'))).rejects.toMatchObject({
      code: 'ML_ERR_BLOB_HASH_MISMATCH',
    });
  });

  it('refuses a non-empty destination', async () => {
    const store = await openFsBlobStore({ root: tempDir() });
    const dest = tempDir();
    writeFileSync(join(dest, 'existing'), 'x');
    await expect(materialize({ version: 1, entries: [] }, store, dest)).rejects.toMatchObject({
      code: 'ML_ERR_CONFLICT',
    });
  });

  it('refuses manifests that would write or point outside the destination', async () => {
    const store = await openFsBlobStore({ root: tempDir() });
    const sha = sha256Hex('x');
    const bad: TreeManifest[] = [
      {
        version: 1,
        entries: [{ path: '../evil', type: 'file', mode: 0o644, size: 1, sha256: sha }],
      },
      {
        version: 1,
        entries: [{ path: '/etc/evil', type: 'file', mode: 0o644, size: 1, sha256: sha }],
      },
      { version: 1, entries: [{ path: 'a', type: 'symlink', target: '/etc' }] },
      { version: 1, entries: [{ path: 'a', type: 'symlink', target: '../..' }] },
      {
        version: 1,
        entries: [
          { path: 'a', type: 'symlink', target: 'x' },
          { path: 'a/b', type: 'file', mode: 0o644, size: 1, sha256: sha },
        ],
      },
      {
        version: 1,
        entries: [
          { path: 'p/q/s', type: 'symlink', target: 'up/..' },
          { path: 'p/q/up', type: 'symlink', target: '../..' },
        ],
      },
    ];
    for (const manifest of bad) {
      const dest = join(tempDir(), 'out');
      const err: unknown = await materialize(manifest, store, dest).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err, JSON.stringify(manifest)).toBeInstanceOf(FetchmlError);
      expect((err as FetchmlError).code).toBe('ML_ERR_PATH_HOSTILE');
    }
  });

  it('reports a missing blob', async () => {
    const store = await openFsBlobStore({ root: tempDir() });
    const manifest: TreeManifest = {
      version: 1,
      entries: [{ path: 'a', type: 'file', mode: 0o644, size: 1, sha256: sha256Hex('nope') }],
    };
    await expect(materialize(manifest, store, join(tempDir(), 'o'))).rejects.toMatchObject({
      code: expect.stringMatching(/NOT_FOUND/) as unknown,
    });
  });
});
