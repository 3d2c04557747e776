/**
 * @module test/conformance/store-helpers
 * The harness a metadata store backend provides to the store conformance suite.
 */
import type { MetadataStore } from '../../src/store/types.ts';

/** One fresh, isolated, migrated-or-not store per test (the suite migrates it). */
export interface StoreHarness {
  store: MetadataStore;
  /** Opens a new connection to the same data (after `store` was closed, or beside it). */
  reopen(): Promise<MetadataStore>;
  /** Overwrites the stored document of task `id` with `raw`, bypassing validation. */
  corruptTask(id: string, raw: string): Promise<void>;
  /** Closes every connection and deletes the data. */
  cleanup(): Promise<void>;
}

/** Registers one case; the suite wraps it with the harness and the skip list. */
export type StoreCase = (title: string, fn: (h: StoreHarness) => Promise<void>) => void;
