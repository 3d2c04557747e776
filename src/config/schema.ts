/**
 * @module config/schema
 * The one description of fetchml's configuration: a zod schema of strict objects, so a typo in a
 * config file is an error rather than a silently ignored key. Everything else in `src/config`
 * is derived from it: the `FETCHML_*` environment names (one per leaf), env coercion (by leaf
 * type), the JSON Schema in `docs/config.schema.json` and the reference table in
 * `docs/configuration.md`. Each `.describe()` is user documentation and names its default.
 *
 * Defaults that depend on the host or on `home` (paths under the base dir, worker id, cpus,
 * memory) are not static, so those leaves are optional here and filled in by
 * `config/defaults.ts` after layering.
 */
import { z } from 'zod';

import { SizeMb } from '../core/schemas/common.ts';

const Port = z.number().int().min(1).max(65535);
const PositiveInt = z.number().int().positive();
const NonEmpty = z.string().min(1, 'must not be empty');
const urlWithScheme = (schemes: string[]) =>
  z
    .string()
    .refine(
      (v) => schemes.some((s) => v.startsWith(`${s}://`)),
      `must be a URL starting with ${schemes.map((s) => `${s}://`).join(' or ')}`,
    );

/** `server`: the HTTPS + WebSocket API. */
const Server = z
  .strictObject({
    host: NonEmpty.default('127.0.0.1').describe(
      'Address the server listens on. Default 127.0.0.1 (this machine only); use 0.0.0.0 to accept remote workers and clients.',
    ),
    port: Port.default(9101).describe('HTTPS port. Default 9101.'),
    tls: z
      .strictObject({
        cert: NonEmpty.optional().describe('PEM certificate file. Requires `key`.'),
        key: NonEmpty.optional().describe('PEM private key file. Requires `cert`.'),
        hostnames: z
          .array(NonEmpty)
          .default([])
          .describe(
            'Extra DNS names or IP addresses clients use to reach the server (e.g. [gpu-box.lab, 10.0.0.5]). The generated certificate covers them besides localhost, 127.0.0.1, ::1, the host name and server.host; a certificate that does not cover them is reported at start (not regenerated). Default none.',
          ),
      })
      .prefault({})
      .describe(
        'TLS certificate. When unset, a self-signed certificate is generated under <home>/tls on first start and clients pin its fingerprint.',
      ),
    body_limit_mb: SizeMb.default(64).describe(
      'Largest request body accepted, in MiB (or a size such as 512m, 1g). Default 64.',
    ),
    reap_interval_ms: PositiveInt.optional().describe(
      'How often the server re-queues tasks whose worker lease expired (a worker that died), in ms. Default 5000.',
    ),
  })
  .prefault({});

/** `store`: task and run metadata. */
const Store = z
  .strictObject({
    backend: z
      .enum(['sqlite', 'postgres'])
      .default('sqlite')
      .describe('Metadata store. Default sqlite (embedded, nothing to install).'),
    sqlite_path: NonEmpty.optional().describe('SQLite database file. Default <home>/fetchml.db.'),
    postgres_url: urlWithScheme(['postgres', 'postgresql'])
      .optional()
      .describe(
        'PostgreSQL connection URL, e.g. postgres://fetchml:secret@db:5432/fetchml. Required when backend is postgres. The password is redacted by `fetchml config print`.',
      ),
  })
  .prefault({});

/** `queue`: the priority job queue. */
const Queue = z
  .strictObject({
    backend: z
      .enum(['sqlite', 'redis'])
      .default('sqlite')
      .describe('Job queue. Default sqlite (embedded); redis for several machines.'),
    redis_url: urlWithScheme(['redis', 'rediss'])
      .optional()
      .describe('Redis URL, e.g. redis://:secret@redis:6379/0. Required when backend is redis.'),
  })
  .prefault({});

/** `blobs`: the content-addressed store for snapshots, datasets and artifacts. */
const Blobs = z
  .strictObject({
    backend: z
      .enum(['fs', 's3'])
      .default('fs')
      .describe('Blob store. Default fs (local directory); s3 for any S3-compatible service.'),
    root: NonEmpty.optional().describe('Directory of the fs backend. Default <home>/objects.'),
    s3: z
      .strictObject({
        endpoint: z
          .url()
          .optional()
          .describe('S3 endpoint URL (MinIO, Ceph, R2, ...). Unset: AWS for the region.'),
        bucket: NonEmpty.optional().describe('Bucket name. Required when backend is s3.'),
        region: NonEmpty.default('us-east-1').describe('Region. Default us-east-1.'),
        access_key_id: NonEmpty.optional().describe('Access key id.'),
        secret_access_key: NonEmpty.optional().describe(
          'Secret access key. Redacted by `fetchml config print`.',
        ),
        force_path_style: z
          .boolean()
          .default(false)
          .describe(
            'Use path-style URLs (needed by MinIO and most self-hosted S3). Default false.',
          ),
      })
      .prefault({}),
  })
  .prefault({});

/** `events`: status and log lines fanned out to WebSocket subscribers. */
const Events = z
  .strictObject({
    backend: z
      .enum(['memory', 'redis'])
      .default('memory')
      .describe(
        'Event bus. Default memory (one process: `fetchml up`); redis when server and workers run separately.',
      ),
    redis_url: urlWithScheme(['redis', 'rediss'])
      .optional()
      .describe('Redis URL for events. Default queue.redis_url.'),
  })
  .prefault({});

/** `worker`: what this machine offers to the queue and how it runs jobs. */
const Worker = z
  .strictObject({
    id: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be letters, digits, ".", "_" or "-"')
      .optional()
      .describe('Worker id, unique per worker. Default the host name.'),
    cpus: z
      .number()
      .positive()
      .optional()
      .describe('CPUs offered. Default all (os.availableParallelism()).'),
    memory_mb: SizeMb.optional().describe(
      'Memory offered, in MiB (or 16g, ...). Default 90% of the host memory.',
    ),
    gpus: z
      .union([z.enum(['auto', 'none']), z.array(z.number().int().min(0))], {
        error: 'must be auto, none or a list of GPU indices such as [0, 1]',
      })
      .default('auto')
      .describe(
        'GPUs offered: auto (detect with nvidia-smi), none, or a list of GPU indices such as [0, 1]. Default auto.',
      ),
    labels: z
      .array(NonEmpty)
      .default([])
      .describe('Labels a job can require, e.g. [a100, lab-2]. Default none.'),
    runtime: z
      .enum(['auto', 'podman', 'docker', 'sandbox', 'process'])
      .default('auto')
      .describe(
        'Container runtime. auto picks podman, then docker, then sandbox (bubblewrap); process runs without isolation. Default auto.',
      ),
    lease_ms: PositiveInt.default(30_000).describe(
      'Lease length; a job whose lease expires returns to the queue. Default 30000.',
    ),
    heartbeat_ms: PositiveInt.default(2_000).describe(
      'How often a running job renews its lease; a cancel reaches the job at the next heartbeat. Must be less than lease_ms. Default 2000.',
    ),
    max_attempts: PositiveInt.default(3).describe(
      'Attempts before a job whose worker keeps dying is failed. Default 3.',
    ),
    concurrency: PositiveInt.default(1).describe('Jobs run at once by this worker. Default 1.'),
    work_dir: NonEmpty.optional().describe(
      'Scratch directory for staging snapshots and datasets. Default <home>/cache/work.',
    ),
  })
  .prefault({});

/** `security`: defenses on the API, all on by default. */
const Security = z
  .strictObject({
    rate_limit_per_min: PositiveInt.default(30).describe(
      'Requests per minute per API key. Default 30.',
    ),
    ip_allowlist: z
      .array(NonEmpty)
      .default(['127.0.0.0/8', '::1', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'])
      .describe(
        'Client addresses or CIDR ranges allowed to connect. Default loopback and private networks.',
      ),
    ban_after_failures: PositiveInt.default(5).describe(
      'Failed authentications from one address within 10 minutes before it is banned. Default 5.',
    ),
    ban_minutes: PositiveInt.default(60).describe('How long a ban lasts. Default 60.'),
    roles_file: NonEmpty.optional().describe(
      'YAML file mapping roles to permissions and rate limits. Default <home>/roles.yaml; built-in roles when absent.',
    ),
  })
  .prefault({});

/** `logging`: the JSON logs under <home>/logs (app.log, access.log). */
const Logging = z
  .strictObject({
    level: z
      .enum(['trace', 'debug', 'info', 'warn', 'error', 'silent'])
      .default('info')
      .describe(
        'Least severe level written to <home>/logs/app.log (access.log gets every request); silent turns both off. --log-level on up, server and worker. Default info.',
      ),
    max_size_mb: SizeMb.refine((mb) => mb > 0, 'must be more than 0')
      .default(64)
      .describe(
        'Size at which app.log and access.log rotate (app.log becomes app.log.1, ...), in MiB (or a size such as 512m, 1g). Default 64.',
      ),
    keep: PositiveInt.default(5).describe(
      'Rotated files kept per log (app.log.1 ... app.log.N); the oldest is deleted. Default 5.',
    ),
  })
  .prefault({});

/** The whole configuration. Every section may be omitted. */
export const ConfigSchema = z
  .strictObject({
    home: NonEmpty.default('./data').describe(
      'Base directory for all state (database, objects, experiments, logs). Default ./data, relative to the working directory.',
    ),
    server: Server,
    store: Store,
    queue: Queue,
    blobs: Blobs,
    events: Events,
    worker: Worker,
    security: Security,
    logging: Logging,
  })
  .describe('fetchml configuration (fetchml.config.yaml). Every key is optional.');

/** The parsed configuration, before derived defaults are filled in. */
export type ParsedConfig = z.output<typeof ConfigSchema>;

/** Leaves whose default is derived (see `config/defaults.ts`); always set in a loaded {@link Config}. */
type Derived = {
  store: { sqlite_path: string };
  blobs: { root: string };
  events: { redis_url: string | undefined };
  worker: { id: string; cpus: number; memory_mb: number; work_dir: string };
};

type Merge<A, B> = {
  [K in keyof A]: K extends keyof B ? (A[K] extends object ? Merge<A[K], B[K]> : B[K]) : A[K];
};

/** A fully loaded configuration: validated, with every default (static or derived) applied. */
export type Config = Merge<ParsedConfig, Derived>;

/** What a config file may contain (the schema's input type). */
export type ConfigInput = z.input<typeof ConfigSchema>;

/**
 * Leaves holding file system paths. Relative paths from a config file resolve against the file's
 * directory; from env, flags and defaults against the working directory.
 */
export const PATH_LEAVES: ReadonlySet<string> = new Set([
  'home',
  'server.tls.cert',
  'server.tls.key',
  'store.sqlite_path',
  'blobs.root',
  'worker.work_dir',
]);
