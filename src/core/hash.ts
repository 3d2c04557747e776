/**
 * @module core/hash
 * sha256 helpers and canonical JSON. Canonical JSON is how every digest in fetchml is made
 * (commit ids, plan_sha256, manifest shas): object keys sorted by code unit, no whitespace,
 * `undefined` members dropped, non-finite numbers refused — the same value always hashes the same.
 */
import { createHash } from 'node:crypto';

import { FetchmlError } from './errors.ts';

const SHA256_HEX = /^[0-9a-f]{64}$/;

export function isSha256Hex(value: unknown): value is string {
  return typeof value === 'string' && SHA256_HEX.test(value);
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Serialises `value` canonically (sorted keys, no whitespace). Throws on cycles and non-JSON. */
export function canonicalJson(value: unknown): string {
  const seen = new Set<object>();
  const walk = (v: unknown, path: string): string => {
    if (v === null) return 'null';
    switch (typeof v) {
      case 'string':
        return JSON.stringify(v);
      case 'boolean':
        return v ? 'true' : 'false';
      case 'number':
        if (!Number.isFinite(v)) {
          throw new FetchmlError('ML_ERR_VALIDATION', `${path || '<root>'}: not a finite number`);
        }
        return JSON.stringify(v);
      case 'object': {
        if (seen.has(v)) throw new FetchmlError('ML_ERR_VALIDATION', `${path}: circular value`);
        seen.add(v);
        let out: string;
        if (Array.isArray(v)) {
          out = `[${v.map((item, i) => walk(item === undefined ? null : item, `${path}[${i}]`)).join(',')}]`;
        } else {
          const obj = v as Record<string, unknown>;
          const keys = Object.keys(obj)
            .filter((k) => obj[k] !== undefined)
            .sort();
          out = `{${keys.map((k) => `${JSON.stringify(k)}:${walk(obj[k], path ? `${path}.${k}` : k)}`).join(',')}}`;
        }
        seen.delete(v);
        return out;
      }
      default:
        throw new FetchmlError(
          'ML_ERR_VALIDATION',
          `${path || '<root>'}: ${typeof v} is not representable in JSON`,
        );
    }
  };
  return walk(value, '');
}

/** sha256 hex of the canonical JSON of `value`. */
export function canonicalSha256(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}
