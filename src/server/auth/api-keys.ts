/**
 * @module server/auth/api-keys
 * API keys: `fml_` + 32 random bytes in base64url (256 bits), shown once. The store keeps only
 * HMAC-SHA256(per-key salt, key). A salted slow hash (scrypt) is for low-entropy passwords; for a
 * 256-bit random key a keyed fast hash is as strong and costs ~1 µs per request, which matters for
 * the authenticated-requests/s budget. A lookup must not scan every record, so each record also
 * keeps the first {@link PREFIX_LENGTH} characters of the secret (48 of 256 bits; the other 208
 * stay secret) and verification compares in constant time.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { newId } from '../../core/ids.ts';
import type { ApiKeyRecord, KeyStore } from './key-store.ts';

export const KEY_PREFIX = 'fml_';
export const PREFIX_LENGTH = 8;
const KEY_RE = /^fml_[A-Za-z0-9_-]{43}$/;

/** A fresh API key (plaintext). */
export function generateApiKey(): string {
  return KEY_PREFIX + randomBytes(32).toString('base64url');
}

/** The lookup prefix of a well-formed key, or null when `key` is not shaped like one. */
export function keyLookupPrefix(key: string): string | null {
  return KEY_RE.test(key) ? key.slice(KEY_PREFIX.length, KEY_PREFIX.length + PREFIX_LENGTH) : null;
}

function hmac(salt: string, key: string): Buffer {
  return createHmac('sha256', Buffer.from(salt, 'hex')).update(key).digest();
}

/** The record to store for `key`. */
export function hashApiKey(
  key: string,
  who: { user: string; role: string },
  now: Date = new Date(),
): ApiKeyRecord {
  const prefix = keyLookupPrefix(key);
  if (prefix === null) throw new Error('not an API key');
  const salt = randomBytes(16).toString('hex');
  return {
    id: newId('key', now.getTime()),
    user: who.user,
    role: who.role,
    prefix,
    salt,
    hash: hmac(salt, key).toString('hex'),
    created_at: now.toISOString(),
    revoked_at: null,
  };
}

/** The record `key` belongs to, revoked or not, or null (unknown or malformed). */
export async function findApiKey(keys: KeyStore, key: string): Promise<ApiKeyRecord | null> {
  const prefix = keyLookupPrefix(key);
  if (prefix === null) return null;
  for (const record of await keys.findByPrefix(prefix)) {
    const expected = Buffer.from(record.hash, 'hex');
    const actual = hmac(record.salt, key);
    if (expected.length === actual.length && timingSafeEqual(expected, actual)) return record;
  }
  return null;
}

/**
 * Keys verified recently, per store: key → the record it matched. A hit is still checked against
 * the store's current records by identity (a reload, revocation or rotation replaces the record
 * objects), so revocation takes effect at once; only live keys are remembered, so every wrong key
 * takes the full HMAC path. Saves the HMAC (~a third of the auth chain's CPU) on every request but
 * a key's first.
 */
const verified = new WeakMap<KeyStore, Map<string, ApiKeyRecord>>();
const VERIFIED_MAX = 10_000;

/**
 * The live record `key` belongs to, or null (unknown, malformed or revoked). Synchronous for a key
 * verified before whose record is unchanged (the common case), a promise otherwise.
 */
export function verifyApiKey(
  keys: KeyStore,
  key: string,
): ApiKeyRecord | null | Promise<ApiKeyRecord | null> {
  const hit = verified.get(keys)?.get(key);
  if (hit) {
    const current = keys.findByPrefix(hit.prefix);
    if (!(current instanceof Promise) && current.includes(hit) && hit.revoked_at === null) {
      return hit;
    }
  }
  return verifySlowly(keys, key);
}

async function verifySlowly(keys: KeyStore, key: string): Promise<ApiKeyRecord | null> {
  let memo = verified.get(keys);
  memo?.delete(key);
  const record = await findApiKey(keys, key);
  if (record === null || record.revoked_at !== null) return null;
  if (!memo) verified.set(keys, (memo = new Map<string, ApiKeyRecord>()));
  if (memo.size >= VERIFIED_MAX) memo.clear();
  memo.set(key, record);
  return record;
}

/**
 * At first start (no key stored yet) creates the admin key, writes it once to `<home>/admin.key`
 * (0600) and returns it so `fetchml up` can print it; otherwise returns null.
 */
export async function ensureAdminKey(keys: KeyStore, home: string): Promise<string | null> {
  if ((await keys.list()).length > 0) return null;
  const key = generateApiKey();
  const path = join(home, 'admin.key');
  await writeFile(path, `${key}\n`, { mode: 0o600 });
  await chmod(path, 0o600);
  await keys.add(hashApiKey(key, { user: 'admin', role: 'admin' }));
  return key;
}
