/**
 * @module test/conformance/queue.suite
 * The JobQueue conformance suite: one set of cases every backend must pass unchanged
 * (DESIGN.md "Queue semantics"). A backend test file calls {@link runQueueSuite} with a factory
 * that returns a fresh, isolated queue per test.
 *
 * Skips name exact tests as `'<group> > <title>'` (see {@link SuiteSkip}).
 */
import { afterEach, beforeEach, describe } from 'vitest';

import { cancelCases, lifecycleCases } from './queue-cases-cancel.ts';
import { claimCases, enqueueCases } from './queue-cases-claim.ts';
import { fencingCases, leaseCases } from './queue-cases-lease.ts';
import type { QueueCase, QueueHarness } from './queue-helpers.ts';
import { skipList } from './suite-skips.ts';
import type { SuiteSkip } from './suite-skips.ts';

export type { QueueHarness, TestClock } from './queue-helpers.ts';
export type { SuiteSkip } from './suite-skips.ts';

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
  const skips = skipList(options.skip);

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
          skips.it(
            title,
            () => {
              if (harness === undefined) throw new Error('queue harness was not created');
              return fn(harness);
            },
            { name: `${group} > ${title}` },
          );
        });
      });
    }

    skips.checkNames();
  });
}
