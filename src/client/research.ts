/**
 * @module client/research
 * The client calls of the dataset catalog and the provenance routes (`ml data`, `ml reproduce`,
 * `ml export`, `ml import`), spread into the client by `createClient`. Verification re-hashes
 * everything on the server, which can take long for big datasets: those calls wait up to
 * {@link VERIFY_TIMEOUT_MS} for the answer instead of the client's usual headers timeout.
 */
import type { Readable } from 'node:stream';

import {
  CreateDatasetResponse,
  DatasetListResponse,
  DatasetShowResponse,
  DatasetVerifyResponse,
} from '../core/schemas/dataset.ts';
import type { TreeManifest } from '../core/schemas/tree.ts';
import { ImportTaskResponse, TaskVerifyResponse } from '../core/schemas/provenance.ts';
import type { ImportTaskRequest } from '../core/schemas/provenance.ts';
import { call, send } from './http.ts';
import type { HttpDeps } from './http.ts';

/** How long a verify call waits for the server's answer. */
export const VERIFY_TIMEOUT_MS = 60 * 60 * 1000;

const id = encodeURIComponent;

/** The research calls over `http` (see the module doc). */
export function researchApi(http: HttpDeps) {
  return {
    /** Records `manifest` as a version of dataset `name`; `missing` lists blobs to upload first. */
    createDataset: (name: string, manifest: TreeManifest) =>
      call(http, CreateDatasetResponse, 'POST', '/v1/datasets', { body: { name, manifest } }),
    listDatasets: () => call(http, DatasetListResponse, 'GET', '/v1/datasets'),
    /** One version (default: the latest) and every version; `files`: its tree manifest too. */
    showDataset: (name: string, opts: { version?: number; files?: boolean } = {}) =>
      call(http, DatasetShowResponse, 'GET', `/v1/datasets/${id(name)}`, {
        query: { version: opts.version, files: opts.files ? '1' : undefined },
      }),
    /** The server re-hashes every blob of the version and its tree. */
    verifyDataset: (name: string, version?: number) =>
      call(http, DatasetVerifyResponse, 'POST', `/v1/datasets/${id(name)}/verify`, {
        query: { version },
        body: {},
        timeoutMs: VERIFY_TIMEOUT_MS,
      }),
    /** The server re-checks every hash the task recorded. */
    verifyTask: (taskId: string) =>
      call(http, TaskVerifyResponse, 'POST', `/v1/tasks/${id(taskId)}/verify`, {
        body: {},
        timeoutMs: VERIFY_TIMEOUT_MS,
      }),
    /** The task's export archive (an uncompressed tar) and how many content bytes it carries. */
    async exportTask(taskId: string): Promise<{ body: Readable; bytes: number | null }> {
      const res = await send(http, 'GET', `/v1/tasks/${id(taskId)}/export`);
      const declared = Number(res.headers['x-fetchml-export-bytes']);
      return { body: res.body, bytes: Number.isFinite(declared) ? declared : null };
    },
    /** Records an exported task whose blobs and commit were uploaded. */
    importTask: (request: ImportTaskRequest) =>
      call(http, ImportTaskResponse, 'POST', '/v1/imports', { body: request }),
  };
}
