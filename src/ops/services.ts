/**
 * @module ops/services
 * Starting and stopping the long-running parts — the API server and a worker — from a loaded
 * config. `fetchml up` starts both in one process on one set of backends; `fetchml server` and
 * `fetchml worker` start one each, sharing the SQLite file and the base dir with the others.
 *
 * Stop order matters: the worker stops first (its running tasks are stopped and re-queued), then
 * the server, then the backends close, so nothing is left half-written.
 */
import { hostname } from 'node:os';

import type { Config } from '../config/index.ts';
import { detectRuntime } from '../runtime/index.ts';
import { detectGpus } from '../scheduler/gpus.ts';
import type { Runtime } from '../runtime/types.ts';
import { createServer, type FetchmlServer } from '../server/index.ts';
import type { ServerLogs } from '../server/logging.ts';
import { createWorker, type FetchmlWorker } from '../worker/index.ts';
import { openBackends, type Backends } from './backends.ts';

/** What the app log gets besides the line: its level and structured facts (task id, ...). */
export type LogFields = Record<string, unknown> & { level?: 'info' | 'warn' | 'error' };

export interface StartOptions {
  server: boolean;
  worker: boolean;
  version: string;
  /** Called with one line per notable event (startup banner, task outcomes, errors). */
  log: (line: string, fields?: LogFields) => void;
  /** The JSON logs (`server/logging`): the server logs its errors there, and each request to access.log. */
  logs?: ServerLogs;
}

export interface RunningServices {
  backends: Backends;
  server: FetchmlServer | null;
  /** Set when the server listens. */
  url: string | null;
  worker: FetchmlWorker | null;
  runtime: Runtime | null;
  /** Where tasks without an image run when `runtime` is a container runtime. */
  hostRuntime: Runtime | null;
  /** Stops the worker (re-queuing its running tasks), then the server, then the backends. */
  stop(options?: { force?: boolean; timeoutMs?: number }): Promise<void>;
}

/** The GPU indices this worker offers: the config list, none, or nvidia-smi's inventory. */
async function gpuIndices(config: Config, log: StartOptions['log']): Promise<number[]> {
  const inventory = await detectGpus(config.worker.gpus, { path: process.env['PATH'] });
  if (
    config.worker.gpus === 'auto' &&
    inventory.problem &&
    inventory.problem !== 'nvidia-smi not found'
  ) {
    log(`warning: no GPUs offered: ${inventory.problem}`, {
      level: 'warn',
      event: 'gpus.unavailable',
      problem: inventory.problem,
    });
  }
  return inventory.indices;
}

/** The best runtime that needs no image: sandbox (bubblewrap) if it works here, else process. */
async function detectHostRuntime(): Promise<Runtime> {
  try {
    return await detectRuntime('sandbox');
  } catch {
    return detectRuntime('process');
  }
}

/** Opens the backends and starts what `options` asks for. */
export async function startServices(
  config: Config,
  options: StartOptions,
): Promise<RunningServices> {
  const backends = await openBackends(config);
  let server: FetchmlServer | null = null;
  let worker: FetchmlWorker | null = null;
  let runtime: Runtime | null = null;
  let hostRuntime: Runtime | null = null;
  let url: string | null = null;
  try {
    if (options.server) {
      server = await createServer(
        {
          home: config.home,
          host: config.server.host,
          port: config.server.port,
          tls: config.server.tls,
          bodyLimitMb: config.server.body_limit_mb,
          ...(config.server.reap_interval_ms === undefined
            ? {}
            : { reapIntervalMs: config.server.reap_interval_ms }),
          version: options.version,
          ...(options.logs ? { logs: options.logs } : {}),
          security: {
            rolesFile: config.security.roles_file,
            ipAllowlist: config.security.ip_allowlist,
            rateLimitPerMin: config.security.rate_limit_per_min,
            banAfterFailures: config.security.ban_after_failures,
            banMinutes: config.security.ban_minutes,
          },
        },
        backends,
      );
      ({ url } = await server.listen());
    }
    if (options.worker) {
      const workerId = config.worker.id!;
      runtime = await detectRuntime(config.worker.runtime, {
        podman: { workerId },
        docker: { workerId },
      });
      // Containers a crashed previous run of this worker left behind (same worker id).
      const stale = (await runtime.cleanupStale?.(workerId)) ?? [];
      if (stale.length > 0) {
        options.log(`removed ${stale.length} stale containers: ${stale.join(', ')}`, {
          event: 'containers.stale_removed',
          containers: stale,
        });
      }
      // A container runtime needs an image; tasks whose spec names none run on the host runtime.
      if (runtime.isolation === 'container') hostRuntime = await detectHostRuntime();
      const indices = await gpuIndices(config, options.log);
      worker = createWorker(
        {
          id: config.worker.id!,
          home: config.home,
          workDir: config.worker.work_dir!,
          resources: {
            cpus: config.worker.cpus!,
            memory_mb: config.worker.memory_mb!,
            gpus: indices.length,
            labels: config.worker.labels,
          },
          gpuIndices: indices,
          leaseMs: config.worker.lease_ms,
          heartbeatMs: config.worker.heartbeat_ms,
          pollMs: 500,
          concurrency: config.worker.concurrency,
          version: options.version,
          host: hostname(),
        },
        { ...backends, runtime, ...(hostRuntime ? { hostRuntime } : {}) },
      );
      worker.on('task:claimed', (e) =>
        options.log(`task ${e.task_id}: claimed (attempt ${e.attempt})`, {
          event: 'task.claimed',
          task_id: e.task_id,
          attempt: e.attempt,
        }),
      );
      worker.on('task:finished', (e) =>
        options.log(
          `task ${e.task_id}: ${e.outcome}${e.exit_code === null ? '' : ` (exit ${e.exit_code})`}${e.error ? ` — ${e.error.message}` : ''}`,
          {
            level: e.outcome === 'failed' ? 'warn' : 'info',
            event: 'task.finished',
            task_id: e.task_id,
            outcome: e.outcome,
            exit_code: e.exit_code,
            ...(e.error ? { error: e.error } : {}),
          },
        ),
      );
      // Server and worker in one process (`fetchml up`): the worker's job starts feed /metrics.
      const metrics = server?.metrics;
      if (metrics) {
        worker.on('task:phase', (e) => {
          if (e.phase === 'running') metrics.observeRunStart(e.entered_queue_at, e.at);
        });
      }
      worker.on('error', (e) =>
        options.log(
          `worker error${e.task_id ? ` (task ${e.task_id})` : ''} in ${e.where}: ${e.error.message}`,
          {
            level: 'error',
            event: 'worker.error',
            where: e.where,
            task_id: e.task_id,
            err: e.error,
          },
        ),
      );
      await worker.start();
    }
  } catch (err) {
    await server?.close();
    await backends.close();
    throw err;
  }

  let stopping: Promise<void> | null = null;
  return {
    backends,
    server,
    url,
    worker,
    runtime,
    hostRuntime,
    stop(stopOptions = {}) {
      if (stopOptions.force && worker) {
        return worker.stop({ graceful: false });
      }
      stopping ??= (async () => {
        await worker?.stop({ graceful: true, timeoutMs: stopOptions.timeoutMs ?? 30_000 });
        await server?.close();
        await backends.close();
      })();
      return stopping;
    },
  };
}
