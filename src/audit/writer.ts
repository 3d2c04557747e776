/**
 * @module audit/writer
 * Appending to the audit log (`audit/chain` has the format). Shared by the server and the
 * `fetchml` commands that change state (`user`, `ban`), which may append at the same time from
 * different processes. What keeps the chain linear and durable:
 *
 * - **One writer at a time** across processes: every append holds the lock file
 *   `<log>.lock` (`audit/lock`) and, under it, takes `seq` and `prev` from the file's last line
 *   (re-read only when the file changed since this writer's own last append), so two processes
 *   never chain to the same entry.
 * - **Durable before it resolves**: each append is one `write` of whole lines, then `fdatasync`
 *   (and an fsync of the directory when the file is new). Entries recorded while an append is
 *   in flight (or in the same tick) go out together in the next one: one fsync per batch.
 * - **A torn last line** (a crash mid-write) is repaired by the next append: completed when it is
 *   a whole valid entry that only lacks its newline, otherwise cut off and an `audit.repair`
 *   entry records how many bytes were removed and their sha256.
 * - A last line that is not an entry (edited by hand) does not stop the log: the next entry
 *   chains to it byte for byte, and `fetchml audit verify` reports the bad line.
 */
import type { FileHandle } from 'node:fs/promises';
import { mkdir, open } from 'node:fs/promises';
import { dirname, join } from 'node:path';

import { canonicalJson, sha256Hex } from '../core/hash.ts';
import type { AuditEntry, AuditEvent } from './chain.ts';
import { entryHash, GENESIS_PREV, lineDigest, looseSeq, parseEntry, sealEntry } from './chain.ts';
import { withFileLock } from './lock.ts';

/** Where the audit log of a base dir is. */
export function auditLogPath(home: string): string {
  return join(home, 'logs', 'audit.log');
}

/** Appends entries to one audit log file. */
export interface AuditLog {
  readonly path: string;
  /** Appends `event`; resolves with the entry once it is on disk (fsynced). */
  record(event: AuditEvent): Promise<AuditEntry>;
  /** Waits for pending appends; later records are refused. */
  close(): Promise<void>;
}

export interface AuditLogOptions {
  /** ms since the epoch, for `ts`. @default Date.now */
  clock?: () => number;
  /** How long an append waits for another process's lock. @default 10000 */
  lockTimeoutMs?: number;
}

/** The end of the file: its last complete line and any bytes after it (a torn write). */
interface Tail {
  lastLine: string | null;
  torn: Buffer | null;
  /** Where the torn bytes start (= length of the complete part). */
  tornOffset: number;
}

async function readAt(fh: FileHandle, length: number, position: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(buf, got, length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return buf.subarray(0, got);
}

function lastNewline(buf: Buffer, before: number): number {
  for (let i = before - 1; i >= 0; i--) if (buf[i] === 0x0a) return i;
  return -1;
}

/** Reads backwards from the end until the last complete line is in view. */
async function readTail(fh: FileHandle, size: number): Promise<Tail> {
  let window = Math.min(size, 64 * 1024);
  for (;;) {
    const start = size - window;
    const buf = await readAt(fh, window, start);
    // Index (in buf) of the newline that ends the last complete line.
    const end = buf[buf.length - 1] === 0x0a ? buf.length - 1 : lastNewline(buf, buf.length);
    if (end === -1 && start > 0) {
      window = Math.min(size, window * 2);
      continue;
    }
    const torn = end === buf.length - 1 ? null : buf.subarray(end + 1);
    if (end === -1) return { lastLine: null, torn, tornOffset: 0 };
    const lineStart = lastNewline(buf, end);
    if (lineStart === -1 && start > 0) {
      window = Math.min(size, window * 2);
      continue;
    }
    return {
      lastLine: buf.subarray(lineStart + 1, end).toString('utf8'),
      torn,
      tornOffset: start + end + 1,
    };
  }
}

/** Where the chain stands: the last seq and the digest the next entry's `prev` must be. */
interface Head {
  seq: number;
  prev: string;
}

function headAfter(line: string | null): Head {
  if (line === null) return { seq: 0, prev: GENESIS_PREV };
  const parsed = parseEntry(line);
  const seq = typeof parsed === 'string' ? (looseSeq(line) ?? 0) : parsed.seq;
  return { seq, prev: lineDigest(line) };
}

/** A whole, valid entry that follows `head` (a torn write that lost only its newline). */
function completes(text: string, head: Head): boolean {
  const parsed = parseEntry(text);
  return (
    typeof parsed !== 'string' &&
    parsed.seq === head.seq + 1 &&
    parsed.prev === head.prev &&
    entryHash(parsed) === parsed.hash &&
    canonicalJson(parsed) === text
  );
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

interface Pending {
  event: AuditEvent;
  resolve(entry: AuditEntry): void;
  reject(err: unknown): void;
}

/**
 * Opens the audit log at `path` for appending (created 0600 with its directory on first append).
 * @example
 * const audit = openAuditLog(auditLogPath(home));
 * await audit.record({ actor: 'ops', action: 'ban.remove', target: '203.0.113.7' });
 * await audit.close();
 */
export function openAuditLog(path: string, options: AuditLogOptions = {}): AuditLog {
  const clock = options.clock ?? Date.now;
  const lockPath = `${path}.lock`;
  let pending: Pending[] = [];
  let running: Promise<void> | null = null;
  let closed = false;
  let dirReady = false;
  /** The head after this writer's last append, valid while the file is unchanged. */
  let cache: { ino: number; size: number; head: Head } | null = null;

  const append = async (events: AuditEvent[]): Promise<AuditEntry[]> => {
    if (!dirReady) {
      await mkdir(dirname(path), { recursive: true });
      dirReady = true;
    }
    return withFileLock(
      lockPath,
      async () => {
        const fh = await open(path, 'a+', 0o600);
        try {
          const info = await fh.stat();
          let head: Head;
          const all = [...events];
          if (cache && cache.ino === info.ino && cache.size === info.size) {
            head = cache.head;
          } else {
            const tail = info.size === 0 ? null : await readTail(fh, info.size);
            head = headAfter(tail?.lastLine ?? null);
            if (tail?.torn) {
              const text = tail.torn.toString('utf8');
              if (completes(text, head)) {
                await fh.write('\n');
                head = headAfter(text);
              } else {
                await fh.truncate(tail.tornOffset);
                all.unshift({
                  actor: 'system',
                  action: 'audit.repair',
                  detail: {
                    reason: 'the last line was cut off (a crash mid-write) and has been removed',
                    removed_bytes: tail.torn.length,
                    removed_sha256: sha256Hex(tail.torn),
                  },
                });
              }
            }
          }
          const entries: AuditEntry[] = [];
          const lines: string[] = [];
          for (const event of all) {
            const { entry, line } = sealEntry(
              event,
              head.seq + 1,
              new Date(clock()).toISOString(),
              head.prev,
            );
            entries.push(entry);
            lines.push(line);
            head = { seq: entry.seq, prev: lineDigest(line) };
          }
          const text = `${lines.join('\n')}\n`;
          await fh.write(text);
          await fh.datasync();
          if (info.size === 0) await syncDir(dirname(path));
          const after = await fh.stat();
          cache = { ino: after.ino, size: after.size, head };
          return entries.slice(all.length - events.length);
        } catch (err) {
          cache = null;
          throw err;
        } finally {
          await fh.close();
        }
      },
      options.lockTimeoutMs,
    );
  };

  const drain = async (): Promise<void> => {
    await Promise.resolve(); // gather what is recorded in the same tick
    while (pending.length > 0) {
      const batch = pending;
      pending = [];
      try {
        const entries = await append(batch.map((p) => p.event));
        batch.forEach((p, i) => p.resolve(entries[i]!));
      } catch (err) {
        for (const p of batch) p.reject(err);
      }
    }
    running = null;
  };

  return {
    path,
    async record(event) {
      if (closed) throw new Error(`audit log ${path} is closed`);
      canonicalJson(event); // refuse a non-JSON detail here, not in the middle of a batch
      return new Promise<AuditEntry>((resolve, reject) => {
        pending.push({ event, resolve, reject });
        running ??= drain();
      });
    },
    async close() {
      closed = true;
      await running;
    },
  };
}
