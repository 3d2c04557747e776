/**
 * @module cli/shared/follow
 * Following a task until it ends (`ml logs -f`, `ml queue --follow`): the log from byte 0 and then
 * live over the WebSocket, status changes as notes on stderr, and the task's outcome as the exit
 * code — completed 0, failed its exit code (1 when it has none, e.g. a timeout), cancelled 130 (the
 * shell's code for Ctrl-C). A dropped connection is resumed from the last byte received, so no line
 * is lost or printed twice.
 */
import { FetchmlError, isFetchmlError } from '../../core/errors.ts';
import type { WsServerMessage, WsStatusEvent } from '../../core/schemas/api.ts';
import type { CliClient, CommandDeps } from './deps.ts';

/** Exit code of `ml logs -f` for a cancelled task. */
export const EXIT_CANCELLED = 130;
/** Reconnect attempts after a dropped WebSocket before giving up. */
export const MAX_RECONNECTS = 5;

/** The exit code a finished task maps to. */
export function exitCodeFor(status: string, exitCode: number | null): number {
  if (status === 'completed') return 0;
  if (status === 'cancelled') return EXIT_CANCELLED;
  return exitCode !== null && exitCode !== 0 ? exitCode : 1;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Streams the task's log to stdout (NDJSON events with `json`) until it ends; returns the exit
 * code for its outcome.
 */
export async function followTask(
  deps: CommandDeps,
  client: CliClient,
  taskId: string,
  opts: { json?: boolean; reconnectDelayMs?: number } = {},
): Promise<{ code: number; final: WsStatusEvent }> {
  const { io } = deps;
  let offset = 0;
  let lastStatus: string | null = null;
  const onEvent = (m: WsServerMessage) => {
    if (opts.json) {
      if (m.type === 'task.log' || m.type === 'task.status')
        io.stdout.write(`${JSON.stringify(m)}\n`);
      return;
    }
    if (m.type === 'task.log' && m.task_id === taskId) io.stdout.write(m.text);
    else if (m.type === 'task.status' && m.task_id === taskId && m.status !== lastStatus) {
      lastStatus = m.status;
      if (m.status === 'running')
        io.stderr.write(`[ml] ${taskId} running (attempt ${m.attempt})\n`);
      else if (m.status === 'queued' && m.attempt > 0)
        io.stderr.write(`[ml] ${taskId} re-queued (attempt ${m.attempt} lost its worker)\n`);
    } else if (m.type === 'error') {
      io.stderr.write(`[ml] server: ${m.message}\n`);
    }
  };
  for (let attempt = 0; ; attempt++) {
    const sub = client.subscribe(taskId, { logOffset: offset }, onEvent);
    let final: WsStatusEvent | null;
    try {
      final = await sub.done;
    } catch (err) {
      offset = sub.logOffset ?? offset;
      if (!isFetchmlError(err, 'ML_ERR_SERVER_UNREACHABLE') || attempt >= MAX_RECONNECTS) throw err;
      if (!opts.json) io.stderr.write(`[ml] connection lost; reconnecting from byte ${offset}\n`);
      await sleep(opts.reconnectDelayMs ?? 1000);
      continue;
    }
    if (final === null) throw new FetchmlError('ML_ERR_INTERNAL', 'the log stream was closed');
    const code = exitCodeFor(final.status, final.exit_code);
    if (!opts.json) {
      const exit = final.exit_code !== null ? ` (exit ${final.exit_code})` : '';
      io.stderr.write(`[ml] ${taskId} ${final.status}${exit}\n`);
    }
    return { code, final };
  }
}
