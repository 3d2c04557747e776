/**
 * @module client/client
 * {@link createClient}: the typed API client used by `ml` and the TUI. One method per route, every
 * answer validated with the same core schemas the server uses, every failure a FetchmlError with a
 * stable code (the server's, or ML_ERR_SERVER_UNREACHABLE / ML_ERR_CERT_CHANGED from the
 * transport). Connections are HTTPS with the server's certificate pinned (client/pin).
 */
import type { Readable } from 'node:stream';

import { z } from 'zod';

import { FetchmlError } from '../core/errors.ts';
import {
  ArtifactListResponse,
  BlobBatchResponse,
  CancelTaskResponse,
  CreateCommitResponse,
  HealthResponse,
  LogRangeResponse,
  MissingBlobsResponse,
  PutBlobResponse,
  SetPriorityResponse,
  StatusResponse,
  TaskListResponse,
  WhoAmIResponse,
} from '../core/schemas/api.ts';
import type {
  CreateTaskRequest,
  StatusQuery,
  TaskListQuery,
  WsServerMessage,
} from '../core/schemas/api.ts';
import { CompareResponse } from '../core/schemas/compare.ts';
import { PlanResponse } from '../core/schemas/api.ts';
import type { PlanRequest } from '../core/schemas/api.ts';
import { RunManifest } from '../core/schemas/manifest.ts';
import { Task } from '../core/schemas/task.ts';
import { TreeManifest } from '../core/schemas/tree.ts';
import {
  batchLength,
  BLOB_BATCH_CONTENT_TYPE,
  coalesce,
  encodeBatch,
  groupBatches,
} from './blob-batch.ts';
import type { BlobUpload, UploadProgress } from './blob-batch.ts';
import { call, createPinnedAgent, send } from './http.ts';
import { researchApi } from './research.ts';
import type { HttpDeps } from './http.ts';
import { CertPin } from './pin.ts';
import type { CaTrust, RepinHint } from './pin.ts';
import { subscribeTask } from './subscribe.ts';
import type { Subscription } from './subscribe.ts';

export interface ClientOptions {
  /** Server URL, e.g. `https://127.0.0.1:9101`. Must be https. */
  url: string;
  apiKey: string;
  /** Pinned certificate fingerprint (sha256, hex pairs). Unset: trust on first use. */
  fingerprint?: string;
  /** Called once with the fingerprint seen on the first connection when none was pinned. */
  onFirstFingerprint?: (fingerprint: string) => void;
  /** Appended to the ML_ERR_CERT_CHANGED message: how to re-pin. */
  repinHint?: RepinHint;
  /** Verify the certificate against this CA (or the system CAs) instead of pinning it. */
  ca?: CaTrust;
  /** Connect and response-headers timeout. @default 10000 */
  timeoutMs?: number;
}

const MISSING_CHUNK = 10_000;
const id = encodeURIComponent;
const CommitResponse = z.strictObject({ commit_id: z.string(), manifest: TreeManifest });

/**
 * Creates a client; nothing connects until the first call.
 * @example
 * const client = createClient({ url, apiKey, fingerprint });
 * const { tasks } = await client.listTasks({ status: 'running' });
 * await client.close();
 */
export function createClient(options: ClientOptions) {
  let parsed: URL;
  try {
    parsed = new URL(options.url);
  } catch (cause) {
    throw new FetchmlError('ML_ERR_CONFIG_INVALID', `server URL ${options.url} is not a URL`, {
      cause,
    });
  }
  if (parsed.protocol !== 'https:') {
    throw new FetchmlError(
      'ML_ERR_CONFIG_INVALID',
      `server URL must be https:// (got ${options.url})`,
    );
  }
  const baseUrl = parsed.origin;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const pin = new CertPin({
    url: baseUrl,
    fingerprint: options.fingerprint,
    onFirstFingerprint: options.onFirstFingerprint,
    repinHint: options.repinHint,
    ca: options.ca,
  });
  const agent = createPinnedAgent(pin, timeoutMs);
  const http: HttpDeps = { baseUrl, apiKey: options.apiKey, agent };

  return {
    url: baseUrl,
    /** The pinned (or first seen) certificate fingerprint; null before the first connection. */
    get fingerprint(): string | null {
      return pin.fingerprint;
    },

    health: () => call(http, HealthResponse, 'GET', '/healthz'),
    /** Who the API key belongs to, and the server version. */
    whoami: () => call(http, WhoAmIResponse, 'GET', '/v1/whoami'),

    /** Which of `hashes` the server lacks (any number; sent in chunks of 10,000). */
    async missingBlobs(hashes: readonly string[]): Promise<string[]> {
      const out: string[] = [];
      for (let i = 0; i < hashes.length; i += MISSING_CHUNK) {
        const body = { hashes: hashes.slice(i, i + MISSING_CHUNK) };
        out.push(
          ...(await call(http, MissingBlobsResponse, 'POST', '/v1/blobs/missing', { body }))
            .missing,
        );
      }
      return out;
    },

    /** Uploads one blob (streamed); the server verifies it against `sha256`. */
    putBlob: (sha256: string, data: Readable | Uint8Array, size?: number) =>
      call(http, PutBlobResponse, 'PUT', `/v1/blobs/${id(sha256)}`, {
        raw: {
          body: data,
          type: 'application/octet-stream',
          ...(size !== undefined
            ? { length: size }
            : data instanceof Uint8Array
              ? { length: data.byteLength }
              : {}),
        },
      }),

    /**
     * Uploads blobs in batched requests (a few for thousands of small files); `onProgress` is called
     * after each blob is sent. Returns the totals.
     */
    async uploadBlobs(
      blobs: Iterable<BlobUpload> | AsyncIterable<BlobUpload>,
      onProgress?: (progress: UploadProgress) => void,
    ): Promise<UploadProgress> {
      const progress: UploadProgress = { blobs: 0, bytes: 0 };
      for await (const batch of groupBatches(blobs)) {
        const body = coalesce(
          encodeBatch(batch, (blob) => {
            progress.blobs += 1;
            progress.bytes += blob.size;
            onProgress?.({ ...progress });
          }),
        );
        await call(http, BlobBatchResponse, 'POST', '/v1/blobs/batch', {
          raw: { body, type: BLOB_BATCH_CONTENT_TYPE, length: batchLength(batch) },
        });
      }
      return progress;
    },

    /** Registers a commit; stored only when `missing` is empty (upload those, then call again). */
    createCommit: (manifest: TreeManifest) =>
      call(http, CreateCommitResponse, 'POST', '/v1/commits', { body: { manifest } }),
    getCommit: (commitId: string) =>
      call(http, CommitResponse, 'GET', `/v1/commits/${id(commitId)}`),

    createTask: (request: CreateTaskRequest) =>
      call(http, Task, 'POST', '/v1/tasks', { body: request }),
    listTasks: (query: Partial<TaskListQuery> = {}) =>
      call(http, TaskListResponse, 'GET', '/v1/tasks', {
        query: query as Record<string, string | number | readonly string[] | undefined>,
      }),
    getTask: (taskId: string) => call(http, Task, 'GET', `/v1/tasks/${id(taskId)}`),
    cancelTask: (taskId: string) =>
      call(http, CancelTaskResponse, 'POST', `/v1/tasks/${id(taskId)}/cancel`, { body: {} }),
    /** Changes the priority of a queued task (ML_ERR_TASK_STATE once it runs). */
    setTaskPriority: (taskId: string, priority: number) =>
      call(http, SetPriorityResponse, 'POST', `/v1/tasks/${id(taskId)}/priority`, {
        body: { priority },
      }),
    /** Counts, workers, the relevant tasks and the queue with positions and wait reasons. */
    status: (query: StatusQuery = {}) => call(http, StatusResponse, 'GET', '/v1/status', { query }),

    /** A byte range of the task's log; continue from `next_offset` until `finished`. */
    readLogs: (taskId: string, range: { offset?: number; limit?: number } = {}) =>
      call(http, LogRangeResponse, 'GET', `/v1/tasks/${id(taskId)}/logs`, { query: range }),
    getManifest: (taskId: string) =>
      call(http, RunManifest, 'GET', `/v1/tasks/${id(taskId)}/manifest`),
    /** The plan and preflight of a submission, without queueing (`ml explain`, `ml validate`). */
    planTask: (request: PlanRequest) =>
      call(http, PlanResponse, 'POST', '/v1/plan', { body: request }),
    /** Two runs side by side (`ml compare`); `diff`: unified diffs of changed text files. */
    compare: (a: string, b: string, opts: { diff?: boolean } = {}) =>
      call(http, CompareResponse, 'GET', '/v1/compare', {
        query: { a, b, ...(opts.diff ? { diff: 'true' } : {}) },
      }),
    listArtifacts: (taskId: string) =>
      call(http, ArtifactListResponse, 'GET', `/v1/tasks/${id(taskId)}/artifacts`),
    /** Streams an artifact's bytes (the server names its sha256 in `x-fetchml-sha256`). */
    async downloadArtifact(taskId: string, path: string): Promise<Readable> {
      const encoded = path.split('/').map(id).join('/');
      const res = await send(http, 'GET', `/v1/tasks/${id(taskId)}/artifacts/${encoded}`);
      return res.body;
    },

    /** Follows a task (or `'*'`) over the WebSocket; see client/subscribe. */
    subscribe(
      taskId: string,
      opts: { logOffset?: number },
      onEvent: (message: WsServerMessage) => void,
    ): Subscription {
      return subscribeTask(
        { baseUrl, apiKey: options.apiKey, pin, timeoutMs },
        taskId,
        opts,
        onEvent,
      );
    },

    /** Datasets, verification, export and import (client/research). */
    ...researchApi(http),

    /** Closes pooled connections. */
    close: () => agent.close(),
  };
}

/** The client {@link createClient} returns. */
export type FetchmlClient = ReturnType<typeof createClient>;
