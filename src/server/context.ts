/**
 * @module server/context
 * What every route module receives: the injected backends and the resolved options. Routes are
 * plain functions `(app, ctx) => void`, so each is testable and none imports a backend.
 */
import type { RoleTable } from '../auth/roles.ts';
import type { BlobStore } from '../blobs/types.ts';
import type { EventBus } from '../events/types.ts';
import type { JobQueue } from '../queue/types.ts';
import type { MetadataStore } from '../store/types.ts';
import type { TaskFiles } from './paths.ts';

export interface RouteContext {
  store: MetadataStore;
  queue: JobQueue;
  blobs: BlobStore;
  events: EventBus;
  files: TaskFiles;
  clock: () => number;
  version: string;
  /** Largest blob-route body, bytes. */
  blobBodyLimit: number;
  /** Roles → permissions, for ownership checks in routes. */
  roles: RoleTable;
}

/** ISO-8601 time from the context's clock. */
export function nowIso(ctx: Pick<RouteContext, 'clock'>): string {
  return new Date(ctx.clock()).toISOString();
}
