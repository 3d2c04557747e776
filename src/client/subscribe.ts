/**
 * @module client/subscribe
 * Following a task over the WebSocket `/v1/ws` (protocol in server/ws/hub): authenticate with the
 * `Authorization` header on the upgrade (the pinned connection is checked before the header is
 * sent), subscribe once the server says `ready`, hand every message to the caller, and settle
 * `done` with the task's terminal `task.status`.
 */
import type { ClientOptions } from 'ws';
import WebSocket from 'ws';

import { FetchmlError } from '../core/errors.ts';
import { WsServerMessage } from '../core/schemas/api.ts';
import type { WsStatusEvent } from '../core/schemas/api.ts';
import { TERMINAL_STATUSES } from '../core/schemas/task.ts';
import type { TaskStatus } from '../core/schemas/task.ts';
import { transportError } from './http.ts';
import type { CertPin } from './pin.ts';

function rawText(data: WebSocket.RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return (data instanceof ArrayBuffer ? Buffer.from(data) : data).toString('utf8');
}

/** A live subscription. */
export interface Subscription {
  /** Settles with the task's terminal status event, or null when closed by {@link close} first. */
  done: Promise<WsStatusEvent | null>;
  /** Byte offset just past the last log text received: resume from here after a reconnect. */
  readonly logOffset: number | null;
  close(): void;
}

export interface SubscribeDeps {
  baseUrl: string;
  apiKey: string;
  pin: CertPin;
  timeoutMs: number;
}

/**
 * Subscribes to `taskId` (or `'*'`). With `logOffset`, the log is replayed from that byte offset
 * before live lines.
 */
export function subscribeTask(
  deps: SubscribeDeps,
  taskId: string,
  options: { logOffset?: number },
  onMessage: (message: WsServerMessage) => void,
): Subscription {
  const url = `${deps.baseUrl.replace(/^https:/, 'wss:')}/v1/ws`;
  let closedByUser = false;
  let settled = false;
  let logOffset: number | null = options.logOffset ?? null;
  let resolveDone!: (v: WsStatusEvent | null) => void;
  let rejectDone!: (e: FetchmlError) => void;
  const done = new Promise<WsStatusEvent | null>((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });
  const settle = (value: WsStatusEvent | null | FetchmlError) => {
    if (settled) return;
    settled = true;
    if (value instanceof FetchmlError) rejectDone(value);
    else resolveDone(value);
  };

  const socket = new WebSocket(url, {
    headers: { authorization: `Bearer ${deps.apiKey}` },
    handshakeTimeout: deps.timeoutMs,
    createConnection: deps.pin.createConnection as unknown as ClientOptions['createConnection'],
  });

  socket.on('unexpected-response', (_req, res) => {
    const status = res.statusCode ?? 0;
    settle(
      status === 401
        ? new FetchmlError('ML_ERR_UNAUTHORIZED', `${deps.baseUrl} refused the API key`)
        : new FetchmlError('ML_ERR_INTERNAL', `WebSocket upgrade to ${url} failed: HTTP ${status}`),
    );
    res.resume();
    socket.terminate();
  });
  socket.on('error', (err) => settle(closedByUser ? null : transportError(err, deps.baseUrl)));
  socket.on('close', () => {
    if (closedByUser) settle(null);
    else {
      settle(
        new FetchmlError(
          'ML_ERR_SERVER_UNREACHABLE',
          `the connection to ${deps.baseUrl} closed before task ${taskId} ended`,
          { details: { url: deps.baseUrl, log_offset: logOffset } },
        ),
      );
    }
  });
  socket.on('message', (data) => {
    let message: WsServerMessage;
    try {
      message = WsServerMessage.parse(JSON.parse(rawText(data)));
    } catch {
      return; // unknown message from a newer server: ignore
    }
    if (message.type === 'ready') {
      const sub = {
        op: 'subscribe',
        task_id: taskId,
        ...(options.logOffset !== undefined ? { log_offset: options.logOffset } : {}),
      };
      socket.send(JSON.stringify(sub));
      return;
    }
    if (message.type === 'task.log' && message.task_id === taskId) {
      logOffset = message.offset + (message.bytes ?? Buffer.byteLength(message.text, 'utf8'));
    }
    onMessage(message);
    if (message.type === 'error' && message.code === 'ML_ERR_TASK_NOT_FOUND' && taskId !== '*') {
      settle(
        new FetchmlError('ML_ERR_TASK_NOT_FOUND', message.message, {
          details: { task_id: taskId },
        }),
      );
      closedByUser = true;
      socket.close(1000);
    }
    if (
      message.type === 'task.status' &&
      message.task_id === taskId &&
      TERMINAL_STATUSES.includes(message.status as TaskStatus)
    ) {
      settle(message);
      closedByUser = true;
      socket.close(1000);
    }
  });

  return {
    done,
    get logOffset() {
      return logOffset;
    },
    close() {
      closedByUser = true;
      if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
      else socket.close(1000);
    },
  };
}
