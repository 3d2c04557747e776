/**
 * @module worker/test-backends
 * Real embedded backends in a temp base dir: SQLite store + queue in one file, fs blobs, memory
 * events. The worker's and the server's test helpers both open them here. No test-framework
 * imports; not part of the runtime API.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { openFsBlobStore } from '../blobs/fs/index.ts';
import type { BlobStore } from '../blobs/types.ts';
import { createMemoryEventBus } from '../events/memory/index.ts';
import type { EventBus } from '../events/types.ts';
import { openSqliteQueue } from '../queue/sqlite/queue.ts';
import type { JobQueue } from '../queue/types.ts';
import { openSqliteStore } from '../store/sqlite/store.ts';
import type { MetadataStore } from '../store/types.ts';

/** Embedded backends rooted at a temp `home`. */
export interface TestBackends {
  home: string;
  store: MetadataStore;
  queue: JobQueue;
  blobs: BlobStore;
  events: EventBus;
  /** Closes every backend and deletes `home`. */
  cleanup(): Promise<void>;
}

/**
 * Opens fresh backends in a new temp dir named `<prefix>XXXXXX` (`<home>/fetchml.db`,
 * `<home>/objects`).
 */
export async function openTestBackends(prefix = 'fetchml-worker-'): Promise<TestBackends> {
  const home = await mkdtemp(join(tmpdir(), prefix));
  const store = await openSqliteStore({ path: join(home, 'fetchml.db') });
  await store.migrate();
  const queue = await openSqliteQueue({ path: join(home, 'fetchml.db') });
  const blobs = await openFsBlobStore({ root: join(home, 'objects') });
  await blobs.init();
  const events = createMemoryEventBus();
  return {
    home,
    store,
    queue,
    blobs,
    events,
    async cleanup() {
      await events.close();
      await queue.close();
      await store.close();
      await blobs.close();
      await rm(home, { recursive: true, force: true });
    },
  };
}
