/**
 * @module test/conformance/store.suite
 * The MetadataStore conformance suite: one set of cases every backend must pass unchanged. A
 * backend test file calls {@link runStoreSuite} with a factory returning a fresh, isolated store
 * per test; the suite migrates it before each case.
 *
 * Skips must give a reason and name exact tests (`'<group> > <title>'`); a skip naming a test that
 * does not exist fails the suite.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { commitCases, lifecycleCases, workerCases } from './store-cases-misc.ts';
import { taskCases } from './store-cases-tasks.ts';
import { transitionCases } from './store-cases-transitions.ts';
import type { StoreCase, StoreHarness } from './store-helpers.ts';

export type { StoreHarness } from './store-helpers.ts';

export interface StoreSuiteOptions {
  create: () => Promise<StoreHarness>;
  skip?: Array<{ reason: string; tests: string[] }>;
}

const GROUPS: Array<[string, (it: StoreCase) => void]> = [
  ['commits', commitCases],
  ['tasks', taskCases],
  ['transitions', transitionCases],
  ['workers', workerCases],
  ['lifecycle', lifecycleCases],
];

/** Registers the metadata store conformance suite for backend `name`. */
export function runStoreSuite(name: string, options: StoreSuiteOptions): void {
  const skipped = new Set((options.skip ?? []).flatMap((s) => s.tests));
  const registered: string[] = [];

  describe(`MetadataStore conformance: ${name}`, () => {
    let harness: StoreHarness | undefined;
    beforeEach(async () => {
      harness = await options.create();
      await harness.store.migrate();
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
            if (harness === undefined) throw new Error('store harness was not created');
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
