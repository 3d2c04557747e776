/**
 * @module server/auth/key-step
 * The `key` step of the auth chain: the request must carry a live API key; its record becomes the
 * request's principal `{user, role}`.
 */
import { FetchmlError } from '../../core/errors.ts';
import { verifyApiKey } from './api-keys.ts';
import type { AuthStep } from './chain.ts';
import type { Principal } from '../types.ts';
import type { ApiKeyRecord, KeyStore } from './key-store.ts';

/** One principal per key record (records are replaced, never changed, when a key changes). */
const principals = new WeakMap<ApiKeyRecord, Principal>();

function principalOf(record: ApiKeyRecord | null): Principal {
  if (!record) throw new FetchmlError('ML_ERR_UNAUTHORIZED', 'invalid or revoked API key');
  let p = principals.get(record);
  if (!p) {
    p = Object.freeze({ user: record.user, role: record.role, key_id: record.id });
    principals.set(record, p);
  }
  return p;
}

/** The key step over `keys`. */
export function keyStep(keys: KeyStore): AuthStep {
  return {
    name: 'key',
    run(ctx) {
      if (ctx.token === null) {
        throw new FetchmlError(
          'ML_ERR_UNAUTHORIZED',
          'missing API key: send "Authorization: Bearer <key>" (the admin key is in <home>/admin.key)',
        );
      }
      // A key verified before answers synchronously: no promise on the hot path.
      const found = verifyApiKey(keys, ctx.token);
      if (found instanceof Promise) {
        return found.then((record) => {
          ctx.principal = principalOf(record);
        });
      }
      ctx.principal = principalOf(found);
    },
  };
}
