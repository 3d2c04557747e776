/**
 * @module server/log-file
 * Reading byte ranges of a task's log file. Offsets are byte offsets (the EventBus `task.log`
 * events carry the same), and a range never ends inside a UTF-8 character: the incomplete tail is
 * left for the next read, so text stitched from consecutive ranges is exactly the file.
 */
import { open } from 'node:fs/promises';

/** A range read from the log. */
export interface LogRange {
  offset: number;
  /** Where the next range starts. */
  next: number;
  /** File size when read (0 when the file does not exist yet). */
  size: number;
  text: string;
}

/** Length of `buf` without a trailing incomplete UTF-8 sequence. */
export function completeUtf8Length(buf: Buffer): number {
  const end = buf.length;
  // Look back at most 3 bytes for the lead byte of the last sequence.
  for (let i = end - 1; i >= 0 && i >= end - 4; i--) {
    const byte = buf[i]!;
    if ((byte & 0xc0) === 0x80) continue; // continuation byte
    const need = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return end - i >= need ? end : i;
  }
  return end;
}

/**
 * Reads up to `limit` bytes from `offset`. A missing file reads as empty. When the range would
 * hold only an incomplete character at end of file (a writer mid-character), it is returned empty.
 */
export async function readLogRange(path: string, offset: number, limit: number): Promise<LogRange> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      return { offset, next: offset, size: 0, text: '' };
    }
    throw err;
  }
  try {
    const { size } = await handle.stat();
    if (offset >= size) return { offset, next: offset, size, text: '' };
    const want = Math.min(limit, size - offset);
    const buf = Buffer.alloc(want);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await handle.read(buf, got, want - got, offset + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    let usable = completeUtf8Length(buf.subarray(0, got));
    // A single character longer than `limit` (limit < 4): return it whole rather than stall.
    if (usable === 0 && got > 0 && offset + got < size) usable = got;
    return { offset, next: offset + usable, size, text: buf.subarray(0, usable).toString('utf8') };
  } finally {
    await handle.close();
  }
}
