/**
 * @module test/conformance/store.suite
 * The MetadataStore conformance suite: one set of cases every backend must pass unchanged. A
 * backend test file calls {@link runStoreSuite} with a factory returning a fresh, isolated store
 * per test; the suite migrates it before each case.
 *
 * Skips name exact tests as `'<group> > <title>'` (see {@link SuiteSkip}).
 */
import { datasetCases } from './store-cases-datasets.ts';
import { commitCases, lifecycleCases, workerCases } from './store-cases-misc.ts';
import { taskCases } from './store-cases-tasks.ts';
import { transitionCases } from './store-cases-transitions.ts';
import type { StoreCase, StoreHarness } from './store-helpers.ts';
import { runGroupedSuite } from './suite-helpers.ts';
import type { SuiteSkip } from './suite-helpers.ts';

export type { StoreHarness } from './store-helpers.ts';

export interface StoreSuiteOptions {
  create: () => Promise<StoreHarness>;
  skip?: SuiteSkip[];
}

const GROUPS: Array<[string, (it: StoreCase) => void]> = [
  ['commits', commitCases],
  ['tasks', taskCases],
  ['transitions', transitionCases],
  ['workers', workerCases],
  ['datasets', datasetCases],
  ['lifecycle', lifecycleCases],
];

/** Registers the metadata store conformance suite for backend `name`. */
export function runStoreSuite(name: string, options: StoreSuiteOptions): void {
  runGroupedSuite({
    title: `MetadataStore conformance: ${name}`,
    harnessName: 'store',
    create: options.create,
    prepare: (harness) => harness.store.migrate(),
    skip: options.skip,
    groups: GROUPS,
  });
}
