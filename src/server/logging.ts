/**
 * @module server/logging
 * The server's and worker's own logs, as JSON lines (pino) under `<home>/logs/`:
 *
 * - `app.log`: what the process does — start and stop, task outcomes, worker errors, failed
 *   requests (5xx, with the stack) — at `logging.level` and above;
 * - `access.log`: one line per HTTP request, written after the response is sent:
 *   `{level, time, req_id, method, route, status, ms, ip, user}` (`path` instead of `route` when
 *   no route matched). Never headers, bodies or query strings, so never a key. Its lines have
 *   pino's shape but are formatted by {@link formatAccessLine}: a fixed set of fields written
 *   directly costs a third of a generic `logger.info(object)` per request.
 *
 * Both rotate by size (`server/logging-file`) and write asynchronously: a request pays for
 * formatting one line, not for a disk write (access lines are gathered for up to 100 ms into one
 * write). {@link ServerLogs.close} flushes them at shutdown.
 */
import type { FastifyInstance } from 'fastify';
import { hostname } from 'node:os';
import { join } from 'node:path';

import pino from 'pino';
import type { Logger } from 'pino';

import { redactSecrets } from '../core/secrets.ts';
import { openRotatingFile } from './logging-file.ts';
import type { RotatingFile } from './logging-file.ts';

/** The levels `logging.level` and `--log-level` accept. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface ServerLogsOptions {
  /** The directory of the files (`<home>/logs`). */
  dir: string;
  /** Least severe level written to app.log; `silent` turns both logs off. */
  level: LogLevel;
  /** Rotate a file once it passes this many bytes. */
  maxBytes: number;
  /** Rotated files kept per log. */
  keep: number;
  /** Open access.log too (the server; a worker alone has no requests). @default true */
  access?: boolean;
  /** Write synchronously (tests). @default false */
  sync?: boolean;
}

/** The open logs of one process. */
export interface ServerLogs {
  app: Logger;
  /** Null when not opened (a worker alone) or when the level is `silent`. */
  access: AccessLog | null;
  /** Resolves when every line so far is in its file. */
  flush(): Promise<void>;
  /** Flushes and closes the files (later lines are dropped). */
  close(): Promise<void>;
}

/** Where the logs of a base dir are. */
export function logDir(home: string): string {
  return join(home, 'logs');
}

/** How long access lines wait to be written together (flushed at shutdown). */
const ACCESS_BATCH_MS = 100;

/** Keys whose values are replaced by `[redacted]` wherever the app log meets them. */
const REDACT = [
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  'admin_key',
  'adminKey',
  'key',
];

/** Opens `app.log` (and `access.log`) under `options.dir`. */
export function openServerLogs(options: ServerLogsOptions): ServerLogs {
  const rotation = { maxBytes: options.maxBytes, keep: options.keep, sync: options.sync ?? false };
  const files: RotatingFile[] = [];
  const open = (name: string, batchMs = 0) => {
    const file = openRotatingFile(join(options.dir, name), { ...rotation, batchMs });
    files.push(file);
    return file;
  };
  const silent = options.level === 'silent';
  const app = silent
    ? pino({ level: 'silent' })
    : pino(
        {
          level: options.level,
          base: { pid: process.pid, hostname: hostname() },
          timestamp: pino.stdTimeFunctions.isoTime,
          redact: { paths: REDACT, censor: '[redacted]' },
        },
        open('app.log'),
      );
  let access: AccessLog | null = null;
  if (options.access !== false && !silent) {
    // One write per request would cost more than the line: gather up to 100 ms.
    const file = open('access.log', ACCESS_BATCH_MS);
    access = { write: (line) => file.write(formatAccessLine(line, new Date())) };
  }
  return {
    app,
    access,
    async flush() {
      await Promise.all(files.map((f) => f.flush()));
    },
    async close() {
      await Promise.all(files.map((f) => f.close()));
    },
  };
}

/** The access.log line of a request (what is logged, and only that). */
export interface AccessLine {
  req_id: string;
  method: string;
  route?: string;
  path?: string;
  status: number;
  ms: number;
  ip: string;
  user: string | null;
}

/** Where access lines go. */
export interface AccessLog {
  write(line: AccessLine): void;
}

/** The JSON line (pino's shape: `level` 30 = info, ISO `time`) of an access.log entry. */
export function formatAccessLine(line: AccessLine, at: Date): string {
  const where =
    line.route === undefined
      ? `"path":${JSON.stringify(line.path ?? '')}`
      : `"route":${JSON.stringify(line.route)}`;
  return (
    `{"level":30,"time":"${at.toISOString()}","req_id":${JSON.stringify(line.req_id)},` +
    `"method":${JSON.stringify(line.method)},${where},"status":${line.status},"ms":${line.ms},` +
    `"ip":${JSON.stringify(line.ip)},"user":${line.user === null ? 'null' : JSON.stringify(line.user)}}\n`
  );
}

/** Writes one access.log line per request, after its response (`onResponse`). */
export function installAccessLog(app: FastifyInstance, access: AccessLog): void {
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url;
    const line: AccessLine = {
      req_id: request.id,
      method: request.method,
      ...(route === undefined ? { path: redactSecrets(request.url.split('?')[0]!) } : { route }),
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 100) / 100,
      ip: request.ip,
      user: request.principal?.user ?? null,
    };
    access.write(line);
    done();
  });
}
