/**
 * @module server/types
 * What the server is built from. Every backend arrives through {@link ServerDeps} (dependency
 * injection only): routes never import a backend, so the same app runs on SQLite + fs in
 * `fetchml up`, on PostgreSQL + S3 in production, and on temp-dir backends under `app.inject`.
 */
import type { Logger } from 'pino';

import type { AuditLog } from '../audit/index.ts';
import type { BlobStore } from '../blobs/types.ts';
import type { EventBus } from '../events/types.ts';
import type { JobQueue } from '../queue/types.ts';
import type { MetadataStore } from '../store/types.ts';
import type { Permission, RoleTable } from '../auth/roles.ts';
import type { KeyStore } from './auth/key-store.ts';
import type { AccessLog } from './logging.ts';
import type { TaskFiles } from './paths.ts';

/** Options of {@link createServer}; normally the `server` section of the config plus `home`. */
export interface ServerOptions {
  /** Base dir: TLS material, keys and experiments live under it. */
  home: string;
  /** @default '127.0.0.1' */
  host?: string;
  /** 0 picks a free port (tests). @default 9101 */
  port?: number;
  /**
   * A configured certificate and key (PEM file paths), which replace the generated self-signed
   * pair, and the extra names (DNS names or IPs) the generated certificate covers besides
   * localhost, 127.0.0.1, ::1, the host name and `host` (see server/tls).
   */
  tls?: { cert?: string | undefined; key?: string | undefined; hostnames?: readonly string[] };
  /** Largest JSON body, in MiB. @default 64 */
  bodyLimitMb?: number;
  /**
   * Largest body of the blob upload routes (`PUT /v1/blobs/:sha256`, `POST /v1/blobs/batch`), in
   * MiB. Separate and larger than {@link bodyLimitMb} because files of any size travel there.
   * @default 8192
   */
  blobBodyLimitMb?: number;
  /** Version reported by `/healthz` and `/v1/status`. @default the package version */
  version?: string;
  /** How often expired leases are reaped (requeued) while listening; 0 disables. @default 5000 */
  reapIntervalMs?: number;
  /** WebSocket ping interval; a client that misses a pong is dropped. @default 30000 */
  wsPingIntervalMs?: number;
  /**
   * How often a WebSocket log follower re-reads the log file and the task's status, so workers in
   * other processes (which publish on their own event bus) are followed too; 0 disables. @default 500
   */
  wsFollowPollMs?: number;
  /** Fastify logger option, when {@link logs} is not given. @default false */
  logger?: boolean;
  /**
   * The process's logs (`server/logging`): the app logger becomes Fastify's (5xx errors, start,
   * stop) and `access`, when set, gets one line per request.
   */
  logs?: { app: Logger; access: AccessLog | null };
  /** The `security` section of the config. */
  security?: SecurityOptions;
}

/** Defenses on the API (config `security`). */
export interface SecurityOptions {
  /** Roles file. @default `<home>/roles.yaml` (built-in roles when absent) */
  rolesFile?: string;
  /** Client addresses or CIDR ranges allowed to connect. @default loopback and private networks */
  ipAllowlist?: readonly string[];
  /** Requests per minute per key for roles that set none. @default 30 */
  rateLimitPerMin?: number;
  /** Authentication failures from one address (within 10 min) that ban it. @default 5 */
  banAfterFailures?: number;
  /** How long a ban lasts, minutes. @default 60 */
  banMinutes?: number;
}

/** The backends the server runs on. */
export interface ServerDeps {
  store: MetadataStore;
  queue: JobQueue;
  blobs: BlobStore;
  events: EventBus;
  /** API keys. @default a file key store at `<home>/keys.json` */
  keys?: KeyStore;
  /** Roles. @default loaded from {@link SecurityOptions.rolesFile} */
  roles?: RoleTable;
  /** Where a task's log and run manifest are. @default {@link taskFiles}(home) */
  files?: TaskFiles;
  /** ms since the epoch. @default Date.now */
  clock?: () => number;
  /** The audit log. @default `<home>/logs/audit.log` (closed with the server) */
  audit?: AuditLog;
}

/** Who made a request: attached to every authenticated request as `request.principal`. */
export interface Principal {
  user: string;
  role: string;
  /** Id of the API key used. */
  key_id: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth chain; null only on public routes (`/healthz`) and before ws auth. */
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    /** The route needs no API key. */
    public?: boolean;
    /** What the caller's role must hold (at `own` or `any` scope); every non-public route has one. */
    permission?: Permission;
  }
}
