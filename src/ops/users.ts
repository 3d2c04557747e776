/**
 * @module ops/users
 * What `fetchml user add|list|revoke|rotate` do, over a {@link KeyStore}: kept apart from the
 * commander wiring so tests drive it directly. A user is just the name on its keys; a user "exists"
 * while it has a live key. Keys are shown once, when created, and never again (only their keyed
 * hash is stored); listing shows ids, never the keys or their lookup prefixes.
 */
import { FetchmlError } from '../core/errors.ts';
import { generateApiKey, hashApiKey } from '../server/auth/api-keys.ts';
import type { ApiKeyRecord, KeyStore } from '../server/auth/key-store.ts';

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** A key as listed: everything but the salt, hash and lookup prefix. */
export interface UserKeyInfo {
  id: string;
  user: string;
  role: string;
  created_at: string;
  revoked_at: string | null;
}

/** Throws ML_ERR_VALIDATION unless `name` is a valid user (or role) name. */
export function assertName(name: string, field: 'user' | 'role'): string {
  if (!NAME_RE.test(name)) {
    throw new FetchmlError(
      'ML_ERR_VALIDATION',
      `${field}: ${JSON.stringify(name)} must be 1-64 characters of letters, digits, ".", "_" or "-", starting with a letter or digit`,
      { details: { field } },
    );
  }
  return name;
}

function info(r: ApiKeyRecord): UserKeyInfo {
  return {
    id: r.id,
    user: r.user,
    role: r.role,
    created_at: r.created_at,
    revoked_at: r.revoked_at,
  };
}

function liveKeysOf(records: readonly ApiKeyRecord[], user: string): ApiKeyRecord[] {
  return records.filter((r) => r.user === user && r.revoked_at === null);
}

/**
 * Creates a key for a new user; the user must not have a live key already (use rotate).
 * `roles` are the role names the server knows. Returns the plaintext key (shown once).
 */
export async function addUser(
  keys: KeyStore,
  user: string,
  role: string,
  roles: readonly string[],
  now: Date = new Date(),
): Promise<{ key: string; record: UserKeyInfo }> {
  assertName(user, 'user');
  assertName(role, 'role');
  if (!roles.includes(role)) {
    throw new FetchmlError(
      'ML_ERR_VALIDATION',
      `role: unknown role ${JSON.stringify(role)} (known: ${roles.join(', ')})`,
      { details: { field: 'role' } },
    );
  }
  if (liveKeysOf(await keys.list(), user).length > 0) {
    throw new FetchmlError(
      'ML_ERR_CONFLICT',
      `user ${user} already has a live key: use "fetchml user rotate ${user}" for a new one`,
    );
  }
  const key = generateApiKey();
  const record = hashApiKey(key, { user, role }, now);
  await keys.add(record);
  return { key, record: info(record) };
}

/** Every key (revoked ones included), oldest first. */
export async function listUsers(keys: KeyStore): Promise<UserKeyInfo[]> {
  return (await keys.list()).map(info);
}

/**
 * Revokes the key with id `target`, or every live key of the user named `target`. Returns the
 * revoked keys; nothing live to revoke is ML_ERR_NOT_FOUND.
 */
export async function revokeUser(
  keys: KeyStore,
  target: string,
  now: Date = new Date(),
): Promise<UserKeyInfo[]> {
  const all = await keys.list();
  const byId = all.find((r) => r.id === target && r.revoked_at === null);
  const victims = byId ? [byId] : liveKeysOf(all, target);
  if (victims.length === 0) {
    throw new FetchmlError('ML_ERR_NOT_FOUND', `no live key or user named ${target}`, {
      details: { id: target },
    });
  }
  const at = now.toISOString();
  for (const r of victims) await keys.revoke(r.id, at);
  return victims.map((r) => ({ ...info(r), revoked_at: at }));
}

/**
 * A new key for `user` with the role of its newest live key; the old keys are revoked at once
 * (after the new key is stored, so a failure leaves the user with a working key).
 */
export async function rotateUser(
  keys: KeyStore,
  user: string,
  now: Date = new Date(),
): Promise<{ key: string; record: UserKeyInfo; revoked: string[] }> {
  const live = liveKeysOf(await keys.list(), user);
  const newest = live.at(-1);
  if (!newest) {
    throw new FetchmlError('ML_ERR_NOT_FOUND', `user ${user} has no live key to rotate`, {
      details: { id: user },
    });
  }
  const key = generateApiKey();
  const record = hashApiKey(key, { user, role: newest.role }, now);
  await keys.add(record);
  const at = now.toISOString();
  for (const r of live) await keys.revoke(r.id, at);
  return { key, record: info(record), revoked: live.map((r) => r.id) };
}
