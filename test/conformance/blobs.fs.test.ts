/**
 * @module test/conformance/blobs.fs.test
 * Runs the BlobStore conformance suite on the filesystem backend, one fresh mkdtemp root per test.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { openFsBlobStore } from '../../src/blobs/fs/index.ts';
import { runBlobSuite } from './blobs.suite.ts';

runBlobSuite('fs', {
  create: async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fetchml-blobs-'));
    const blobs = await openFsBlobStore({ root: join(dir, 'objects') });
    return {
      blobs,
      cleanup: () => rm(dir, { recursive: true, force: true }),
      corrupt: async (sha256, bytes) => {
        const path = blobs.localPath(sha256);
        await chmod(path, 0o644);
        await writeFile(path, bytes);
        await chmod(path, 0o444);
      },
    };
  },
});
