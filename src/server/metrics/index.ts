/**
 * @module server/metrics
 * `/metrics` for Prometheus, wired in one call ({@link installMetrics}): the registry over the
 * server's backends (server/metrics/registry), the HTTP hooks (server/metrics/http), the task
 * observer on the event bus (server/metrics/task-observer) and the route.
 *
 * Access: `GET /metrics` needs an API key whose role holds `metrics:read` (built-in: `admin`,
 * `viewer`). It is not public, even on loopback: the numbers name workers and show activity, and a
 * key is one line of Prometheus config (`authorization: {credentials_file: ...}`).
 */
import type { FastifyInstance } from 'fastify';

import { readBans } from '../../auth/bans.ts';
import type { BanList } from '../../auth/bans.ts';
import type { StatusCounts } from '../../core/schemas/status.ts';
import type { RouteContext } from '../context.ts';
import { workerView } from '../status/build.ts';
import { blobStatsCache } from './blob-stats.ts';
import { installHttpMetrics } from './http.ts';
import { createMetrics } from './registry.ts';
import type { ServerMetrics } from './registry.ts';
import { observeTasks } from './task-observer.ts';

export type { ServerMetrics } from './registry.ts';
export type { BlobStats } from './blob-stats.ts';

/** Options of {@link installMetrics}. */
export interface MetricsOptions {
  /** The ban file (`<home>/bans.json`), for the banned-addresses gauge. */
  bansPath: string;
  /** How often the cached blob numbers are recomputed, ms. @default 300000 */
  blobStatsRefreshMs?: number;
}

/** What {@link installMetrics} returns. */
export interface InstalledMetrics {
  metrics: ServerMetrics;
  /** Registers `GET /metrics` (after the auth hooks, so the route registry records it). */
  route(): void;
  /** `bans` with `fetchml_bans_total` counted as bans are issued. */
  countBans(bans: BanList): BanList;
  /** Stops the task observer and waits for work in flight. */
  close(): Promise<void>;
}

/** Task counts with the queue's `dead`. */
export async function taskCounts(
  ctx: Pick<RouteContext, 'store' | 'queue'>,
): Promise<StatusCounts> {
  const [counts, queue] = await Promise.all([ctx.store.countTasksByStatus(), ctx.queue.counts()]);
  return { ...counts, dead: queue.dead };
}

/** Builds the metrics and installs the HTTP hooks; `route()` then registers `GET /metrics`. */
export function installMetrics(
  app: FastifyInstance,
  ctx: RouteContext,
  options: MetricsOptions,
): InstalledMetrics {
  const blobStats = blobStatsCache({
    blobs: ctx.blobs,
    logicalBytes: () => ctx.store.commitBytes(),
    ...(options.blobStatsRefreshMs === undefined ? {} : { refreshMs: options.blobStatsRefreshMs }),
  });
  const metrics = createMetrics({
    taskCounts: () => taskCounts(ctx),
    async workers() {
      const [records, running] = await Promise.all([
        ctx.store.listWorkers(),
        ctx.store.listTasks({ status: ['running'], limit: 1000 }),
      ]);
      const now = ctx.clock();
      return records.map((w) => workerView(w, running, now));
    },
    async bannedAddresses() {
      const now = ctx.clock();
      return (await readBans(options.bansPath)).filter((b) => Date.parse(b.until) > now).length;
    },
    blobStats: () => blobStats.get(),
  });
  installHttpMetrics(app, metrics);
  const stopObserving = observeTasks(ctx.events, ctx.store, metrics);

  return {
    metrics,
    route() {
      app.get('/metrics', { config: { permission: 'metrics:read' } }, async (_request, reply) => {
        const text = await metrics.render();
        return reply.type(metrics.contentType).send(text);
      });
    },
    countBans(bans) {
      return {
        bannedUntil: (ip) => bans.bannedUntil(ip),
        async recordFailure(ip) {
          const ban = await bans.recordFailure(ip);
          if (ban) metrics.bans.inc();
          return ban;
        },
        close: () => bans.close(),
      };
    },
    async close() {
      await stopObserving();
      await blobStats.settled();
    },
  };
}
