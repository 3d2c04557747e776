/**
 * @module server/app
 * {@link createServer}: the Fastify app over HTTPS with every route, the auth chain, the one error
 * handler and the WebSocket hub, built from injected backends. Building does not listen, so tests
 * drive it in-process with `app.inject()`; `listen()` opens the port and starts the lease reaper.
 */
import websocket from '@fastify/websocket';
import Fastify, { LogController } from 'fastify';
import type { FastifyInstance } from 'fastify';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

import { auditLogPath, openAuditLog } from '../audit/index.ts';
import type { AuditLog } from '../audit/index.ts';
import { openBanList } from '../auth/bans.ts';
import { LIMITS } from '../core/limits.ts';
import { compileAllowlist, LOCAL_NETWORKS } from '../auth/ip-allowlist.ts';
import { RateLimiter } from '../auth/rate-limit.ts';
import { loadRoles } from '../auth/roles.ts';
import type { RoleTable } from '../auth/roles.ts';
import { allowlistStep } from './auth/allowlist-step.ts';
import { ensureAdminKey } from './auth/api-keys.ts';
import { auditStep, installAuditHook } from './auth/audit-step.ts';
import { banStep } from './auth/ban-step.ts';
import { BENCHMARK_PRINCIPAL, UNAUTHENTICATED_FOR_BENCHMARK } from './auth/bench-switch.ts';
import type { BenchmarkOnlyOptions } from './auth/bench-switch.ts';
import type { AuthStep } from './auth/chain.ts';
import { installAuth } from './auth/install.ts';
import type { RouteInfo } from './auth/install.ts';
import { openFileKeyStore } from './auth/key-store.ts';
import type { KeyStore } from './auth/key-store.ts';
import { keyStep } from './auth/key-step.ts';
import { permissionStep } from './auth/permission-step.ts';
import { rateLimitStep } from './auth/rate-limit-step.ts';
import type { RouteContext } from './context.ts';
import { installErrorHandling } from './error-handler.ts';
import { installBodyLimits } from './limits.ts';
import { healthRoutes } from './health.ts';
import { installAccessLog } from './logging.ts';
import { installMetrics } from './metrics/index.ts';
import type { ServerMetrics } from './metrics/index.ts';
import { taskFiles } from './paths.ts';
import { startReaper } from './reaper.ts';
import { blobRoutes } from './routes/blobs.ts';
import { commitRoutes } from './routes/commits.ts';
import { compareRoutes } from './routes/compare.ts';
import { datasetRoutes } from './routes/datasets.ts';
import { fileRoutes } from './routes/files.ts';
import { planRoutes } from './routes/plan.ts';
import { provenanceRoutes } from './routes/provenance.ts';
import { statusRoutes } from './routes/status.ts';
import { taskRoutes } from './routes/tasks.ts';
import { userRoutes } from './routes/users.ts';
import { ensureTls } from './tls.ts';
import type { ServerDeps, ServerOptions } from './types.ts';
import { wsRoutes } from './ws/hub.ts';

/** The package version reported when the caller passes none. */
export const SERVER_VERSION = '0.1.0';
const MIB = 1024 * 1024;

/** What {@link createServer} returns. */
export interface FetchmlServer {
  /** The Fastify app: `app.inject()` works without listening. */
  app: FastifyInstance;
  /** sha256 fingerprint of the certificate (what clients pin). */
  fingerprint: string;
  /** Problems with the certificate an operator should see (uncovered names, expiry). */
  tlsWarnings: readonly string[];
  /** The admin API key when this start created it (first start), else null. Shown once. */
  adminKey: string | null;
  keys: KeyStore;
  roles: RoleTable;
  /** The Prometheus metrics served on `/metrics` (server/metrics). */
  metrics: ServerMetrics;
  /** Every registered route with the permission it declares. */
  routes: readonly RouteInfo[];
  /** The audit log (`<home>/logs/audit.log` unless injected). */
  audit: AuditLog;
  /** The routes whose requests are audited (`METHOD url`). */
  audited: ReadonlySet<string>;
  /** Opens the port (HTTPS) and starts the lease reaper; resolves with the URL. */
  listen(): Promise<{ url: string; port: number }>;
  /** Stops the reaper, closes WebSockets and the listener. Does not close the injected backends. */
  close(): Promise<void>;
}

/**
 * Builds the server: TLS material and the admin key are created under `home` on first start.
 * @example
 * const server = await createServer({ home }, { store, queue, blobs, events });
 * if (server.adminKey) console.log(`admin key: ${server.adminKey}`);
 * const { url } = await server.listen();
 */
export async function createServer(
  options: ServerOptions & BenchmarkOnlyOptions,
  deps: ServerDeps,
): Promise<FetchmlServer> {
  await mkdir(options.home, { recursive: true });
  const tls = await ensureTls(options.home, { ...options.tls, host: options.host });
  const keys = deps.keys ?? (await openFileKeyStore(join(options.home, 'keys.json')));
  const adminKey = await ensureAdminKey(keys, options.home);
  const audit = deps.audit ?? openAuditLog(auditLogPath(options.home), { clock: deps.clock });
  if (adminKey) {
    await audit.record({
      actor: 'system',
      action: 'user.add',
      target: 'admin',
      detail: { role: 'admin' },
    });
  }
  const security = options.security ?? {};
  const roles =
    deps.roles ?? (await loadRoles(security.rolesFile ?? join(options.home, 'roles.yaml')));
  const ctx: RouteContext = {
    store: deps.store,
    queue: deps.queue,
    blobs: deps.blobs,
    events: deps.events,
    files: deps.files ?? taskFiles(options.home),
    clock: deps.clock ?? Date.now,
    version: options.version ?? SERVER_VERSION,
    blobBodyLimit: Math.floor((options.blobBodyLimitMb ?? 8192) * MIB),
    roles,
  };

  const app = Fastify({
    https: { cert: tls.cert, key: tls.key },
    bodyLimit: Math.floor((options.bodyLimitMb ?? 64) * MIB),
    ...(options.logs
      ? {
          loggerInstance: options.logs.app,
          logController: new LogController({ disableRequestLogging: true }),
        }
      : { logger: options.logger ?? false }),
    forceCloseConnections: true,
  }) as unknown as FastifyInstance;

  const bansPath = join(options.home, 'bans.json');
  const banList = openBanList(bansPath, {
    threshold: security.banAfterFailures ?? 5,
    banMs: (security.banMinutes ?? 60) * 60_000,
    clock: ctx.clock,
  });
  // Before the auth hook and the routes: its hooks count every request, refusals included.
  const metrics = installMetrics(app, ctx, { bansPath });
  const steps: AuthStep[] = [
    allowlistStep(compileAllowlist(security.ipAllowlist ?? LOCAL_NETWORKS)),
    banStep(metrics.countBans(banList), join(options.home, 'logs', 'auth.log'), ctx.clock),
    keyStep(keys),
    permissionStep(roles),
    rateLimitStep(new RateLimiter(ctx.clock), roles, security.rateLimitPerMin ?? 30),
    auditStep(audit, keys),
  ];

  // Registered first: its onRequest hook (which sets `request.ws`) must run before the auth hook.
  await app.register(websocket, { options: { maxPayload: LIMITS.wsMessageBytes } });
  app.decorateRequest('principal', null);
  installErrorHandling(app);
  installBodyLimits(app, { json: app.initialConfig.bodyLimit!, blob: ctx.blobBodyLimit });
  const auth = installAuth(
    app,
    steps,
    options[UNAUTHENTICATED_FOR_BENCHMARK] === true ? { unauthenticated: BENCHMARK_PRINCIPAL } : {},
  );
  const audited = installAuditHook(app, audit);
  if (options.logs?.access) installAccessLog(app, options.logs.access);

  healthRoutes(app, ctx);
  metrics.route();
  statusRoutes(app, ctx);
  blobRoutes(app, ctx);
  commitRoutes(app, ctx);
  taskRoutes(app, ctx);
  fileRoutes(app, ctx);
  planRoutes(app, ctx);
  compareRoutes(app, ctx);
  datasetRoutes(app, ctx);
  provenanceRoutes(app, ctx);
  userRoutes(app, keys);
  wsRoutes(app, ctx, {
    pingIntervalMs: options.wsPingIntervalMs ?? 30_000,
    followPollMs: options.wsFollowPollMs,
    authenticate: (token, request) => auth.authenticate(token, request),
  });

  let stopReaper: (() => Promise<void>) | null = null;
  return {
    app,
    fingerprint: tls.fingerprint,
    tlsWarnings: tls.warnings,
    adminKey,
    keys,
    roles,
    metrics: metrics.metrics,
    routes: auth.routes,
    audit,
    audited,
    async listen() {
      const host = options.host ?? '127.0.0.1';
      await app.listen({ host, port: options.port ?? 9101 });
      const address = app.server.address();
      const port = typeof address === 'object' && address ? address.port : (options.port ?? 9101);
      const interval = options.reapIntervalMs ?? 5000;
      if (interval > 0) {
        stopReaper = startReaper(ctx, interval, (err) =>
          app.log.error({ err }, 'lease reaper failed'),
        );
      }
      const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
      const url = `https://${urlHost}:${port}`;
      await audit.record({
        actor: 'system',
        action: 'server.start',
        target: url,
        detail: { version: ctx.version, pid: process.pid },
      });
      app.log.info({ url, version: ctx.version }, 'server started');
      return { url, port };
    },
    async close() {
      await stopReaper?.();
      stopReaper = null;
      const listening = app.server.listening;
      await app.close();
      await metrics.close();
      banList.close();
      if (!deps.keys) keys.close?.();
      if (listening) {
        await audit.record({
          actor: 'system',
          action: 'server.stop',
          detail: { pid: process.pid },
        });
        app.log.info('server stopped');
      }
      if (!deps.audit) await audit.close();
    },
  };
}
