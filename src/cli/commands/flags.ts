/**
 * @module cli/commands/flags
 * Parsers for numeric and unit flags. They throw commander's InvalidArgumentError, so a bad value
 * is a usage error (exit 2) naming the flag, caught before anything connects.
 */
import { InvalidArgumentError } from 'commander';

import { parseDurationS, parseSizeMb } from '../../core/units.ts';

/** An integer within [min, max]. */
export function intFlag(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || n < min || n > max)
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    return n;
  };
}

/** A positive number (fractions allowed), e.g. CPUs. */
export function positiveFlag(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
}

/** A size such as `512m` or `4g`, in MiB. */
export function sizeFlag(value: string): number {
  const mb = parseSizeMb(value);
  if (mb === null || mb <= 0) throw new InvalidArgumentError('expected a size such as 512m or 4g');
  return mb;
}

/** A duration such as `90s`, `30m` or `1h30m`, in seconds. */
export function durationFlag(value: string): number {
  const s = parseDurationS(value);
  if (s === null || s <= 0) throw new InvalidArgumentError('expected a duration such as 90s or 2h');
  return s;
}

/** One of `choices`. */
export function choiceFlag<T extends string>(choices: readonly T[]) {
  return (value: string): T => {
    if (!(choices as readonly string[]).includes(value))
      throw new InvalidArgumentError(`expected one of ${choices.join(', ')}`);
    return value as T;
  };
}
