/**
 * @module audit/chain
 * The audit log's entry format and hash chain (`<home>/logs/audit.log`, one JSON line per entry).
 *
 * Each line is the canonical JSON (`core/hash`) of one {@link AuditEntry}:
 * - `hash` = sha256 of the canonical JSON of the entry without `hash` (so an edited entry no
 *   longer matches its own hash);
 * - `prev` = sha256 of the previous line exactly as written (without its newline), or
 *   {@link GENESIS_PREV} for the first entry (so removing, replacing or reordering lines breaks
 *   the link of the line after);
 * - `seq` counts from 1 without gaps (so a deletion or a swap names the missing or misplaced seq).
 *
 * The writer (`audit/writer`) and `fetchml audit verify` (`audit/verify`) share these helpers.
 */
import { canonicalJson, isSha256Hex, sha256Hex } from '../core/hash.ts';

/** `prev` of the first entry. */
export const GENESIS_PREV = '0'.repeat(64);

/** How an audited action ended. */
export type AuditOutcome = 'ok' | 'denied' | 'error';
const OUTCOMES: ReadonlySet<string> = new Set(['ok', 'denied', 'error']);

/**
 * The actions written today (a reader should accept others: the list grows).
 * `auth.*` are refusals by the auth chain; `audit.repair` is written by the log itself.
 */
export type AuditAction =
  | 'server.start'
  | 'server.stop'
  | 'task.create'
  | 'task.cancel'
  | 'task.priority'
  | 'task.import'
  | 'commit.create'
  | 'blob.put'
  | 'blob.batch'
  | 'dataset.create'
  | 'user.add'
  | 'user.revoke'
  | 'user.rotate'
  | 'ban.add'
  | 'ban.remove'
  | 'auth.failure'
  | 'auth.forbidden'
  | 'audit.repair';

/** What a caller records; the log adds `seq`, `ts`, `prev` and `hash`. */
export interface AuditEvent {
  /** A user name (API requests), `system` (the server itself) or `ops` (a `fetchml` command). */
  actor: string;
  action: AuditAction;
  /** Client address of an API request; null for `system` and `ops`. */
  ip?: string | null;
  /** What the action was on: a task id, user name, key id, address, blob hash. */
  target?: string | null;
  /** @default 'ok' */
  outcome?: AuditOutcome;
  /** Further JSON-safe facts (HTTP status, error code, key id, counts). Never secrets. */
  detail?: Record<string, unknown>;
}

/** One line of the audit log. */
export interface AuditEntry {
  seq: number;
  /** ISO 8601 time the entry was written. */
  ts: string;
  actor: string;
  ip: string | null;
  action: string;
  target: string | null;
  outcome: AuditOutcome;
  detail?: Record<string, unknown>;
  prev: string;
  hash: string;
}

/** `hash` of an entry: sha256 of its canonical JSON without `hash`. */
export function entryHash(entry: Omit<AuditEntry, 'hash'> & { hash?: unknown }): string {
  const { hash: _hash, ...body } = entry;
  return sha256Hex(canonicalJson(body));
}

/** What the next entry's `prev` is after `line` (written without its newline). */
export function lineDigest(line: string): string {
  return sha256Hex(line);
}

/** The entry at `seq` after the line whose digest is `prev`, and its line (no newline). */
export function sealEntry(
  event: AuditEvent,
  seq: number,
  ts: string,
  prev: string,
): { entry: AuditEntry; line: string } {
  const body: Omit<AuditEntry, 'hash'> = {
    seq,
    ts,
    actor: event.actor,
    ip: event.ip ?? null,
    action: event.action,
    target: event.target ?? null,
    outcome: event.outcome ?? 'ok',
    ...(event.detail ? { detail: event.detail } : {}),
    prev,
  };
  const entry: AuditEntry = { ...body, hash: entryHash(body) };
  return { entry, line: canonicalJson(entry) };
}

const nullableString = (v: unknown) => v === null || typeof v === 'string';

/**
 * Parses one line into an entry, or returns what is wrong with its shape (a string). Does not
 * check the hash or the chain.
 */
export function parseEntry(line: string): AuditEntry | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return 'not JSON';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return 'not a JSON object';
  }
  const e = value as Record<string, unknown>;
  const problems: string[] = [];
  if (!Number.isSafeInteger(e['seq']) || (e['seq'] as number) < 1) problems.push('seq');
  if (typeof e['ts'] !== 'string') problems.push('ts');
  if (typeof e['actor'] !== 'string') problems.push('actor');
  if (!nullableString(e['ip'])) problems.push('ip');
  if (typeof e['action'] !== 'string') problems.push('action');
  if (!nullableString(e['target'])) problems.push('target');
  if (typeof e['outcome'] !== 'string' || !OUTCOMES.has(e['outcome'])) problems.push('outcome');
  if (
    e['detail'] !== undefined &&
    (typeof e['detail'] !== 'object' || e['detail'] === null || Array.isArray(e['detail']))
  ) {
    problems.push('detail');
  }
  if (!isSha256Hex(e['prev'])) problems.push('prev');
  if (!isSha256Hex(e['hash'])) problems.push('hash');
  if (problems.length > 0) return `missing or invalid ${problems.join(', ')}`;
  return e as unknown as AuditEntry;
}

/** The `seq` of a line that may not parse (best effort), or null. */
export function looseSeq(line: string): number | null {
  const match = /"seq":(\d+)/.exec(line);
  return match ? Number(match[1]) : null;
}
