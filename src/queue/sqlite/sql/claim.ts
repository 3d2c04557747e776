/**
 * @module queue/sqlite/sql/claim
 * claim: lease the best queued entry that fits, in ONE `UPDATE … WHERE seq = (SELECT …) RETURNING`.
 * Run inside `BEGIN IMMEDIATE`, so the write lock is held from the choice to the lease: two
 * connections (or processes) can never lease the same entry.
 *
 * "Best" = highest priority, then lowest seq (enqueue order). Entries that do not fit are skipped
 * rather than blocking the scan, so a big job never holds back smaller ones. Fit: cpus, memory and
 * gpus each ≤ free, no job label missing from the worker's labels (`json_each` on both sides), and
 * — when the worker lists the images it has (:images not null) — the job names no image or one of
 * them. The image filter is part of the same statement, so a worker never leases a job it would
 * have to give back.
 *
 * Params: :cpus :memory_mb :gpus (free), :labels (JSON array), :images (JSON array or null),
 *         :lease_id, :worker_id, :now, :lease_ms. Returns the leased entry's task_id, lease_id, attempt, lease_expires_at.
 */
import type { SqliteDatabase } from '../../../store/sqlite/connection.ts';
import type { Claim, ClaimInput } from '../../types.ts';

const CLAIM_SQL = `
  UPDATE queue_jobs
  SET state = 'leased', attempt = attempt + 1, lease_id = :lease_id,
      lease_expires_at = CAST(:now + :lease_ms AS INTEGER), worker_id = :worker_id,
      updated_at = :now
  WHERE seq = (
    SELECT j.seq FROM queue_jobs AS j
    WHERE j.state = 'queued'
      AND j.cpus <= :cpus AND j.memory_mb <= :memory_mb AND j.gpus <= :gpus
      AND NOT EXISTS (
        SELECT 1 FROM json_each(j.labels_json) AS need
        WHERE need.value NOT IN (SELECT have.value FROM json_each(:labels) AS have))
      AND (j.image IS NULL OR :images IS NULL
        OR j.image IN (SELECT img.value FROM json_each(:images) AS img))
    ORDER BY j.priority DESC, j.seq ASC
    LIMIT 1)
  RETURNING task_id, lease_id, attempt, lease_expires_at`;

export function claimJob(
  db: SqliteDatabase,
  input: ClaimInput,
  leaseId: string,
  now: number,
): Claim | null {
  const row = db.prepare(CLAIM_SQL).get({
    cpus: input.free.cpus,
    memory_mb: input.free.memory_mb,
    gpus: input.free.gpus,
    labels: JSON.stringify(input.free.labels),
    images: input.images === undefined ? null : JSON.stringify(input.images),
    lease_id: leaseId,
    worker_id: input.worker_id,
    now,
    lease_ms: input.lease_ms,
  }) as Claim | undefined;
  return row ?? null;
}
