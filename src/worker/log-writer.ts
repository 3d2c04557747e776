/**
 * @module worker/log-writer
 * One task's log: `logs/output.log`, appended (never truncated: each attempt adds to it) and
 * mirrored as `task.log` events whose `offset` is the byte offset in the file where the event's
 * text starts. The server's WebSocket hub replays the file up to an offset and then forwards live
 * events, so the two must agree byte for byte.
 *
 * Why a queue: output chunks arrive from the runtime as synchronous callbacks while writes are
 * async; they go through one FIFO per task, drained by one writer, so the file order, the offsets
 * and the event order are the same. Chunks that pile up while a write is in flight are merged
 * (per stream), so a chatty job costs few writes and events, not one per chunk. Why hold back bytes: a chunk may end inside a UTF-8 character; the
 * incomplete tail of each stream is kept until the rest arrives, so every event's text decodes to
 * exactly the bytes written at its offset (concatenating events at their offsets gives the file).
 *
 * Offsets come from the file itself (size after the append minus the bytes written), not from a
 * counter, so a line another process appended (a stale attempt's last words) does not shift them.
 */
import { mkdir, open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

import type { EventBus } from '../events/types.ts';

/** The streams of a log; `system` is fetchml's own lines. */
export type LogStream = 'stdout' | 'stderr' | 'system';

/** Options of {@link openLogWriter}. */
export interface LogWriterOptions {
  path: string;
  taskId: string;
  events: EventBus;
  clock: () => number;
  /** Called once with the first write error; later writes are dropped. */
  onError(err: unknown): void;
}

/** An open task log. */
export interface LogWriter {
  /** Queues a chunk of job output (never throws; see `onError`). */
  output(stream: 'stdout' | 'stderr', chunk: Buffer): void;
  /** Queues a `[fetchml] <text>` line. */
  system(text: string): void;
  /** Queues a raw system line (no prefix), e.g. the attempt separator. */
  systemRaw(line: string): void;
  /** Resolves when everything queued so far is written and published. */
  flush(): Promise<void>;
  /** Writes held-back bytes, flushes and closes the file. Idempotent. */
  close(): Promise<void>;
}

/** Length of `buf` without a trailing incomplete UTF-8 sequence. */
export function completeUtf8Length(buf: Buffer): number {
  const end = buf.length;
  for (let i = end - 1; i >= 0 && i >= end - 4; i--) {
    const byte = buf[i] as number;
    if ((byte & 0xc0) === 0x80) continue;
    const need = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return end - i >= need ? end : i;
  }
  return end;
}

/** Opens (creating) the log for appending. */
export async function openLogWriter(options: LogWriterOptions): Promise<LogWriter> {
  await mkdir(dirname(options.path), { recursive: true });
  const handle: FileHandle = await open(options.path, 'a', 0o644);
  const held: Record<'stdout' | 'stderr', Buffer> = {
    stdout: Buffer.alloc(0),
    stderr: Buffer.alloc(0),
  };
  /** Chunks not yet written; consecutive chunks of one output stream are merged into one write. */
  const pending: { stream: LogStream; parts: Buffer[] }[] = [];
  let draining: Promise<void> | null = null;
  let failed = false;
  let closed = false;

  const write = async (stream: LogStream, data: Buffer): Promise<void> => {
    if (failed || data.length === 0) return;
    try {
      const { bytesWritten } = await handle.write(data, 0, data.length, null);
      const { size } = await handle.stat();
      const offset = size - bytesWritten;
      await options.events
        .publish({
          type: 'task.log',
          task_id: options.taskId,
          stream,
          offset,
          text: data.toString('utf8'),
          bytes: data.length,
          at: new Date(options.clock()).toISOString(),
        })
        .catch(() => undefined); // events are best-effort; the file is the record
    } catch (err) {
      failed = true;
      options.onError(err);
    }
  };
  const drain = async (): Promise<void> => {
    for (let next = pending.shift(); next; next = pending.shift()) {
      await write(
        next.stream,
        next.parts.length === 1 ? next.parts[0]! : Buffer.concat(next.parts),
      );
    }
  };
  const kick = (): void => {
    if (draining || pending.length === 0) return;
    draining = drain().finally(() => {
      draining = null;
      kick();
    });
  };
  const enqueue = (stream: LogStream, data: Buffer): void => {
    if (closed || data.length === 0) return;
    const last = pending.at(-1);
    if (last && last.stream === stream && stream !== 'system') last.parts.push(data);
    else pending.push({ stream, parts: [data] });
    kick();
  };
  const flush = async (): Promise<void> => {
    while (draining) await draining;
  };

  return {
    output(stream, chunk) {
      const buf = held[stream].length > 0 ? Buffer.concat([held[stream], chunk]) : chunk;
      const n = completeUtf8Length(buf);
      held[stream] = Buffer.from(buf.subarray(n));
      enqueue(stream, buf.subarray(0, n));
    },
    system(text) {
      enqueue('system', Buffer.from(`[fetchml] ${text}\n`));
    },
    systemRaw(line) {
      enqueue('system', Buffer.from(`${line}\n`));
    },
    flush,
    async close() {
      if (closed) return;
      for (const stream of ['stdout', 'stderr'] as const) {
        if (held[stream].length > 0) enqueue(stream, held[stream]);
        held[stream] = Buffer.alloc(0);
      }
      closed = true;
      await flush();
      await handle.close().catch(() => undefined);
    },
  };
}
