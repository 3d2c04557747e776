/**
 * @module server/health
 * Probes for supervisors and load balancers, both public (no API key; the IP allowlist and bans
 * still apply, as on every route):
 *
 * - `GET /healthz` — alive: the process answers HTTP. Touches no backend. `{ok: true, version}`.
 * - `GET /readyz` — ready to serve: the metadata store, the queue and the blob store each answer
 *   a cheap read within {@link CHECK_TIMEOUT_MS} (store: a commit lookup by key; queue: an entry
 *   lookup by key; blobs: the empty blob is present — stored once when missing, which also proves
 *   the store writable). 200 `{ok: true, version, checks}`; otherwise 503 ML_ERR_UNAVAILABLE whose
 *   message names each backend that failed, with `details.checks` (`ok` or the failure).
 */
import type { FastifyInstance } from 'fastify';

import { FetchmlError } from '../core/errors.ts';
import type { RouteContext } from './context.ts';
import { sendError } from './error-handler.ts';

/** How long one readiness check may take. */
export const CHECK_TIMEOUT_MS = 2000;
/** sha256 of zero bytes. */
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const NO_SUCH_COMMIT = '0'.repeat(64);

/** The backends /readyz checks, in the order it reports them. */
export const READY_CHECKS = ['store', 'queue', 'blobs'] as const;
export type ReadyCheck = (typeof READY_CHECKS)[number];

const NAMES: Record<ReadyCheck, string> = {
  store: 'metadata store',
  queue: 'queue',
  blobs: 'blob store',
};

async function withTimeout(work: () => Promise<unknown>, ms: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      work(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
    return 'ok';
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs every readiness check; `ok` or what failed, per backend. */
export async function readiness(
  ctx: Pick<RouteContext, 'store' | 'queue' | 'blobs'>,
  timeoutMs = CHECK_TIMEOUT_MS,
): Promise<Record<ReadyCheck, string>> {
  const [store, queue, blobs] = await Promise.all([
    withTimeout(() => ctx.store.hasCommit(NO_SUCH_COMMIT), timeoutMs),
    withTimeout(() => ctx.queue.get('readyz-probe'), timeoutMs),
    withTimeout(async () => {
      if (!(await ctx.blobs.has(EMPTY_SHA256))) await ctx.blobs.put('', EMPTY_SHA256);
    }, timeoutMs),
  ]);
  return { store, queue, blobs };
}

/** Registers `/healthz` and `/readyz` (both public). */
export function healthRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get('/healthz', { config: { public: true } }, () => ({ ok: true, version: ctx.version }));

  app.get('/readyz', { config: { public: true } }, async (_request, reply) => {
    const checks = await readiness(ctx);
    const failed = READY_CHECKS.filter((c) => checks[c] !== 'ok');
    if (failed.length === 0) return { ok: true, version: ctx.version, checks };
    return sendError(
      reply,
      new FetchmlError(
        'ML_ERR_UNAVAILABLE',
        `not ready: ${failed.map((c) => `${NAMES[c]} (${checks[c]})`).join('; ')}`,
        { details: { checks } },
      ),
    );
  });
}
