/**
 * @module audit/verify
 * Checks an audit log end to end (`fetchml audit verify`) and names the first bad line:
 *
 * | kind           | what it means                                                            |
 * | -------------- | ------------------------------------------------------------------------ |
 * | `edited`       | the entry does not match its own `hash` (or is not in canonical form)     |
 * | `chain_broken` | `prev` is not the digest of the line before: that line was rewritten     |
 * | `deleted`      | a `seq` is missing (a gap: entries removed)                              |
 * | `reordered`    | a `seq` out of order (the expected one comes later in the file)          |
 * | `malformed`    | a line that is not an audit entry at all                                 |
 * | `truncated`    | the last line was cut off (a crash mid-write; the next append repairs it) |
 *
 * Removing entries from the end leaves a shorter but valid chain: compare the reported head
 * (`seq` and `digest`) with one recorded elsewhere to detect that.
 */
import { open } from 'node:fs/promises';

import { FetchmlError } from '../core/errors.ts';
import { canonicalJson } from '../core/hash.ts';
import type { AuditEntry } from './chain.ts';
import { entryHash, GENESIS_PREV, lineDigest, looseSeq, parseEntry } from './chain.ts';

export type AuditProblemKind =
  'edited' | 'chain_broken' | 'deleted' | 'reordered' | 'malformed' | 'truncated';

/** The first bad line. */
export interface AuditProblem {
  /** 1-based line number. */
  line: number;
  /** The line's seq when it has one. */
  seq: number | null;
  kind: AuditProblemKind;
  /** What is wrong, naming the line and seq. */
  message: string;
}

/** What {@link verifyAuditLog} found. */
export interface AuditReport {
  path: string;
  ok: boolean;
  /** Entries that verified (all of them when ok; those before the problem otherwise). */
  entries: number;
  /** The last verified entry: its seq, hash, and the digest of its line (the next `prev`). */
  head: { seq: number; hash: string; digest: string } | null;
  problem: AuditProblem | null;
}

/** One line of the file and whether a newline ended it. */
interface Line {
  text: string;
  terminated: boolean;
}

/** The file's lines, read in chunks (an audit log may be large). */
async function* readLines(path: string): AsyncGenerator<Line> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new FetchmlError(
        'ML_ERR_NOT_FOUND',
        `no audit log at ${path} (the server creates it on its first start; --file names another)`,
        { cause: err, details: { path } },
      );
    }
    throw err;
  }
  try {
    const chunk = Buffer.alloc(1024 * 1024);
    let rest = Buffer.alloc(0);
    for (;;) {
      const { bytesRead } = await fh.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      let buf = Buffer.concat([rest, chunk.subarray(0, bytesRead)]);
      let nl: number;
      while ((nl = buf.indexOf(0x0a)) !== -1) {
        yield { text: buf.subarray(0, nl).toString('utf8'), terminated: true };
        buf = buf.subarray(nl + 1);
      }
      rest = Buffer.from(buf);
    }
    if (rest.length > 0) yield { text: rest.toString('utf8'), terminated: false };
  } finally {
    await fh.close();
  }
}

/** The line number at or after `from` whose seq is `seq`, or null. */
async function findSeq(path: string, seq: number, from: number): Promise<number | null> {
  let n = 0;
  for await (const line of readLines(path)) {
    n += 1;
    if (n >= from && looseSeq(line.text) === seq) return n;
  }
  return null;
}

function range(from: number, to: number): string {
  return from === to ? `seq ${from} is` : `seq ${from}–${to} are`;
}

/** Verifies the audit log at `path`; ML_ERR_NOT_FOUND when there is none. */
export async function verifyAuditLog(path: string): Promise<AuditReport> {
  let entries = 0;
  let head: AuditReport['head'] = null;
  let prev = GENESIS_PREV;
  let lineNo = 0;
  const fail = (problem: Omit<AuditProblem, 'line'>): AuditReport => ({
    path,
    ok: false,
    entries,
    head,
    problem: { line: lineNo, ...problem },
  });

  for await (const { text, terminated } of readLines(path)) {
    lineNo += 1;
    const at = (seq: number | null) => `line ${lineNo}${seq === null ? '' : ` (seq ${seq})`}`;
    const parsed = parseEntry(text);
    if (!terminated && (typeof parsed === 'string' || entryHash(parsed) !== parsed.hash)) {
      return fail({
        seq: looseSeq(text),
        kind: 'truncated',
        message:
          `${at(looseSeq(text))}: truncated — the last line was cut off (${Buffer.byteLength(text)} bytes, no newline), ` +
          `as by a crash mid-write; the lines before it verify, and the next append removes it and records an audit.repair entry`,
      });
    }
    if (typeof parsed === 'string') {
      return fail({
        seq: looseSeq(text),
        kind: 'malformed',
        message: `${at(looseSeq(text))}: not an audit entry (${text === '' ? 'empty line' : parsed})`,
      });
    }
    const entry: AuditEntry = parsed;
    if (entryHash(entry) !== entry.hash) {
      return fail({
        seq: entry.seq,
        kind: 'edited',
        message: `${at(entry.seq)}: edited — its content does not match its hash`,
      });
    }
    if (canonicalJson(entry) !== text) {
      return fail({
        seq: entry.seq,
        kind: 'edited',
        message: `${at(entry.seq)}: edited — the line is not as written (not canonical JSON)`,
      });
    }
    const expected: number = (head === null ? 0 : head.seq) + 1;
    if (entry.seq !== expected) {
      const later = await findSeq(path, expected, lineNo + 1);
      if (later !== null) {
        return fail({
          seq: entry.seq,
          kind: 'reordered',
          message: `${at(entry.seq)}: out of order — expected seq ${expected} here, which is at line ${later}`,
        });
      }
      if (entry.seq > expected) {
        return fail({
          seq: entry.seq,
          kind: 'deleted',
          message: `${at(entry.seq)}: entries deleted — ${range(expected, entry.seq - 1)} missing before it`,
        });
      }
      return fail({
        seq: entry.seq,
        kind: 'reordered',
        message: `${at(entry.seq)}: out of order — seq ${entry.seq} after seq ${expected - 1} (repeated or moved back)`,
      });
    }
    if (entry.prev !== prev) {
      return fail({
        seq: entry.seq,
        kind: 'chain_broken',
        message:
          head === null
            ? `${at(entry.seq)}: chain broken — the first entry's prev is not the genesis value (${GENESIS_PREV.slice(0, 8)}…): it was rewritten`
            : `${at(entry.seq)}: chain broken — prev does not match line ${lineNo - 1} (seq ${head.seq}): that entry was rewritten (its hash recomputed) or replaced`,
      });
    }
    entries += 1;
    prev = lineDigest(text);
    head = { seq: entry.seq, hash: entry.hash, digest: prev };
  }
  return { path, ok: true, entries, head, problem: null };
}
