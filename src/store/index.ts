/**
 * @module store
 * The metadata store: its interface and the backends that implement it. Callers depend on
 * {@link MetadataStore}; only the composition root (ops) picks a backend.
 */
export type {
  FinishTask,
  ListTasksQuery,
  MarkQueued,
  MarkRunning,
  MetadataStore,
  WorkerInput,
} from './types.ts';
export { MAX_LIST_LIMIT } from './types.ts';
export { WorkerRecord, WorkerStatus } from './worker-record.ts';
export { openSqliteStore } from './sqlite/store.ts';
export type { SqliteStoreOptions } from './sqlite/store.ts';
