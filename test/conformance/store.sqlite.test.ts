/**
 * @module test/conformance/store.sqlite.test
 * Runs the MetadataStore conformance suite against the embedded SQLite store.
 */
import { describe, it } from 'vitest';

import { backendSelected, STORE_BACKENDS } from './backends.ts';
import { runStoreSuite } from './store.suite.ts';

if (backendSelected('sqlite') && STORE_BACKENDS['sqlite']) {
  runStoreSuite('sqlite', { create: STORE_BACKENDS['sqlite'] });
} else {
  describe('MetadataStore conformance: sqlite', () => {
    it.skip('not selected by ML_TEST_BACKEND', () => {});
  });
}
