/**
 * @module server/routes/blobs
 * Blob routes: which blobs are missing, single upload (`PUT`, raw bytes streamed into the store with
 * their expected hash) and the batched upload (framing in `server/blob-batch`). Uploads take their
 * own body limit, larger than the JSON one, enforced while streaming (and up front from
 * Content-Length), because the raw parsers below hand the request stream to the store unread.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';

import { FetchmlError } from '../../core/errors.ts';
import { isSha256Hex } from '../../core/hash.ts';
import { MissingBlobsRequest } from '../../core/schemas/api.ts';
import type { BlobBatchResponse, PutBlobResponse } from '../../core/schemas/api.ts';
import { BLOB_BATCH_CONTENT_TYPE, storeBlobBatch } from '../blob-batch.ts';
import { limitBytes, tooLarge } from '../byte-reader.ts';
import type { RouteContext } from '../context.ts';
import { parseRequest } from '../validate.ts';

function rawBody(request: FastifyRequest, limit: number): AsyncIterable<Buffer> {
  const declared = Number(request.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  const body = request.body;
  if (!(body instanceof Readable)) {
    throw new FetchmlError('ML_ERR_VALIDATION', 'body: expected raw bytes');
  }
  return limitBytes(body, limit);
}

/** Registers the blob routes (inside their own plugin scope, for the raw content-type parsers). */
export function blobRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.post('/v1/blobs/missing', { config: { permission: 'blobs:write' } }, async (request) => {
    const body = parseRequest(MissingBlobsRequest, request.body, 'body');
    return { missing: await ctx.blobs.missing(body.hashes) };
  });

  void app.register((scope, _opts, done) => {
    scope.addContentTypeParser(
      ['application/octet-stream', BLOB_BATCH_CONTENT_TYPE],
      (_request, payload, parsed) => parsed(null, payload),
    );

    scope.put<{ Params: { sha256: string } }>(
      '/v1/blobs/:sha256',
      { config: { permission: 'blobs:write', audit: 'blob.put' } },
      async (request, reply) => {
        const { sha256 } = request.params;
        if (!isSha256Hex(sha256)) {
          throw new FetchmlError(
            'ML_ERR_BLOB_INVALID_HASH',
            `sha256: ${JSON.stringify(sha256)} is not a lower-case sha256 hex digest`,
            { details: { field: 'sha256' } },
          );
        }
        const stat = await ctx.blobs.put(
          Readable.from(rawBody(request, ctx.blobBodyLimit)),
          sha256,
        );
        const out: PutBlobResponse = { sha256: stat.sha256, size: stat.size };
        request.auditInfo = { detail: { size: stat.size } };
        return reply.code(201).send(out);
      },
    );

    scope.post(
      '/v1/blobs/batch',
      { config: { permission: 'blobs:write', audit: 'blob.batch' } },
      async (request) => {
        const stored = await storeBlobBatch(ctx.blobs, rawBody(request, ctx.blobBodyLimit));
        const out: BlobBatchResponse = {
          stored: stored.map((s) => ({ sha256: s.sha256, size: s.size })),
          bytes: stored.reduce((n, s) => n + s.size, 0),
        };
        request.auditInfo = { detail: { blobs: out.stored.length, bytes: out.bytes } };
        return out;
      },
    );
    done();
  });
}
