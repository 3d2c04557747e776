/**
 * @module data/catalog
 * Resolving what a plan names (`datasets: [{name, checksum}]`) against the catalog, with the
 * messages a researcher needs: the server checks it when a task is submitted (so an unknown
 * dataset or an unknown checksum blocks enqueueing), and the worker resolves it again when it
 * stages the job (the catalog is the source of truth at both moments).
 *
 * A dataset with no checksum (allowed only under the relaxed policy) resolves to the name's
 * latest version at that moment; the run manifest then records the checksum that was staged.
 */
import { FetchmlError } from '../core/errors.ts';
import type { DatasetVersion } from '../core/schemas/dataset.ts';
import type { MetadataStore } from '../store/types.ts';

/** A dataset as a plan names it. */
export interface DatasetRef {
  name: string;
  checksum: string | null;
}

/**
 * The catalog version `ref` names.
 * @throws FetchmlError ML_ERR_DATASET_NOT_FOUND naming the dataset and what to do: upload it when
 *   the name is unknown; pick a listed checksum when no version has the one given.
 */
export async function resolveDataset(
  store: Pick<MetadataStore, 'getDatasetVersion' | 'findDatasetVersion'>,
  ref: DatasetRef,
): Promise<DatasetVersion> {
  const latest = await store.getDatasetVersion(ref.name);
  if (!latest) {
    throw new FetchmlError(
      'ML_ERR_DATASET_NOT_FOUND',
      `dataset ${ref.name} is not in the catalog of this server: upload it with ` +
        `\`ml data upload <dir> --name ${ref.name}\` (ml data list shows what is there)`,
      { details: { dataset: ref.name } },
    );
  }
  if (ref.checksum === null) return latest;
  const found = await store.findDatasetVersion(ref.name, ref.checksum);
  if (found) return found;
  throw new FetchmlError(
    'ML_ERR_DATASET_NOT_FOUND',
    `dataset ${ref.name}: no version has checksum ${ref.checksum} (the latest, v${latest.version}, ` +
      `is ${latest.checksum}): fix the checksum in fetchml.yaml (ml data show ${ref.name} lists ` +
      `every version) or upload the data it names`,
    { details: { dataset: ref.name, checksum: ref.checksum, latest: latest.checksum } },
  );
}

/** Resolves every dataset of a plan; the first that does not resolve throws (see above). */
export async function resolveDatasets(
  store: Pick<MetadataStore, 'getDatasetVersion' | 'findDatasetVersion'>,
  refs: readonly DatasetRef[],
): Promise<DatasetVersion[]> {
  const out: DatasetVersion[] = [];
  for (const ref of refs) out.push(await resolveDataset(store, ref));
  return out;
}
