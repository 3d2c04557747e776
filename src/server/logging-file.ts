/**
 * @module server/logging-file
 * A log file that rotates by size, as a pino destination (anything with `write(string)`).
 *
 * Writes are asynchronous and batched: `write` only queues the line; queued lines go out together
 * in one `fs.write` at the next event-loop turn (or, with `batchMs`, up to that many ms later or
 * once 64 KiB are queued), one write in flight at a time — what pino's
 * sonic-boom does, but with rotation between two writes, never during one (sonic-boom's
 * `reopen` while a write is in flight can strand its buffer if the stream is ended meanwhile).
 * When the file passes `maxBytes` the files shift — `app.log.{keep-1}` → `app.log.{keep}` (the
 * oldest is replaced), …, `app.log` → `app.log.1` — and a new `app.log` is opened. No line is
 * lost or split.
 *
 * Several processes on one base dir (`fetchml server` and `fetchml worker`) may share a file:
 * it is opened `O_APPEND`, and a process that finds the file already rotated by another (a new
 * inode at the path) only reopens it.
 */
import { closeSync, fstatSync, openSync, renameSync, statSync, unlinkSync, write } from 'node:fs';
import { mkdirSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export interface RotatingFileOptions {
  /** Rotate once the file passes this many bytes. */
  maxBytes: number;
  /** Rotated files kept (`.1` … `.keep`); at least 1. */
  keep: number;
  /** Write synchronously (tests that read the file at once). @default false */
  sync?: boolean;
  /**
   * Wait up to this many ms to gather more lines into one write (a busy access log: one write
   * per request costs more than the line). {@link RotatingFile.flush} and `close` do not wait.
   * @default 0 (the next event-loop turn)
   */
  batchMs?: number;
  /**
   * Bytes queued at most while the disk is slow; lines beyond are dropped (and counted) rather
   * than growing memory without bound. @default 64 MiB
   */
  maxQueuedBytes?: number;
}

/** A pino destination over a rotating file. */
export interface RotatingFile {
  readonly path: string;
  write(chunk: string): void;
  /** Resolves when every line written so far is in the file. */
  flush(): Promise<void>;
  /** Flushes and closes the file; later lines are dropped. */
  close(): Promise<void>;
  /** Lines dropped: queue full or a failed write (a full disk). */
  readonly dropped: number;
}

/** A batch this large is written without waiting for `batchMs`. */
const BATCH_BYTES = 64 * 1024;

function ignoreMissing(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** Opens `path` for appending (0600, creating its directory) with rotation at `maxBytes`. */
export function openRotatingFile(path: string, options: RotatingFileOptions): RotatingFile {
  mkdirSync(dirname(path), { recursive: true });
  const keep = Math.max(1, Math.floor(options.keep));
  const maxQueued = options.maxQueuedBytes ?? 64 * 1024 * 1024;
  const open = () => openSync(path, 'a', 0o600);
  let fd = open();
  let size = fstatSync(fd).size;
  let queue: string[] = [];
  let queuedBytes = 0;
  let writing = false;
  let closed = false;
  let dropped = 0;
  let idle: (() => void)[] = [];
  let timer: NodeJS.Timeout | null = null;
  const batchMs = options.batchMs ?? 0;

  const rotateIfFull = () => {
    if (size < options.maxBytes) return;
    let ours: boolean;
    try {
      ours = fstatSync(fd).ino === statSync(path).ino;
    } catch {
      ours = false; // the path is gone: another process moved it
    }
    if (ours) {
      ignoreMissing(() => unlinkSync(`${path}.${keep}`));
      for (let i = keep - 1; i >= 1; i--) {
        ignoreMissing(() => renameSync(`${path}.${i}`, `${path}.${i + 1}`));
      }
      ignoreMissing(() => renameSync(path, `${path}.1`));
    }
    closeSync(fd);
    fd = open();
    size = fstatSync(fd).size;
  };

  const settle = () => {
    writing = false;
    const waiting = idle;
    idle = [];
    for (const resolve of waiting) resolve();
  };

  const later = () => {
    timer = setTimeout(drain, batchMs);
    timer.unref(); // a pending batch does not keep the process alive; close() writes it
  };

  /** After a write: the next batch now, after `batchMs`, or nothing left (idle). */
  const next = () => {
    if (queue.length > 0 && batchMs > 0 && queuedBytes < BATCH_BYTES && !closed) later();
    else drain();
  };

  const drain = () => {
    if (timer) {
      clearTimeout(timer);
      timer = null;
    }
    if (queue.length === 0 || closed) return settle();
    const data = Buffer.from(queue.join(''));
    const lines = queue.length;
    queue = [];
    queuedBytes = 0;
    const writeFrom = (offset: number) => {
      write(fd, data, offset, data.length - offset, null, (err, n) => {
        if (err) {
          dropped += lines;
          return next();
        }
        size += n;
        if (offset + n < data.length) return writeFrom(offset + n);
        try {
          rotateIfFull();
        } catch {
          // Rotation failed (permissions?): keep appending to the open file.
        }
        next();
      });
    };
    writeFrom(0);
  };

  return {
    path,
    get dropped() {
      return dropped;
    },
    write(chunk) {
      if (closed) return;
      if (options.sync) {
        const data = Buffer.from(chunk);
        writeSync(fd, data);
        size += data.length;
        rotateIfFull();
        return;
      }
      if (queuedBytes + chunk.length > maxQueued) {
        dropped += 1;
        return;
      }
      queue.push(chunk);
      queuedBytes += chunk.length;
      if (timer && queuedBytes >= BATCH_BYTES) return drain();
      if (writing) return;
      writing = true;
      if (batchMs > 0) {
        later();
      } else {
        setImmediate(drain); // the lines of this event-loop turn go out together
      }
    },
    flush() {
      if (!writing) return Promise.resolve();
      const done = new Promise<void>((resolve) => idle.push(resolve));
      if (timer) drain(); // waiting for more lines: write now
      return done;
    },
    async close() {
      if (closed) return;
      await this.flush();
      closed = true;
      closeSync(fd);
    },
  };
}
