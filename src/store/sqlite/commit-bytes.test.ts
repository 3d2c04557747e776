/**
 * @module store/sqlite/commit-bytes.test
 * Migration 3 (`commit bytes`) backfills the size of commits stored before it, from their
 * manifests; commits stored after it get their size on insert (the conformance suite checks that).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { canonicalJson, canonicalSha256, sha256Hex } from '../../core/hash.ts';
import type { TreeManifest } from '../../core/schemas/tree.ts';
import { applyMigrations, openSqliteDatabase } from './connection.ts';
import { STORE_MIGRATIONS, STORE_MIGRATIONS_TABLE } from './migrations.ts';
import { openSqliteStore } from './store.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fetchml-commit-bytes-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('commit bytes migration', () => {
  it('backfills the file sizes of commits stored before it', async () => {
    const path = join(dir, 'fetchml.db');
    const manifest: TreeManifest = {
      version: 1,
      entries: [
        { path: 'a.py', type: 'file', mode: 0o644, size: 1000, sha256: sha256Hex('a') },
        { path: 'b', type: 'symlink', target: 'a.py' },
        { path: 'c.bin', type: 'file', mode: 0o644, size: 234, sha256: sha256Hex('c') },
      ],
    };
    const old = openSqliteDatabase({ path });
    applyMigrations(old, STORE_MIGRATIONS_TABLE, STORE_MIGRATIONS.slice(0, 2));
    old
      .prepare('INSERT INTO commits (commit_id, manifest_json, created_at) VALUES (?, ?, ?)')
      .run(canonicalSha256(manifest), canonicalJson(manifest), new Date().toISOString());
    old.close();

    const store = await openSqliteStore({ path });
    try {
      await store.migrate();
      expect(await store.commitBytes()).toBe(1234);
    } finally {
      await store.close();
    }
  });
});
