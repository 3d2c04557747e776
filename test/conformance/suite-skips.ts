/**
 * @module test/conformance/suite-skips
 * The skip list every conformance suite accepts. A skip gives a reason and names exact tests; a
 * skip naming a test that does not exist fails the suite, so skip lists cannot go stale silently.
 */
import { expect, it } from 'vitest';

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
