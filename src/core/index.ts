/**
 * @module core
 * Domain types and schemas shared by every part of fetchml. Nothing here does IO.
 */
export * from './errors.ts';
export * from './hash.ts';
export * from './ids.ts';
export * from './paths.ts';
export * from './units.ts';
export * from './schemas/api.ts';
export * from './schemas/common.ts';
export * from './schemas/manifest.ts';
export * from './schemas/spec.ts';
export * from './schemas/task.ts';
export * from './schemas/tree.ts';
export * from './plan.ts';
export * from './new-task.ts';
