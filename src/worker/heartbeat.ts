/**
 * @module worker/heartbeat
 * Keeps one lease alive while its task is staged and run. Every `intervalMs` it renews the lease;
 * the queue's answer carries `cancel_requested` (the only way a cancel reaches the worker).
 *
 * Loss is declared when the queue says ML_ERR_LEASE_LOST, or when no renewal has succeeded for a
 * whole lease length (the backend may be unreachable: the lease has expired by then anyway, and
 * another worker may already run the task). Elapsed time is measured on this process's monotonic
 * clock, so clock skew against the queue cannot keep a dead lease "alive".
 */
import { coerceError, isFetchmlError } from '../core/errors.ts';
import type { FetchmlError } from '../core/errors.ts';
import type { JobQueue } from '../queue/types.ts';

/** Options of {@link startHeartbeat}. */
export interface HeartbeatOptions {
  queue: JobQueue;
  taskId: string;
  leaseId: string;
  leaseMs: number;
  intervalMs: number;
  /** The queue asked to cancel the task (called once). */
  onCancel(): void;
  /** The lease is gone (called once; heartbeats stop). */
  onLost(): void;
  /** A renewal failed for another reason (it is retried at the next tick). */
  onError(err: FetchmlError): void;
}

/** A running heartbeat. */
export interface Heartbeat {
  /** Renews once now; resolves true when the lease is still ours. */
  renewNow(): Promise<boolean>;
  /** Whether the lease was declared lost. */
  readonly lost: boolean;
  /** Stops renewing; resolves after an in-flight renewal. */
  stop(): Promise<void>;
}

/** Starts renewing a lease; see the module doc. */
export function startHeartbeat(options: HeartbeatOptions): Heartbeat {
  let lastOk = performance.now();
  let lost = false;
  let cancelled = false;
  let stopped = false;
  let inFlight: Promise<boolean> | null = null;
  let timer: NodeJS.Timeout | null = null;

  const declareLost = () => {
    if (lost) return;
    lost = true;
    options.onLost();
  };

  const renew = async (): Promise<boolean> => {
    if (lost) return false;
    try {
      const result = await options.queue.heartbeat(
        options.taskId,
        options.leaseId,
        options.leaseMs,
      );
      lastOk = performance.now();
      if (result.cancel_requested && !cancelled) {
        cancelled = true;
        options.onCancel();
      }
      return true;
    } catch (err) {
      if (isFetchmlError(err, 'ML_ERR_LEASE_LOST')) {
        declareLost();
        return false;
      }
      options.onError(coerceError(err));
      if (performance.now() - lastOk >= options.leaseMs) {
        declareLost();
        return false;
      }
      return true;
    }
  };

  const once = (): Promise<boolean> => {
    inFlight ??= renew().finally(() => {
      inFlight = null;
    });
    return inFlight;
  };

  const schedule = () => {
    if (stopped || lost) return;
    timer = setTimeout(() => {
      void once().then(schedule);
    }, options.intervalMs);
  };
  schedule();

  return {
    renewNow: once,
    get lost() {
      return lost;
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (inFlight) await inFlight;
    },
  };
}
