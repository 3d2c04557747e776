/**
 * @module export/limits
 * The caps the archive reader (./read.ts) enforces, apart so that commands can name the defaults
 * without loading the reader.
 */

/** Caps that stop a hostile or runaway archive. */
export interface ArchiveLimits {
  /** Total bytes of member content. @default 64 GiB */
  maxBytes: number;
  /** Members (directory entries included). @default 1,000,000 */
  maxMembers: number;
  /** Uncompressed / compressed bytes, checked once past {@link ratioFloorBytes}. @default 200 */
  maxRatio: number;
  /** Uncompressed bytes below which the ratio is not checked. @default 16 MiB */
  ratioFloorBytes: number;
}

export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = {
  maxBytes: 64 * 1024 ** 3,
  maxMembers: 1_000_000,
  maxRatio: 200,
  ratioFloorBytes: 16 * 1024 ** 2,
};
