/**
 * @module snapshot
 * Working-tree snapshots: walk with `.gitignore`/`.mlignore`, stat cache, parallel hashing, tree
 * manifest + commit id; and the way back (`materialize`), comparison (`diffTrees`) and upload of
 * missing blobs. See DESIGN.md "Snapshots and commit ids".
 */
export { snapshotTree, STATE_DIR } from './snapshot.ts';
export type { SnapshotOptions, SnapshotResult, SnapshotStats, SnapshotWarning } from './types.ts';
export { materialize } from './materialize.ts';
export type { LinkMode, MaterializeOptions, MaterializeStats } from './materialize.ts';
export { diffTrees } from './diff.ts';
export type { ModifiedEntry, TreeDiff } from './diff.ts';
export { uploadMissing } from './upload.ts';
export type { UploadItem, UploadOptions, UploadStats, UploadTransport } from './upload.ts';
export { commitIdOf, comparePaths, treeSymlinkProblems } from './manifest.ts';
export { compileIgnore, isIgnored, pushLevel } from './ignore.ts';
export type { IgnoreLevel, Matcher } from './ignore.ts';
export { loadStatCache, saveStatCache, StatCache, statKey } from './statcache.ts';
export type { StatCacheRecord, StatCacheStatus, StatFields } from './statcache.ts';
