/**
 * @module server/error-handler
 * The one place errors become responses (`{error: {code, message}}`):
 * - FetchmlError → its catalogue status and code;
 * - Fastify's own errors (body too large, bad JSON, unsupported content type) → their fetchml code;
 * - anything else → 500 ML_ERR_INTERNAL with a generic message: stacks and internal messages are
 *   logged, never sent.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { FetchmlError } from '../core/errors.ts';
import { redactDeep } from '../core/secrets.ts';

const FASTIFY_CODES: Record<string, (err: FastifyError) => FetchmlError> = {
  FST_ERR_CTP_BODY_TOO_LARGE: () =>
    new FetchmlError('ML_ERR_BODY_TOO_LARGE', 'request body is larger than the server accepts'),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: (err) =>
    new FetchmlError('ML_ERR_UNSUPPORTED_MEDIA_TYPE', err.message),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () =>
    new FetchmlError('ML_ERR_VALIDATION', 'body: length does not match Content-Length'),
  FST_ERR_CTP_EMPTY_JSON_BODY: () =>
    new FetchmlError('ML_ERR_VALIDATION', 'body: empty, but Content-Type is application/json'),
  FST_ERR_CTP_INVALID_JSON_BODY: () =>
    new FetchmlError('ML_ERR_VALIDATION', 'body: not valid JSON'),
};

/** Maps any thrown value to the FetchmlError that is sent. */
export function toResponseError(err: unknown): FetchmlError {
  if (err instanceof FetchmlError) return err;
  const fe = err as Partial<FastifyError>;
  if (typeof fe.code === 'string' && FASTIFY_CODES[fe.code]) {
    return FASTIFY_CODES[fe.code]!(fe as FastifyError);
  }
  if (err instanceof SyntaxError && fe.statusCode === 400) {
    return new FetchmlError('ML_ERR_VALIDATION', 'body: not valid JSON', { cause: err });
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode === 413) {
    return new FetchmlError(
      'ML_ERR_BODY_TOO_LARGE',
      'request body is larger than the server accepts',
    );
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new FetchmlError('ML_ERR_VALIDATION', fe.message ?? 'bad request', { cause: err });
  }
  return new FetchmlError('ML_ERR_INTERNAL', 'internal server error (see the server log)', {
    cause: err,
  });
}

/** Sends `err` in the wire shape. */
export function sendError(reply: FastifyReply, err: FetchmlError): FastifyReply {
  if (err.code === 'ML_ERR_UNAUTHORIZED') reply.header('www-authenticate', 'Bearer');
  // A key pasted into a URL or a field must not be echoed back (core/secrets).
  return reply
    .code(err.status)
    .type('application/json; charset=utf-8')
    .send(redactDeep(err.toJSON()));
}

/** Installs the error and not-found handlers on `app`. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const mapped = toResponseError(err);
    if (mapped.status >= 500) request.log.error({ err }, 'request failed');
    return sendError(reply, mapped);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(
      reply,
      new FetchmlError(
        'ML_ERR_NOT_FOUND',
        `no route ${request.method} ${request.url.split('?')[0]}`,
      ),
    ),
  );
}
