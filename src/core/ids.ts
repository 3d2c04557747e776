/**
 * @module core/ids
 * Identifiers: time-sortable, URL-safe, prefixed by kind (`task_01J…`). 48 bits of milliseconds and
 * 80 random bits in Crockford base32, so ids sort by creation time and never collide in practice.
 */
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export type IdKind = 'task' | 'lease' | 'worker' | 'key' | 'user';

function encodeTime(ms: number): string {
  let out = '';
  let t = ms;
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[t % 32]! + out;
    t = Math.floor(t / 32);
  }
  return out;
}

function encodeRandom(bytes: Buffer): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31]!;
      bits -= 5;
    }
  }
  return out;
}

/** A new id such as `task_01JD3Q3Z4X6V8W9Y0A1B2C3D4E`. */
export function newId(kind: IdKind, now: number = Date.now()): string {
  return `${kind}_${encodeTime(now)}${encodeRandom(randomBytes(10))}`;
}

const ID_RE = /^[a-z]+_[0-9A-HJKMNP-TV-Z]{26}$/;

export function isId(value: unknown, kind?: IdKind): value is string {
  return typeof value === 'string' && ID_RE.test(value) && (!kind || value.startsWith(`${kind}_`));
}
