/**
 * @module test/conformance/queue.suite
 * The JobQueue conformance suite: one set of cases every backend must pass unchanged
 * (DESIGN.md "Queue semantics"). A backend test file calls {@link runQueueSuite} with a factory
 * that returns a fresh, isolated queue per test.
 *
 * Skips name exact tests as `'<group> > <title>'` (see {@link SuiteSkip}).
 */
import { cancelCases, lifecycleCases } from './queue-cases-cancel.ts';
import { claimCases, enqueueCases } from './queue-cases-claim.ts';
import { fencingCases, leaseCases } from './queue-cases-lease.ts';
import { listCases } from './queue-cases-list.ts';
import { priorityCases } from './queue-cases-priority.ts';
import type { QueueCase, QueueHarness } from './queue-helpers.ts';
import { runGroupedSuite } from './suite-helpers.ts';
import type { SuiteSkip } from './suite-helpers.ts';

export type { QueueHarness, TestClock } from './queue-helpers.ts';
export type { SuiteSkip } from './suite-helpers.ts';

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
  ['priority', priorityCases],
  ['list', listCases],
  ['lifecycle', lifecycleCases],
];

/** Registers the queue conformance suite for backend `name`. */
export function runQueueSuite(name: string, options: QueueSuiteOptions): void {
  runGroupedSuite({
    title: `JobQueue conformance: ${name}`,
    harnessName: 'queue',
    create: options.create,
    skip: options.skip,
    groups: GROUPS,
  });
}
