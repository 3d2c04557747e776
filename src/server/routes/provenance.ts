/**
 * @module server/routes/provenance
 * Routes that make runs repeatable and portable (logic in server/provenance):
 *
 * - `POST /v1/tasks/:id/verify` (`tasks:read`, ownership as for reading the task): re-checks every
 *   recorded hash; answers a report item by item (`ml reproduce --verify`).
 * - `GET /v1/tasks/:id/export` (`tasks:read`, ownership): streams the task's export archive, an
 *   uncompressed tar (`ml export` compresses and checks it). `x-fetchml-export-bytes` says how much
 *   member content follows, for progress.
 * - `POST /v1/imports` (`tasks:import`): records an exported task whose blobs and snapshot commit
 *   were uploaded first (`ml import` verifies the archive, uploads, then calls this).
 */
import type { FastifyInstance } from 'fastify';
import type { Readable } from 'node:stream';

import { ImportTaskRequest } from '../../core/schemas/provenance.ts';
import { packArchive } from '../../export/pack.ts';
import type { RouteContext } from '../context.ts';
import { loadAccessibleTask, principalOf } from '../ownership.ts';
import { assertTaskId } from '../paths.ts';
import { exportMembers, importTask, verifyTask } from '../provenance.ts';
import { parseRequest } from '../validate.ts';

type IdParams = { Params: { id: string } };

export function provenanceRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.post<IdParams>(
    '/v1/tasks/:id/verify',
    { config: { permission: 'tasks:read' } },
    async (request) => {
      const id = assertTaskId(request.params.id);
      const task = await loadAccessibleTask(ctx, request, id);
      return verifyTask(ctx, task);
    },
  );

  app.get<IdParams>(
    '/v1/tasks/:id/export',
    { config: { permission: 'tasks:read' } },
    async (request, reply) => {
      const id = assertTaskId(request.params.id);
      const task = await loadAccessibleTask(ctx, request, id);
      const plan = await exportMembers(ctx, task);
      const { stream, done } = packArchive(plan.members, { mtime: plan.mtime });
      // A failure mid-stream destroys the stream, which aborts the response; the client's
      // verification then refuses the truncated archive.
      done.catch((err: unknown) => request.log.warn({ err, task_id: id }, 'export failed'));
      return reply
        .type('application/x-tar')
        .header('content-disposition', `attachment; filename="${id}.tar"`)
        .header('x-fetchml-export-bytes', String(plan.bytes))
        .send(stream satisfies Readable);
    },
  );

  app.post(
    '/v1/imports',
    { config: { permission: 'tasks:import', audit: 'task.import' } },
    async (request, reply) => {
      const input = parseRequest(ImportTaskRequest, request.body, 'body');
      const out = await importTask(ctx, input, principalOf(request));
      request.auditInfo = { target: out.task.id, detail: { created: out.created } };
      return reply.code(out.created ? 201 : 200).send(out);
    },
  );
}
