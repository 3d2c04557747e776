/**
 * @module server/routes/files
 * What a task leaves on disk: its log (range reads), its run manifest, and its artifacts (listed in
 * the manifest, served from the blob store by sha256). Task ids are validated before they become
 * paths; artifact paths must be listed in the manifest, so a request can name nothing else.
 */
import type { FastifyInstance } from 'fastify';
import { readFile } from 'node:fs/promises';
import { posix } from 'node:path';

import { FetchmlError } from '../../core/errors.ts';
import { assertRelativePath } from '../../core/paths.ts';
import { LogRangeQuery } from '../../core/schemas/api.ts';
import type { ArtifactListResponse, LogRangeResponse } from '../../core/schemas/api.ts';
import { RunManifest } from '../../core/schemas/manifest.ts';
import { TERMINAL_STATUSES } from '../../core/schemas/task.ts';
import type { RouteContext } from '../context.ts';
import { readLogRange } from '../log-file.ts';
import { loadAccessibleTask } from '../ownership.ts';
import { assertTaskId } from '../paths.ts';
import { parseRequest } from '../validate.ts';

/** Reads and validates a task's run manifest (ML_ERR_MANIFEST_NOT_FOUND before it is written). */
export async function loadRunManifest(ctx: RouteContext, id: string): Promise<RunManifest> {
  let text: string;
  try {
    text = await readFile(ctx.files.manifestPath(id), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    throw new FetchmlError('ML_ERR_MANIFEST_NOT_FOUND', `task ${id} has no run manifest yet`, {
      details: { task_id: id },
    });
  }
  const parsed = RunManifest.safeParse(JSON.parse(text));
  if (!parsed.success) {
    throw new FetchmlError('ML_ERR_STORE_CORRUPT', `run manifest of task ${id} is invalid`, {
      cause: parsed.error,
      details: { task_id: id },
    });
  }
  return parsed.data;
}

type IdParams = { Params: { id: string } };

export function fileRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get<IdParams & { Querystring: unknown }>(
    '/v1/tasks/:id/logs',
    { config: { permission: 'tasks:read' } },
    async (request) => {
      const id = assertTaskId(request.params.id);
      const q = parseRequest(LogRangeQuery, request.query, 'query');
      const task = await loadAccessibleTask(ctx, request, id);
      const range = await readLogRange(ctx.files.logPath(id), q.offset, q.limit);
      const eof = range.next >= range.size;
      const out: LogRangeResponse = {
        task_id: id,
        status: task.status,
        offset: range.offset,
        next_offset: range.next,
        size: range.size,
        text: range.text,
        eof,
        finished: eof && TERMINAL_STATUSES.includes(task.status),
      };
      return out;
    },
  );

  app.get<IdParams>(
    '/v1/tasks/:id/manifest',
    { config: { permission: 'tasks:read' } },
    async (request) => {
      const id = assertTaskId(request.params.id);
      await loadAccessibleTask(ctx, request, id);
      return loadRunManifest(ctx, id);
    },
  );

  app.get<IdParams>(
    '/v1/tasks/:id/artifacts',
    { config: { permission: 'tasks:read' } },
    async (request) => {
      const id = assertTaskId(request.params.id);
      await loadAccessibleTask(ctx, request, id);
      const manifest = await loadRunManifest(ctx, id);
      const out: ArtifactListResponse = { task_id: id, artifacts: manifest.artifacts };
      return out;
    },
  );

  app.get<IdParams & { Params: { '*': string } }>(
    '/v1/tasks/:id/artifacts/*',
    { config: { permission: 'tasks:read' } },
    async (request, reply) => {
      const id = assertTaskId(request.params.id);
      const path = assertRelativePath(request.params['*']);
      await loadAccessibleTask(ctx, request, id);
      const manifest = await loadRunManifest(ctx, id);
      const artifact = manifest.artifacts.find((a) => a.path === path);
      if (!artifact) {
        throw new FetchmlError('ML_ERR_ARTIFACT_NOT_FOUND', `task ${id} has no artifact ${path}`, {
          details: { task_id: id, path },
        });
      }
      const stream = await ctx.blobs.get(artifact.sha256);
      const name = posix.basename(path).replace(/["\\\r\n]/g, '_');
      return reply
        .type('application/octet-stream')
        .header('content-length', artifact.size)
        .header('content-disposition', `attachment; filename="${name}"`)
        .header('x-fetchml-sha256', artifact.sha256)
        .send(stream);
    },
  );
}
