/**
 * @module snapshot/types
 * The options and results of `snapshotTree`, apart from the code so that callers (the CLI, the
 * TUI's progress) can import them without the walker.
 */
import type { TreeManifest } from '../core/schemas/tree.ts';
import type { StatCacheStatus } from './statcache.ts';

/** Options of {@link snapshotTree}. */
export interface SnapshotOptions {
  /**
   * Stat cache file, or `false` for none. Default `<root>/.fetchml/statcache` (the `.fetchml/`
   * directory is always left out of snapshots and gets a `.gitignore` of `*`).
   */
  statCache?: string | false;
  /** Hashing workers. Default: `os.availableParallelism()`. 0 hashes in the main thread only. */
  workers?: number;
  /**
   * How much pending hashing starts the worker pool (below both, the main thread hashes).
   * @default { files: 256, bytes: 16 MiB }
   */
  poolThreshold?: { files: number; bytes: number };
  /**
   * Use the native stat check (./native.ts) when it is built. `false` forces the JavaScript
   * path (tests compare the two). @default true
   */
  native?: boolean;
}

/** Counters of one snapshot. */
export interface SnapshotStats {
  files: number;
  symlinks: number;
  /** Total size of the files. */
  bytes: number;
  /** Files read and hashed by this call. */
  hashed: number;
  hashedBytes: number;
  /** Files whose hash came from the stat cache. */
  cached: number;
  /** Sockets, fifos, devices and vanished files left out (see `warnings`). */
  skipped: number;
  /** Worker threads used (0: all hashing was done in the main thread). */
  workers: number;
  cache: StatCacheStatus;
  /**
   * How the tree was listed: `replayed` from the tree cache (no directory or ignore file changed
   * since the last walk, see ./tree-cache.ts), or `walked`.
   */
  tree: 'replayed' | 'walked';
  ms: number;
  /** Where the time went, in ms: a diagnostic, not a stable interface. */
  phases: { loadCache: number; walk: number; hash: number; manifest: number; saveCache: number };
}

/** Something left out of the snapshot that the user may want to know about. */
export interface SnapshotWarning {
  path: string;
  reason: string;
}

/** The result of {@link snapshotTree}. */
export interface SnapshotResult {
  manifest: TreeManifest;
  /** `canonicalSha256(manifest)`. */
  commitId: string;
  stats: SnapshotStats;
  warnings: SnapshotWarning[];
}
