/**
 * @module blobs/fs
 * The local-filesystem BlobStore. Import from here; the other files are its internals.
 */
export { FsBlobStore, openFsBlobStore } from './fs-blob-store.ts';
export type { FsBlobStoreOptions } from './fs-blob-store.ts';
export type { TempCleanup } from './temp-files.ts';
export { DEFAULT_STALE_TEMP_MS } from './temp-files.ts';
