/**
 * @module server/logging-file
 * A log file that rotates by size, as a pino destination: lines go to pino's asynchronous
 * writer (sonic-boom, `sync: false`: a write call only appends to a buffer), and when the bytes
 * written pass `maxBytes` the files shift — `app.log.{keep-1}` → `app.log.{keep}` (the oldest is
 * replaced), …, `app.log` → `app.log.1` — and the writer reopens `app.log`. Lines still buffered
 * at that moment land in the new file; none is lost or split.
 *
 * Several processes on one base dir (`fetchml server` and `fetchml worker`) may share a file:
 * appends are `O_APPEND`, and a process that finds the file already rotated by another (a new
 * inode at the path) only reopens it.
 */
import { fstatSync, mkdirSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';

import pino from 'pino';

export interface RotatingFileOptions {
  /** Rotate once the file passes this many bytes. */
  maxBytes: number;
  /** Rotated files kept (`.1` … `.keep`); at least 1. */
  keep: number;
  /** Write synchronously (tests that read the file at once). @default false */
  sync?: boolean;
}

/** A pino destination over a rotating file. */
export interface RotatingFile {
  readonly path: string;
  write(chunk: string): void;
  /** Resolves when every line written so far is in the file. */
  flush(): Promise<void>;
  /** Flushes and closes the file. */
  close(): Promise<void>;
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

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
  const dest = pino.destination({
    dest: path,
    sync: options.sync ?? false,
    append: true,
    mkdir: true,
    mode: 0o600,
  });
  /** The open descriptor; -1 while opening (sonic-boom's `fd`, missing from its types). */
  const fd = () => (dest as unknown as { fd: number }).fd;
  let size = sizeOf(path);
  let closed = false;

  const rotate = () => {
    // Not open yet (asynchronous open) or mid-reopen: try again at the next write.
    if (fd() < 0) return;
    let ours = true;
    try {
      ours = fstatSync(fd()).ino === statSync(path).ino;
    } catch {
      ours = false; // the path is gone: someone moved it
    }
    if (ours) {
      ignoreMissing(() => unlinkSync(`${path}.${keep}`));
      for (let i = keep - 1; i >= 1; i--) {
        ignoreMissing(() => renameSync(`${path}.${i}`, `${path}.${i + 1}`));
      }
      ignoreMissing(() => renameSync(path, `${path}.1`));
    }
    size = ours ? 0 : sizeOf(path);
    dest.reopen();
  };

  return {
    path,
    write(chunk) {
      if (closed) return;
      dest.write(chunk);
      size += Buffer.byteLength(chunk);
      if (size >= options.maxBytes) rotate();
    },
    flush() {
      return new Promise((resolve) => {
        if (closed || fd() < 0) {
          // Not open yet: a flush would fail; the first write happens once it is.
          if (closed) return resolve();
          dest.once('ready', () => dest.flush(() => resolve()));
          return;
        }
        dest.flush(() => resolve());
      });
    },
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      return new Promise((resolve) => {
        dest.once('close', () => resolve());
        dest.once('error', () => resolve());
        dest.end();
      });
    },
  };
}
