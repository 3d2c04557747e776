/**
 * @module server/auth/key-step
 * The `key` step of the auth chain: the request must carry a live API key; its record becomes the
 * request's principal `{user, role}`.
 */
import { FetchmlError } from '../../core/errors.ts';
import { verifyApiKey } from './api-keys.ts';
import type { AuthStep } from './chain.ts';
import type { KeyStore } from './key-store.ts';

/** The key step over `keys`. */
export function keyStep(keys: KeyStore): AuthStep {
  return {
    name: 'key',
    async run(ctx) {
      if (ctx.token === null) {
        throw new FetchmlError(
          'ML_ERR_UNAUTHORIZED',
          'missing API key: send "Authorization: Bearer <key>" (the admin key is in <home>/admin.key)',
        );
      }
      const record = await verifyApiKey(keys, ctx.token);
      if (!record) throw new FetchmlError('ML_ERR_UNAUTHORIZED', 'invalid or revoked API key');
      ctx.principal = { user: record.user, role: record.role, key_id: record.id };
    },
  };
}
