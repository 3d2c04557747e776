/**
 * @module server/routes/users
 * `GET /v1/users`: the API keys (id, user, role, created, revoked; never the key, its hash or its
 * lookup prefix), for admins (`users:admin`). Keys are created, rotated and revoked with
 * `fetchml user` on the server host, not over the API.
 */
import type { FastifyInstance } from 'fastify';

import type { KeyStore } from '../auth/key-store.ts';

export function userRoutes(app: FastifyInstance, keys: KeyStore): void {
  app.get('/v1/users', { config: { permission: 'users:admin' } }, async () => ({
    keys: (await keys.list()).map((k) => ({
      id: k.id,
      user: k.user,
      role: k.role,
      created_at: k.created_at,
      revoked_at: k.revoked_at,
    })),
  }));
}
