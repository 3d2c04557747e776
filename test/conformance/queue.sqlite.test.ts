/**
 * @module test/conformance/queue.sqlite.test
 * Runs the JobQueue conformance suite against the embedded SQLite queue.
 */
import { describe, it } from 'vitest';

import { backendSelected, QUEUE_BACKENDS } from './backends.ts';
import { runQueueSuite } from './queue.suite.ts';

if (backendSelected('sqlite') && QUEUE_BACKENDS['sqlite']) {
  runQueueSuite('sqlite', { create: QUEUE_BACKENDS['sqlite'] });
} else {
  describe('JobQueue conformance: sqlite', () => {
    it.skip('not selected by ML_TEST_BACKEND', () => {});
  });
}
