/**
 * @module test/conformance/queue.suite
 * The JobQueue conformance suite: one set of cases every backend must pass unchanged
 * (DESIGN.md "Queue semantics"). A backend test file calls {@link runQueueSuite} with a factory
 * that returns a fresh, isolated queue per test.
 *
 * Skips must give a reason and name exact tests (`'<group> > <title>'`); a skip naming a test that
 * does not exist fails the suite, so skip lists cannot go stale silently.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { cancelCases, lifecycleCases } from './queue-cases-cancel.ts';
import { claimCases, enqueueCases } from './queue-cases-claim.ts';
import { fencingCases, leaseCases } from './queue-cases-lease.ts';
import type { QueueCase, QueueHarness } from './queue-helpers.ts';

export type { QueueHarness, TestClock } from './queue-helpers.ts';

export interface SuiteSkip {
  reason: string;
  /** Full names: `'<group> > <title>'`, e.g. `'claim > FIFO within a priority'`. */
  tests: string[];
}

export interface QueueSuiteOptions {
  create: () => Promise<QueueHarness>;
  skip?: SuiteSkip[];
}

const GROUPS: Array<[string, (it: QueueCase) => void]> = [
  ['enqueue', enqueueCases],
  ['claim', claimCases],
  ['lease', leaseCases],
  ['fencing', fencingCases],
  ['cancel', cancelCases],
  ['lifecycle', lifecycleCases],
];

/** Registers the queue conformance suite for backend `name`. */
export function runQueueSuite(name: string, options: QueueSuiteOptions): void {
  const skipped = new Set((options.skip ?? []).flatMap((s) => s.tests));
  const registered: string[] = [];

  describe(`JobQueue conformance: ${name}`, () => {
    let harness: QueueHarness | undefined;
    beforeEach(async () => {
      harness = await options.create();
    });
    afterEach(async () => {
      await harness?.cleanup();
      harness = undefined;
    });

    for (const [group, cases] of GROUPS) {
      describe(group, () => {
        cases((title, fn) => {
          const full = `${group} > ${title}`;
          registered.push(full);
          const register = skipped.has(full) ? it.skip : it;
          register(title, () => {
            if (harness === undefined) throw new Error('queue harness was not created');
            return fn(harness);
          });
        });
      });
    }

    it('skip list names only existing tests', () => {
      expect([...skipped].filter((t) => !registered.includes(t))).toEqual([]);
    });
  });
}
