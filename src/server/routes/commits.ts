/**
 * @module server/routes/commits
 * Commits: a tree manifest named by its canonical sha256.
 *
 * `POST /v1/commits {manifest}` always answers 200 `{commit_id, missing}`. The commit is stored
 * only when `missing` is empty; otherwise nothing is stored and the client uploads the missing blobs
 * and posts the same manifest again. This lets `ml sync` skip the separate `blobs/missing` call
 * (one request answers both "what is the id" and "what do you lack"), and a commit can never
 * reference a blob the server does not hold.
 *
 * Hostile paths are refused before schema validation with ML_ERR_PATH_HOSTILE naming the entry, so
 * the client sees "refusing path ../x" rather than a generic validation error.
 */
import type { FastifyInstance } from 'fastify';

import { errors, FetchmlError } from '../../core/errors.ts';
import { canonicalSha256, isSha256Hex } from '../../core/hash.ts';
import { relativePathProblem, symlinkTargetProblem } from '../../core/paths.ts';
import { CreateCommitRequest } from '../../core/schemas/api.ts';
import type { TreeManifest } from '../../core/schemas/tree.ts';
import type { RouteContext } from '../context.ts';
import { parseRequest } from '../validate.ts';

/** Throws ML_ERR_PATH_HOSTILE for the first entry whose path (or link target) escapes the tree. */
export function assertNoHostilePaths(body: unknown): void {
  const entries = (body as { manifest?: { entries?: unknown } } | null)?.manifest?.entries;
  if (!Array.isArray(entries)) return;
  entries.forEach((entry: unknown, i) => {
    const e = entry as { path?: unknown; type?: unknown; target?: unknown } | null;
    if (typeof e?.path !== 'string') return;
    const problem = relativePathProblem(e.path);
    if (problem) {
      const err = errors.hostilePath(e.path, problem);
      throw new FetchmlError(err.code, `manifest.entries.${i}.path: ${err.message}`, {
        details: { field: `manifest.entries.${i}.path`, path: e.path },
      });
    }
    if (e.type === 'symlink' && typeof e.target === 'string') {
      const linkProblem = symlinkTargetProblem(e.path, e.target);
      if (linkProblem) {
        throw new FetchmlError(
          'ML_ERR_PATH_HOSTILE',
          `manifest.entries.${i}.target: ${linkProblem}`,
          { details: { field: `manifest.entries.${i}.target`, path: e.path } },
        );
      }
    }
  });
}

function fileHashes(manifest: TreeManifest): string[] {
  return manifest.entries.flatMap((e) => (e.type === 'file' ? [e.sha256] : []));
}

export function commitRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.post(
    '/v1/commits',
    { config: { permission: 'commits:write', audit: 'commit.create' } },
    async (request) => {
      assertNoHostilePaths(request.body);
      const { manifest } = parseRequest(CreateCommitRequest, request.body, 'body');
      const commit_id = canonicalSha256(manifest);
      const missing = await ctx.blobs.missing(fileHashes(manifest));
      if (missing.length === 0) await ctx.store.putCommit(commit_id, manifest);
      request.auditInfo = {
        target: commit_id,
        detail: { stored: missing.length === 0, missing: missing.length },
      };
      return { commit_id, missing };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/commits/:id',
    { config: { permission: 'commits:read' } },
    async (request) => {
      const { id } = request.params;
      const manifest = isSha256Hex(id) ? await ctx.store.getCommit(id) : null;
      if (!manifest) {
        throw new FetchmlError('ML_ERR_COMMIT_NOT_FOUND', `no such commit: ${id}`, {
          details: { commit_id: id },
        });
      }
      return { commit_id: id, manifest };
    },
  );
}
