/**
 * @module server/ws/hub
 * The `/v1/ws` endpoint. Protocol (JSON text messages):
 *
 * Auth: send `Authorization: Bearer <key>` on the upgrade request (preferred; checked by the auth
 * chain before the upgrade, a bad key gets HTTP 401). Clients that cannot set headers (browsers)
 * connect without it and send `{"op":"auth","api_key":"fml_…"}` as the first message within
 * {@link AUTH_TIMEOUT_MS}; a bad key closes the socket with code 4401. Keys never travel in URLs
 * (they would end up in access logs). Once authenticated the server sends
 * `{"type":"ready","version","user","role"}`.
 *
 * Then the client sends `{"op":"subscribe","task_id":"task_…"|"*","log_offset"?:N}` (and
 * `{"op":"unsubscribe","task_id"}`). The server answers `{"type":"subscribed","task_id","status"}`,
 * then pushes EventBus events (`task.status`, `task.log`) as JSON. With `log_offset` it first sends
 * the log from that byte offset (`task.log` with `replay: true`), then live lines, stitched by
 * offset (no gap, no duplicate). When the task is terminal it sends the final `task.status` last and
 * ends that subscription. Bad messages get `{"type":"error","code","message"}`.
 *
 * Limits (`core/limits`): a message is at most 16 KiB (bigger: closed with 1009) and nests at most
 * 32 deep (ML_ERR_BODY_TOO_DEEP); a connection follows at most 100 tasks and an API key holds at
 * most 32 connections (ML_ERR_LIMIT_EXCEEDED; the connection over it is closed with 4429).
 *
 * The server pings every `wsPingIntervalMs`; a client that has not answered the previous ping is
 * terminated. On server close every socket is closed (1001, going away).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';

import { coerceError } from '../../core/errors.ts';
import { WsClientMessage } from '../../core/schemas/api.ts';
import type { WsServerMessage } from '../../core/schemas/api.ts';
import { formatIssues } from '../../core/schemas/common.ts';
import { isId } from '../../core/ids.ts';
import { LIMITS } from '../../core/limits.ts';
import { redactSecrets } from '../../core/secrets.ts';
import { jsonDepth, tooDeep } from '../limits.ts';
import type { RouteContext } from '../context.ts';
import { mayAccess, scopeOf } from '../ownership.ts';
import type { Principal } from '../types.ts';
import { TaskFollower } from './follower.ts';

export const AUTH_TIMEOUT_MS = 10_000;
/**
 * Close codes: 4400 protocol error, 4401 unauthorized, 4429 too many connections for this API key;
 * `ws` itself closes with 1009 (message too big) a message over `LIMITS.wsMessageBytes`.
 */
export const WS_CLOSE = {
  protocol: 4400,
  unauthorized: 4401,
  tooMany: 4429,
  tooBig: 1009,
  goingAway: 1001,
} as const;

export interface WsHubOptions {
  pingIntervalMs: number;
  /** How often a follower re-reads the log file and task status (workers in other processes). */
  followPollMs?: number;
  /** Runs the auth chain for an API key sent in the `auth` message. */
  authenticate(token: string, request: FastifyRequest): Promise<Principal>;
}

/**
 * Why `principal` may not follow `taskId` (ownership, as for `GET /v1/tasks/:id`), or null. A role
 * reading only its own tasks cannot follow `*` (every task); another user's task is "no such task".
 */
async function subscribeRefusal(
  ctx: RouteContext,
  principal: Principal,
  taskId: string,
): Promise<{ code: 'ML_ERR_FORBIDDEN' | 'ML_ERR_TASK_NOT_FOUND'; message: string } | null> {
  const scope = scopeOf(ctx, principal, 'tasks:read');
  if (scope === 'any') return null;
  if (taskId === '*') {
    return {
      code: 'ML_ERR_FORBIDDEN',
      message: `role ${principal.role} may follow only its own tasks, not "*"`,
    };
  }
  const task = await ctx.store.getTask(taskId);
  if (task && mayAccess(ctx, principal, 'tasks:read', task)) return null;
  return { code: 'ML_ERR_TASK_NOT_FOUND', message: `no such task: ${taskId}` };
}

function sender(socket: WebSocket) {
  return (message: WsServerMessage): Promise<void> =>
    new Promise((resolve) => {
      if (socket.readyState !== socket.OPEN) return resolve();
      const out =
        message.type === 'error'
          ? { ...message, message: redactSecrets(message.message) }
          : message;
      socket.send(JSON.stringify(out), () => resolve());
    });
}

/** Registers `GET /v1/ws`. */
export function wsRoutes(app: FastifyInstance, ctx: RouteContext, options: WsHubOptions): void {
  /** Open authenticated connections per API key id. */
  const perKey = new Map<string, number>();
  app.get(
    '/v1/ws',
    { websocket: true, config: { permission: 'tasks:read' } },
    (socket, request) => {
      const send = sender(socket);
      const followers = new Map<string, TaskFollower>();
      let principal = request.principal;
      let countedKey: string | null = null;
      let alive = true;
      let inbox: Promise<unknown> = Promise.resolve();

      const fail = (err: unknown) => {
        const e = coerceError(err);
        if (e.status >= 500) request.log.error({ err }, 'websocket subscription failed');
        void send({
          type: 'error',
          code: e.code,
          message: e.status >= 500 ? 'internal error' : e.message,
        });
      };

      const ready = async (p: Principal) => {
        principal = p;
        if (countedKey === null) {
          const open = perKey.get(p.key_id) ?? 0;
          if (open >= LIMITS.wsConnectionsPerKey) {
            await send({
              type: 'error',
              code: 'ML_ERR_LIMIT_EXCEEDED',
              message: `at most ${LIMITS.wsConnectionsPerKey} WebSocket connections per API key are open; close one first`,
            });
            return socket.close(WS_CLOSE.tooMany, 'too many connections for this API key');
          }
          perKey.set(p.key_id, open + 1);
          countedKey = p.key_id;
        }
        await send({ type: 'ready', version: ctx.version, user: p.user, role: p.role });
      };

      const authTimer = principal
        ? null
        : setTimeout(() => socket.close(WS_CLOSE.unauthorized, 'auth timeout'), AUTH_TIMEOUT_MS);
      const pingTimer = setInterval(() => {
        if (!alive) return socket.terminate();
        alive = false;
        socket.ping();
      }, options.pingIntervalMs);
      pingTimer.unref();
      socket.on('pong', () => {
        alive = true;
      });

      const onMessage = async (raw: string) => {
        if (jsonDepth(raw) > LIMITS.jsonDepth) {
          const e = tooDeep('message');
          return send({ type: 'error', code: e.code, message: e.message });
        }
        let json: unknown;
        try {
          json = JSON.parse(raw);
        } catch {
          return send({
            type: 'error',
            code: 'ML_ERR_VALIDATION',
            message: 'message: not valid JSON',
          });
        }
        const parsed = WsClientMessage.safeParse(json);
        if (!parsed.success) {
          const message = `message: ${formatIssues(parsed.error).join('; ')}`;
          return send({ type: 'error', code: 'ML_ERR_VALIDATION', message });
        }
        const msg = parsed.data;
        if (!principal) {
          if (msg.op !== 'auth') return socket.close(WS_CLOSE.unauthorized, 'send auth first');
          try {
            const p = await options.authenticate(msg.api_key, request);
            if (authTimer) clearTimeout(authTimer);
            return ready(p);
          } catch {
            return socket.close(WS_CLOSE.unauthorized, 'invalid API key');
          }
        }
        if (msg.op === 'auth') return ready(principal);
        if (msg.op === 'unsubscribe') {
          followers.get(msg.task_id)?.stop();
          followers.delete(msg.task_id);
          return;
        }
        const message = `no such task: ${msg.task_id}`;
        if (msg.task_id !== '*' && !isId(msg.task_id, 'task')) {
          return send({ type: 'error', code: 'ML_ERR_TASK_NOT_FOUND', message });
        }
        for (const [id, f] of followers) if (!f.active) followers.delete(id);
        if (!followers.has(msg.task_id) && followers.size >= LIMITS.wsSubscriptions) {
          return send({
            type: 'error',
            code: 'ML_ERR_LIMIT_EXCEEDED',
            message: `at most ${LIMITS.wsSubscriptions} subscriptions per connection; unsubscribe from one first`,
          });
        }
        const refusal = await subscribeRefusal(ctx, principal, msg.task_id);
        if (refusal) return send({ type: 'error', ...refusal });
        followers.get(msg.task_id)?.stop();
        const follower = new TaskFollower(
          ctx,
          send,
          msg.task_id,
          msg.log_offset,
          fail,
          options.followPollMs,
        );
        followers.set(msg.task_id, follower);
        follower.start();
      };

      socket.on('message', (data, isBinary) => {
        if (isBinary) return socket.close(WS_CLOSE.protocol, 'text messages only');
        const raw = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
        // One at a time, in order: a subscribe right behind an auth waits for the auth.
        inbox = inbox.then(() => onMessage(raw.toString('utf8'))).catch(fail);
      });
      socket.on('close', () => {
        if (countedKey !== null) {
          const left = (perKey.get(countedKey) ?? 1) - 1;
          if (left > 0) perKey.set(countedKey, left);
          else perKey.delete(countedKey);
        }
        if (authTimer) clearTimeout(authTimer);
        clearInterval(pingTimer);
        for (const f of followers.values()) f.stop();
        followers.clear();
      });
      if (principal) void ready(principal);
    },
  );
}
