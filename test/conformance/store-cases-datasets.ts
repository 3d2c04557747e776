/**
 * @module test/conformance/store-cases-datasets
 * Conformance cases: the dataset catalog (versions per name, content-addressed, atomic numbering).
 */
import { expect } from 'vitest';

import type { NewDatasetVersion } from '../../src/core/schemas/dataset.ts';
import type { MetadataStore } from '../../src/store/types.ts';
import { expectCode } from './queue-helpers.ts';
import { at, commitFixture } from './store-fixtures.ts';
import type { StoreCase } from './store-helpers.ts';

/** Stores a tree for `seed` and returns a version input naming it. */
async function tree(
  store: MetadataStore,
  name: string,
  seed: string,
  over: Partial<NewDatasetVersion> = {},
): Promise<NewDatasetVersion> {
  const { commitId, manifest } = commitFixture(seed);
  await store.putCommit(commitId, manifest);
  return {
    name,
    tree_id: commitId,
    size: 5,
    files: 2,
    creator: 'alice',
    created_at: at(0),
    ...over,
  };
}

export function datasetCases(it: StoreCase): void {
  it('versions count up per name; the same content gives the same version', async ({ store }) => {
    const v1 = await tree(store, 'mnist', 'a');
    const first = await store.addDatasetVersion(v1);
    expect(first.created).toBe(true);
    expect(first.dataset).toEqual({
      name: 'mnist',
      version: 1,
      checksum: `sha256:${v1.tree_id}`,
      tree_id: v1.tree_id,
      size: 5,
      files: 2,
      creator: 'alice',
      created_at: at(0),
    });
    const again = await store.addDatasetVersion({ ...v1, creator: 'bob', created_at: at(9) });
    expect(again).toEqual({ dataset: first.dataset, created: false });

    const v2 = await store.addDatasetVersion(
      await tree(store, 'mnist', 'b', { created_at: at(1) }),
    );
    expect(v2.dataset.version).toBe(2);
    // Another name numbers its own versions, even for content another name holds.
    const other = await store.addDatasetVersion({ ...v1, name: 'cifar' });
    expect(other.dataset).toMatchObject({ name: 'cifar', version: 1 });
    // Going back to old content is the old version, not a third one.
    expect((await store.addDatasetVersion(v1)).dataset.version).toBe(1);
  });

  it('reads: latest, by number, by checksum, all versions, the list', async ({ store }) => {
    const a = (await store.addDatasetVersion(await tree(store, 'mnist', 'a'))).dataset;
    const b = (await store.addDatasetVersion(await tree(store, 'mnist', 'b'))).dataset;
    const c = (await store.addDatasetVersion(await tree(store, 'cifar', 'c'))).dataset;
    expect(await store.getDatasetVersion('mnist')).toEqual(b);
    expect(await store.getDatasetVersion('mnist', 1)).toEqual(a);
    expect(await store.getDatasetVersion('mnist', 3)).toBeNull();
    expect(await store.getDatasetVersion('nope')).toBeNull();
    expect(await store.findDatasetVersion('mnist', a.checksum)).toEqual(a);
    expect(await store.findDatasetVersion('cifar', a.checksum)).toBeNull();
    expect(await store.listDatasetVersions('mnist')).toEqual([b, a]);
    expect(await store.listDatasetVersions('nope')).toEqual([]);
    expect(await store.listDatasets()).toEqual([
      { ...c, versions: 1 },
      { ...b, versions: 2 },
    ]);
  });

  it('a tree that is not a stored commit is ML_ERR_COMMIT_NOT_FOUND', async ({ store }) => {
    const { commitId } = commitFixture('z');
    const input = { ...(await tree(store, 'x', 'a')), tree_id: commitId };
    const err = await expectCode(store.addDatasetVersion(input), 'ML_ERR_COMMIT_NOT_FOUND');
    expect(err.message).toContain(commitId);
    expect(await store.listDatasets()).toEqual([]);
  });

  it('a bad name or size is ML_ERR_VALIDATION naming the field', async ({ store }) => {
    const ok = await tree(store, 'mnist', 'a');
    const err = await expectCode(
      store.addDatasetVersion({ ...ok, name: '../etc' }),
      'ML_ERR_VALIDATION',
    );
    expect(err.message).toContain('dataset.name');
    await expectCode(store.addDatasetVersion({ ...ok, size: -1 }), 'ML_ERR_VALIDATION');
    expect(await store.listDatasets()).toEqual([]);
  });

  it('two connections adding at once get distinct, consecutive versions', async (h) => {
    const other = await h.reopen();
    const inputs = await Promise.all(
      ['a', 'b', 'c', 'd'].map((seed) => tree(h.store, 'mnist', seed)),
    );
    const results = await Promise.all(
      inputs.map((input, i) => (i % 2 === 0 ? h.store : other).addDatasetVersion(input)),
    );
    expect(results.map((r) => r.dataset.version).sort()).toEqual([1, 2, 3, 4]);
    await other.close();
  });

  it('the catalog persists across close and reopen', async (h) => {
    const v = (await h.store.addDatasetVersion(await tree(h.store, 'mnist', 'a'))).dataset;
    await h.store.close();
    const again = await h.reopen();
    await again.migrate();
    expect(await again.getDatasetVersion('mnist')).toEqual(v);
    await again.close();
  });
}
