/**
 * @module cli/monitor/api
 * What the monitor asks of the server, over two clients: the light one (plain `node:https`, no zod,
 * no undici — cli/shared/light-client) for the reads the first frame needs (a page of tasks, the
 * counts), and the full API client (src/client), loaded on first use, for the WebSocket log stream,
 * cancel and priority changes. So the first frame never waits for the full client to load.
 */
import { coerceError, isFetchmlError } from '../../core/errors.ts';
import type { CliClient, LightClient } from '../shared/deps.ts';
import type { ServerQuery, Task } from './types.ts';

/** What the log stream reports. */
export interface LogHandlers {
  text(text: string): void;
  /** The task ended: e.g. `completed (exit 0)`. */
  end(summary: string): void;
  /** The stream is in trouble (null: fine again). */
  problem(message: string | null): void;
}

/** The server, as the monitor uses it. */
export interface MonitorApi {
  listTasks(query: ServerQuery & { limit: number; before?: string }): Promise<Task[]>;
  counts(): Promise<Record<string, number>>;
  cancel(taskId: string): Promise<{ outcome: string; status: string }>;
  setPriority(taskId: string, priority: number): Promise<{ previous: number; priority: number }>;
  /** Follows the task's log from its first byte, live, until it ends or `close()`. */
  followLog(taskId: string, on: LogHandlers): { close(): void };
  close(): Promise<void>;
}

/** Reconnects of the log stream before it gives up. */
export const LOG_RECONNECTS = 10;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The monitor's API over a light client and a lazily created full client. */
export function createMonitorApi(
  light: LightClient,
  createFull: () => Promise<CliClient>,
  options: { reconnectDelayMs?: number } = {},
): MonitorApi {
  let full: Promise<CliClient> | null = null;
  const client = () => (full ??= createFull());
  return {
    async listTasks(q) {
      const query = {
        limit: q.limit,
        ...(q.status && q.status.length > 0 ? { status: q.status } : {}),
        ...(q.user !== undefined ? { user: q.user } : {}),
        ...(q.name !== undefined ? { name: q.name } : {}),
        ...(q.before !== undefined ? { before: q.before } : {}),
      };
      return (await light.listTasks(query)).tasks;
    },
    async counts() {
      return (await light.status()).counts;
    },
    async cancel(taskId) {
      const r = await (await client()).cancelTask(taskId);
      return { outcome: r.outcome, status: r.task.status };
    },
    async setPriority(taskId, priority) {
      const r = await (await client()).setTaskPriority(taskId, priority);
      return { previous: r.previous, priority: r.priority };
    },
    followLog(taskId, on) {
      let closed = false;
      let sub: { close(): void; readonly logOffset: number | null } | null = null;
      let offset = 0;
      const run = async () => {
        const c = await client();
        for (let attempt = 0; !closed; attempt++) {
          const s = c.subscribe(taskId, { logOffset: offset }, (m) => {
            if (closed) return;
            if (m.type === 'task.log' && m.task_id === taskId) on.text(m.text);
            else if (m.type === 'error') on.problem(`server: ${m.message}`);
          });
          sub = s;
          try {
            const final = await s.done;
            if (final && !closed) {
              const exit = final.exit_code !== null ? ` (exit ${final.exit_code})` : '';
              on.end(`${final.status}${exit}`);
            }
            return;
          } catch (err) {
            offset = s.logOffset ?? offset;
            if (closed) return;
            const e = coerceError(err);
            if (!isFetchmlError(e, 'ML_ERR_SERVER_UNREACHABLE') || attempt >= LOG_RECONNECTS) {
              on.problem(e.message);
              return;
            }
            on.problem(`connection lost; reconnecting from byte ${offset}`);
            await sleep(options.reconnectDelayMs ?? 1000);
          }
        }
      };
      run().catch((err: unknown) => on.problem(coerceError(err).message));
      return {
        close() {
          closed = true;
          sub?.close();
        },
      };
    },
    async close() {
      await light.close();
      if (full) await (await full.catch(() => null))?.close();
    },
  };
}
