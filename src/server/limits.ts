/**
 * @module server/limits
 * Request-size limits enforced before a route runs (numbers in `core/limits`):
 *
 * - **Body size per route**: an `onRoute` hook gives every route a `bodyLimit` from
 *   {@link bodyLimitFor} unless the route sets its own — the configured `server.body_limit_mb` for
 *   routes that carry a tree manifest, the blob limit for uploads, 16 KiB for routes that take no
 *   body, 2 MiB for the other JSON routes. Over it: 413 ML_ERR_BODY_TOO_LARGE, read no further.
 * - **JSON nesting depth**: the JSON parser scans the text for nesting deeper than
 *   `LIMITS.jsonDepth` before parsing it — a megabyte of `[[[[…` otherwise costs seconds of parse
 *   and prototype-poisoning scan — and refuses it with 400 ML_ERR_BODY_TOO_DEEP. The parse itself is
 *   Fastify's default (secure-json-parse: `__proto__` and `constructor` keys refused).
 */
import type { FastifyInstance } from 'fastify';

import { FetchmlError } from '../core/errors.ts';
import { LIMITS } from '../core/limits.ts';

/** Routes whose body is a tree manifest (a whole project or dataset), allowed the configured size. */
export const MANIFEST_ROUTES: ReadonlySet<string> = new Set([
  'POST /v1/commits',
  'POST /v1/datasets',
  'POST /v1/plan',
  'POST /v1/imports',
]);

/** Routes whose body is streamed to the blob store (their own, larger limit). */
export const BLOB_ROUTES: ReadonlySet<string> = new Set([
  'PUT /v1/blobs/:sha256',
  'POST /v1/blobs/batch',
]);

/** Routes that take no body besides GET/HEAD/DELETE. */
const NO_BODY_ROUTES: ReadonlySet<string> = new Set(['POST /v1/tasks/:id/cancel']);

/** The body limits the server was configured with, in bytes. */
export interface BodyLimits {
  /** `server.body_limit_mb`: manifest-carrying routes, and the ceiling of every JSON route. */
  json: number;
  /** Blob uploads. */
  blob: number;
}

/** The body limit of `method url`, in bytes. */
export function bodyLimitFor(method: string, url: string, limits: BodyLimits): number {
  const route = `${method} ${url}`;
  if (BLOB_ROUTES.has(route)) return limits.blob;
  if (MANIFEST_ROUTES.has(route)) return limits.json;
  if (NO_BODY_ROUTES.has(route) || ['GET', 'HEAD', 'DELETE', 'OPTIONS'].includes(method)) {
    return Math.min(LIMITS.noBodyBytes, limits.json);
  }
  return Math.min(LIMITS.smallBodyBytes, limits.json);
}

/**
 * How deep `text` (JSON) nests objects and lists, stopping as soon as it passes `max`: returns the
 * depth reached (at most `max + 1`). Brackets inside strings do not count. Linear, no allocation.
 */
export function jsonDepth(text: string, max: number = LIMITS.jsonDepth): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > max) return deepest;
      }
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--;
    }
  }
  return deepest;
}

/** ML_ERR_BODY_TOO_DEEP for `where` (`body`, `message`). */
export function tooDeep(where: string): FetchmlError {
  return new FetchmlError(
    'ML_ERR_BODY_TOO_DEEP',
    `${where}: objects and lists nest more than ${LIMITS.jsonDepth} deep`,
    { details: { field: where, max_depth: LIMITS.jsonDepth } },
  );
}

/** Installs the per-route body limits and the depth-checking JSON parser (before any route). */
export function installBodyLimits(app: FastifyInstance, limits: BodyLimits): void {
  app.addHook('onRoute', (route) => {
    if (route.bodyLimit !== undefined) return;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    route.bodyLimit = Math.max(...methods.map((m) => bodyLimitFor(m, route.url, limits)));
  });
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'string' },
    (request, body: string | Buffer, done) => {
      const text = typeof body === 'string' ? body : body.toString('utf8');
      if (jsonDepth(text) > LIMITS.jsonDepth) return done(tooDeep('body'), undefined);
      void parse(request, text, done);
    },
  );
}
