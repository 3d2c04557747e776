/**
 * @module ops/backends
 * The composition root: opens the backends a config names (store, queue, blobs, events) and
 * closes them in reverse order. Embedded defaults (SQLite + local files + in-process events)
 * need nothing installed; a backend that this build does not have yet is refused with a clear
 * configuration error instead of silently falling back.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

import { openFsBlobStore } from '../blobs/fs/index.ts';
import type { BlobStore } from '../blobs/types.ts';
import type { Config } from '../config/index.ts';
import { FetchmlError } from '../core/errors.ts';
import { createMemoryEventBus } from '../events/memory/index.ts';
import type { EventBus } from '../events/types.ts';
import { openSqliteQueue } from '../queue/index.ts';
import type { JobQueue } from '../queue/types.ts';
import { openSqliteStore } from '../store/index.ts';
import type { MetadataStore } from '../store/types.ts';

export interface Backends {
  store: MetadataStore;
  queue: JobQueue;
  blobs: BlobStore;
  events: EventBus;
  /** Closes everything opened, last first. Safe to call twice. */
  close(): Promise<void>;
}

function notYet(setting: string, value: string): FetchmlError {
  return new FetchmlError(
    'ML_ERR_CONFIG_INVALID',
    `${setting}: "${value}" is not available in this build yet; use the embedded default`,
    { details: { field: setting } },
  );
}

/** Opens the configured backends (migrating the store). */
export async function openBackends(config: Config): Promise<Backends> {
  if (config.store.backend !== 'sqlite') throw notYet('store.backend', config.store.backend);
  if (config.queue.backend !== 'sqlite') throw notYet('queue.backend', config.queue.backend);
  if (config.blobs.backend !== 'fs') throw notYet('blobs.backend', config.blobs.backend);
  if (config.events.backend !== 'memory') throw notYet('events.backend', config.events.backend);

  const opened: Array<{ close(): Promise<void> }> = [];
  const close = async () => {
    while (opened.length > 0) await opened.pop()!.close();
  };
  try {
    const sqlitePath = config.store.sqlite_path!;
    await mkdir(dirname(sqlitePath), { recursive: true });
    const store = await openSqliteStore({ path: sqlitePath });
    opened.push(store);
    await store.migrate();
    const queue = await openSqliteQueue({ path: sqlitePath });
    opened.push(queue);
    const blobs = await openFsBlobStore({ root: config.blobs.root! });
    opened.push(blobs);
    const events = createMemoryEventBus();
    opened.push(events);
    return { store, queue, blobs, events, close };
  } catch (err) {
    await close();
    throw err;
  }
}
