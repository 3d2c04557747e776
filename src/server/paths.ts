/**
 * @module server/paths
 * The task file layout, shared with the worker: it lives in `core/layout` so both sides agree;
 * re-exported here for the server's modules.
 */
export { assertTaskId, taskDir, taskFiles } from '../core/layout.ts';
export type { TaskFiles } from '../core/layout.ts';
