import { describe, expect, it } from 'vitest';

import { formatBytes, parseDurationS, parseSizeMb } from './units.ts';

describe('parseSizeMb', () => {
  it.each([
    [512, 512],
    ['512', 512],
    ['512m', 512],
    ['4g', 4096],
    ['1.5GiB', 1536],
    ['1024k', 1],
    ['1t', 1048576],
  ])('%j → %d MiB', (input, mb) => expect(parseSizeMb(input)).toBe(mb));
  it.each(['', 'lots', '4 parsecs', '-1g', -1, Number.NaN])('refuses %j', (input) =>
    expect(parseSizeMb(input)).toBeNull(),
  );
});

describe('parseDurationS', () => {
  it.each([
    [90, 90],
    ['90', 90],
    ['90s', 90],
    ['30m', 1800],
    ['1h30m', 5400],
    ['500ms', 0.5],
    ['2d', 172800],
  ])('%j → %d s', (input, s) => expect(parseDurationS(input)).toBe(s));
  it.each(['', 'soon', '1h 30m', '5x', '-5s'])('refuses %j', (input) =>
    expect(parseDurationS(input)).toBeNull(),
  );
});

describe('formatBytes', () => {
  it('uses binary units', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(5 * 1024 ** 3)).toBe('5.0 GiB');
  });
});
