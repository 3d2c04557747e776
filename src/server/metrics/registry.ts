/**
 * @module server/metrics/registry
 * Every Prometheus metric the server exposes on `/metrics`, in one prom-client Registry per
 * server (never the global one, so several servers in one process — tests — stay apart). The list
 * with types and labels is documented in docs/operations.md ("Metrics"); deploy/grafana-dashboard.json
 * uses these names and a test checks that each name it uses is exposed.
 *
 * Three kinds of metric:
 * - counted as things happen: HTTP requests (server/metrics/http), authentication failures and
 *   bans, prewarm hits and misses;
 * - observed when a task changes state (server/metrics/task-observer) or, for the run's start, when
 *   a worker of this process starts a job ({@link ServerMetrics.observeRunStart});
 * - read at scrape time from {@link ScrapeSources}: tasks per state, workers and heartbeats, banned
 *   addresses, blob store size and dedup (the last two cached: see server/metrics/blob-stats).
 *   One scrape reads each source once; a source that fails leaves its gauges as they were and
 *   counts `fetchml_metrics_source_errors_total{source}`.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

import type { StatusCounts, WorkerView } from '../../core/schemas/status.ts';
import type { BlobStats } from './blob-stats.ts';

/** Seconds; from a fraction of a second (a free worker) up to a day (a long queue). */
const WAIT_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14_400, 86_400];
/** Seconds; runs last from a second to days. */
const RUN_BUCKETS = [1, 5, 15, 30, 60, 300, 900, 1800, 3600, 7200, 14_400, 43_200, 86_400, 259_200];
/** Seconds; API latency. */
const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60];
/** Seconds; staging ahead of time. */
const PREWARM_BUCKETS = [0.1, 0.5, 1, 5, 15, 60, 300, 900];

/** What the scrape-time gauges read. Each is called at most once per scrape. */
export interface ScrapeSources {
  taskCounts(): Promise<StatusCounts>;
  workers(): Promise<WorkerView[]>;
  /** Addresses banned now. */
  bannedAddresses(): Promise<number>;
  /** The latest blob statistics (cached), or null while none was computed yet. */
  blobStats(): Promise<BlobStats | null>;
}

/** The metrics of one server. */
export interface ServerMetrics {
  readonly registry: Registry;
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  readonly authFailures: Counter;
  readonly authDenials: Counter<'code'>;
  readonly bans: Counter;
  readonly queueWait: Histogram;
  readonly runDuration: Histogram<'outcome'>;
  readonly enqueueToStart: Histogram;
  readonly prewarmHits: Counter;
  readonly prewarmMisses: Counter;
  readonly prewarmDuration: Histogram;
  /**
   * A worker of this process started a job's process: `enteredQueueMs` is when the attempt entered
   * the queue (submission, or the requeue of a retry), `startedMs` when the job started (after
   * staging). Feeds `fetchml_task_enqueue_to_start_seconds`.
   */
  observeRunStart(enteredQueueMs: number, startedMs: number): void;
  /** The exposition text (what `/metrics` sends). */
  render(): Promise<string>;
  readonly contentType: string;
}

const TASK_STATES = ['queued', 'running', 'completed', 'failed', 'cancelled', 'dead'] as const;
const PHASES = ['idle', 'staging', 'running', 'prewarming', 'draining', 'offline'] as const;

/** Builds the registry over `sources`. */
export function createMetrics(sources: ScrapeSources): ServerMetrics {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });

  const sourceErrors = new Counter({
    name: 'fetchml_metrics_source_errors_total',
    help: 'Scrapes in which a metric source failed (its gauges kept their previous values)',
    labelNames: ['source'],
    registers,
  });

  // One read of each source per scrape, shared by every gauge that needs it.
  let scrape: Map<string, Promise<unknown>> | null = null;
  const once = async <T>(name: string, read: () => Promise<T>): Promise<T | undefined> => {
    scrape ??= new Map();
    let p = scrape.get(name) as Promise<T> | undefined;
    if (!p) {
      p = read();
      scrape.set(name, p);
    }
    try {
      return await p;
    } catch {
      return undefined;
    }
  };
  const failed = (name: string) => {
    // Counted once per scrape, however many gauges share the source.
    const key = `${name}:error`;
    if (scrape && !scrape.has(key)) {
      scrape.set(key, Promise.resolve());
      sourceErrors.inc({ source: name });
    }
  };

  new Gauge({
    name: 'fetchml_tasks',
    help: 'Tasks per state (dead: failed because their worker stopped answering; also counted in failed)',
    labelNames: ['state'],
    registers,
    async collect() {
      const counts = await once('tasks', () => sources.taskCounts());
      if (!counts) return failed('tasks');
      for (const s of TASK_STATES) this.set({ state: s }, counts[s]);
    },
  });

  new Gauge({
    name: 'fetchml_workers',
    help: 'Known workers per phase (offline included)',
    labelNames: ['phase'],
    registers,
    async collect() {
      const workers = await once('workers', () => sources.workers());
      if (!workers) return failed('workers');
      for (const p of PHASES) this.set({ phase: p }, workers.filter((w) => w.phase === p).length);
    },
  });

  new Gauge({
    name: 'fetchml_worker_last_heartbeat_age_seconds',
    help: 'Seconds since each worker that is not offline last refreshed its record',
    labelNames: ['worker'],
    registers,
    async collect() {
      const workers = await once('workers', () => sources.workers());
      if (!workers) return failed('workers');
      this.reset();
      for (const w of workers) {
        if (w.status !== 'offline') this.set({ worker: w.id }, w.last_seen_age_s);
      }
    },
  });

  new Gauge({
    name: 'fetchml_worker_live',
    help: '1 when the worker is online or draining and heard from recently, else 0 (offline workers left out)',
    labelNames: ['worker'],
    registers,
    async collect() {
      const workers = await once('workers', () => sources.workers());
      if (!workers) return failed('workers');
      this.reset();
      for (const w of workers)
        if (w.status !== 'offline') this.set({ worker: w.id }, w.live ? 1 : 0);
    },
  });

  new Gauge({
    name: 'fetchml_banned_addresses',
    help: 'Client addresses banned now after repeated authentication failures',
    registers,
    async collect() {
      const n = await once('bans', () => sources.bannedAddresses());
      if (n === undefined) return failed('bans');
      this.set(n);
    },
  });

  const blob = (name: string, help: string, pick: (s: BlobStats) => number) =>
    new Gauge({
      name,
      help,
      registers,
      async collect() {
        const stats = await once('blobs', () => sources.blobStats());
        if (stats === undefined) return failed('blobs');
        if (stats !== null) this.set(pick(stats));
      },
    });
  blob(
    'fetchml_blob_store_bytes',
    'Bytes stored in the blob store (each blob once)',
    (s) => s.bytes,
  );
  blob('fetchml_blob_store_blobs', 'Blobs in the blob store', (s) => s.blobs);
  blob(
    'fetchml_snapshot_logical_bytes',
    'Bytes of every stored snapshot counted in full (the sum of their file sizes)',
    (s) => s.logicalBytes,
  );
  blob(
    'fetchml_blob_dedup_ratio',
    'fetchml_snapshot_logical_bytes / fetchml_blob_store_bytes: how many times over deduplication pays (0 while the store is empty)',
    (s) => s.dedupRatio,
  );
  blob(
    'fetchml_blob_stats_age_seconds',
    'Age of the cached blob store numbers (recomputed in the background when older than the refresh interval)',
    (s) => Math.max(0, (Date.now() - s.computedAtMs) / 1000),
  );

  const enqueueToStart = new Histogram({
    name: 'fetchml_task_enqueue_to_start_seconds',
    help: "From an attempt entering the queue to its job's process starting (claim, image and staging included); observed by workers of this process",
    buckets: WAIT_BUCKETS,
    registers,
  });

  return {
    registry,
    contentType: registry.contentType,
    httpRequests: new Counter({
      name: 'fetchml_http_requests_total',
      help: 'API requests answered, by method, route pattern and status code',
      labelNames: ['method', 'route', 'status'],
      registers,
    }),
    httpDuration: new Histogram({
      name: 'fetchml_http_request_duration_seconds',
      help: 'API request latency (request received to response sent), by method, route pattern and status code',
      labelNames: ['method', 'route', 'status'],
      buckets: HTTP_BUCKETS,
      registers,
    }),
    authFailures: new Counter({
      name: 'fetchml_auth_failures_total',
      help: 'Failed authentications (missing, unknown or revoked API key): what bans count',
      registers,
    }),
    authDenials: new Counter({
      name: 'fetchml_auth_denials_total',
      help: 'Requests refused by the security chain or a permission check, by error code',
      labelNames: ['code'],
      registers,
    }),
    bans: new Counter({
      name: 'fetchml_bans_total',
      help: 'Addresses banned after repeated authentication failures',
      registers,
    }),
    queueWait: new Histogram({
      name: 'fetchml_task_queue_wait_seconds',
      help: 'From an attempt entering the queue to a worker claiming it (the task turning running)',
      buckets: WAIT_BUCKETS,
      registers,
    }),
    runDuration: new Histogram({
      name: 'fetchml_task_run_duration_seconds',
      help: 'From a task starting (claimed) to its end, by outcome',
      labelNames: ['outcome'],
      buckets: RUN_BUCKETS,
      registers,
    }),
    enqueueToStart,
    prewarmHits: new Counter({
      name: 'fetchml_prewarm_hits_total',
      help: 'Tasks that started on inputs staged ahead of time (stays 0 until workers prewarm)',
      registers,
    }),
    prewarmMisses: new Counter({
      name: 'fetchml_prewarm_misses_total',
      help: 'Tasks that had to stage at claim time although prewarm was on (stays 0 until workers prewarm)',
      registers,
    }),
    prewarmDuration: new Histogram({
      name: 'fetchml_prewarm_duration_seconds',
      help: 'Time spent staging a task ahead of time (stays empty until workers prewarm)',
      buckets: PREWARM_BUCKETS,
      registers,
    }),
    observeRunStart(enteredQueueMs, startedMs) {
      enqueueToStart.observe(Math.max(0, (startedMs - enteredQueueMs) / 1000));
    },
    async render() {
      try {
        return await registry.metrics();
      } finally {
        scrape = null;
      }
    },
  };
}
