import { describe, expect, it } from 'vitest';

import { FetchmlError } from './errors.ts';
import { canonicalJson, canonicalSha256, isSha256Hex, sha256Hex } from './hash.ts';

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, 'x'], c: null, u: undefined } })).toBe(
      '{"a":{"c":null,"d":[1,"x"]},"b":1}',
    );
  });

  it('gives the same digest whatever the key order', () => {
    expect(canonicalSha256({ x: 1, y: [true, false] })).toBe(
      canonicalSha256({ y: [true, false], x: 1 }),
    );
  });

  it('refuses non-finite numbers, naming the path', () => {
    expect(() => canonicalJson({ a: { b: Number.NaN } })).toThrow(/a\.b: not a finite number/);
  });

  it('refuses cycles and functions', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(FetchmlError);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(/function is not representable/);
  });

  it('escapes strings exactly as JSON does', () => {
    expect(canonicalJson({ s: 'a"\n\u0000é' })).toBe(JSON.stringify({ s: 'a"\n\u0000é' }));
  });
});

describe('sha256Hex', () => {
  it('matches the known digest of the empty string', () => {
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(isSha256Hex(sha256Hex('x'))).toBe(true);
    expect(isSha256Hex('E3B0')).toBe(false);
  });
});
