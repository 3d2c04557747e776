/**
 * @module test/conformance/suite-helpers
 * What the conformance suites share: the skip list every suite accepts ({@link skipList}), and
 * {@link runGroupedSuite}, which registers groups of cases around a fresh harness per test (the
 * queue and store suites). A skip gives a reason and names exact tests; a skip naming a test that
 * does not exist fails the suite, so skip lists cannot go stale silently.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

/** Tests a backend skips, with the reason. */
export interface SuiteSkip {
  reason: string;
  /** Full test names, as the suite documents them (e.g. `'claim > FIFO within a priority'`). */
  tests: string[];
}

/** Registers a suite's tests against a skip list; see {@link skipList}. */
export interface SkipList {
  /**
   * Registers test `title` (known to the skip list as `name`, default `title`) with `it`, or with
   * `it.skip` and the reason appended to the title when `name` is skipped.
   */
  it(title: string, fn: () => unknown, options?: { name?: string; timeout?: number }): void;
  /** Registers the test that fails when a skip names a test that was never registered. */
  checkNames(): void;
}

/** A skip list over `skips` (the suite's `options.skip`). */
export function skipList(skips: SuiteSkip[] = []): SkipList {
  const reasons = new Map<string, string>();
  for (const skip of skips) for (const test of skip.tests) reasons.set(test, skip.reason);
  const registered = new Set<string>();
  return {
    it(title, fn, options = {}) {
      const name = options.name ?? title;
      registered.add(name);
      const reason = reasons.get(name);
      if (reason !== undefined) it.skip(`${title} (skipped: ${reason})`, fn);
      else it(title, fn, options.timeout);
    },
    checkNames() {
      it('skip list names only existing tests', () => {
        expect([...reasons.keys()].filter((t) => !registered.has(t))).toEqual([]);
      });
    },
  };
}

/** Registers one case; {@link runGroupedSuite} wraps it with the harness and the skip list. */
export type SuiteCase<H> = (title: string, fn: (h: H) => Promise<void>) => void;

/** What {@link runGroupedSuite} registers. */
export interface GroupedSuite<H extends { cleanup(): Promise<void> }> {
  /** The suite's `describe` title. */
  title: string;
  /** What the harness is called in the "was not created" error. */
  harnessName: string;
  /** A fresh, isolated harness per test; `cleanup()` runs after the test. */
  create: () => Promise<H>;
  /** Runs on each new harness before the test (after it is kept for cleanup). */
  prepare?: (h: H) => Promise<void>;
  /** Skips name tests as `'<group> > <title>'`. */
  skip?: SuiteSkip[] | undefined;
  groups: Array<[string, (it: SuiteCase<H>) => void]>;
}

/** Registers every group's cases under `describe(group)`, each with its own harness. */
export function runGroupedSuite<H extends { cleanup(): Promise<void> }>(
  suite: GroupedSuite<H>,
): void {
  const skips = skipList(suite.skip);
  describe(suite.title, () => {
    let harness: H | undefined;
    beforeEach(async () => {
      harness = await suite.create();
      await suite.prepare?.(harness);
    });
    afterEach(async () => {
      await harness?.cleanup();
      harness = undefined;
    });

    for (const [group, cases] of suite.groups) {
      describe(group, () => {
        cases((title, fn) => {
          skips.it(
            title,
            () => {
              if (harness === undefined) {
                throw new Error(`${suite.harnessName} harness was not created`);
              }
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
