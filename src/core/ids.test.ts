import { describe, expect, it } from 'vitest';

import { isId, newId } from './ids.ts';

describe('newId', () => {
  it('is prefixed, valid and unique', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newId('task')));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(isId(id, 'task')).toBe(true);
    expect(isId(newId('lease'), 'task')).toBe(false);
  });

  it('sorts by creation time', () => {
    const a = newId('task', 1_700_000_000_000);
    const b = newId('task', 1_700_000_000_001);
    expect(a < b).toBe(true);
  });
});
