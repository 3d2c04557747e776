/**
 * @module test/conformance/backends
 * The factory list the conformance suites run against. Each backend gives a fresh, isolated
 * instance per test (SQLite: a new file in a new temp dir) and knows how to clean it up. A later
 * Redis or PostgreSQL backend adds an entry here and a `*.redis.test.ts` / `*.postgres.test.ts`
 * file calling the same suite.
 *
 * `ML_TEST_BACKEND` picks which backends run: a name, a comma-separated list, or `all`
 * (default `sqlite`, the only one that needs no service).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import Database from 'better-sqlite3';

import { openSqliteQueue } from '../../src/queue/sqlite/queue.ts';
import { openSqliteStore } from '../../src/store/sqlite/store.ts';
import type { QueueHarness, TestClock } from './queue.suite.ts';
import type { StoreHarness } from './store.suite.ts';

/** A clock that moves only when told to, so lease tests never sleep. */
export class ManualClock implements TestClock {
  #ms: number;
  constructor(startMs = Date.UTC(2030, 0, 1)) {
    this.#ms = startMs;
  }
  readonly now = (): number => this.#ms;
  advance(ms: number): void {
    this.#ms += ms;
  }
}

/** True when `name` is selected by ML_TEST_BACKEND (default: sqlite). */
export function backendSelected(name: string): boolean {
  const raw = process.env['ML_TEST_BACKEND'] ?? 'sqlite';
  const wanted = raw.split(',').map((s) => s.trim().toLowerCase());
  return wanted.includes('all') || wanted.includes(name);
}

async function tempDb(): Promise<{ path: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'fetchml-conformance-'));
  return {
    path: join(dir, 'fetchml.db'),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

async function sqliteQueue(): Promise<QueueHarness> {
  const { path, remove } = await tempDb();
  const clock = new ManualClock();
  const opened: Array<{ close(): Promise<void> }> = [];
  const connect = async () => {
    const queue = await openSqliteQueue({ path, now: clock.now });
    opened.push(queue);
    return queue;
  };
  const queue = await connect();
  return {
    queue,
    clock,
    connect,
    cleanup: async () => {
      for (const q of opened) await q.close();
      await remove();
    },
  };
}

async function sqliteStore(): Promise<StoreHarness> {
  const { path, remove } = await tempDb();
  const opened: Array<{ close(): Promise<void> }> = [];
  const open = async () => {
    const store = await openSqliteStore({ path });
    opened.push(store);
    return store;
  };
  const store = await open();
  return {
    store,
    reopen: open,
    corruptTask: (id, raw) => {
      const db = new Database(path);
      try {
        db.prepare('UPDATE tasks SET task_json = ? WHERE id = ?').run(raw, id);
      } finally {
        db.close();
      }
      return Promise.resolve();
    },
    cleanup: async () => {
      for (const s of opened) await s.close();
      await remove();
    },
  };
}

/** Queue backends by name. */
export const QUEUE_BACKENDS: Record<string, () => Promise<QueueHarness>> = { sqlite: sqliteQueue };

/** Metadata store backends by name. */
export const STORE_BACKENDS: Record<string, () => Promise<StoreHarness>> = { sqlite: sqliteStore };
