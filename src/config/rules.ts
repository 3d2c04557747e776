/**
 * @module config/rules
 * Cross-field checks the schema cannot express per field, as small functions (changesets'
 * `Rule` pattern). Each returns problems that name the field to fix; a rule may also warn about a
 * combination that works but is probably not what the operator wants.
 */
import type { Config } from './schema.ts';

/** One finding of a rule. */
export interface RuleIssue {
  /** The field to fix. */
  path: string;
  message: string;
  level: 'error' | 'warning';
  /** The field whose value made the rule apply; its source is reported when set. */
  because?: string;
}

/** A cross-field check. */
export type Rule = (config: Config) => RuleIssue[];

const error = (path: string, message: string, because?: string): RuleIssue => ({
  path,
  message,
  level: 'error',
  ...(because ? { because } : {}),
});

export const postgresNeedsUrl: Rule = (c) =>
  c.store.backend === 'postgres' && !c.store.postgres_url
    ? [error('store.postgres_url', 'required when store.backend is "postgres"', 'store.backend')]
    : [];

export const redisQueueNeedsUrl: Rule = (c) =>
  c.queue.backend === 'redis' && !c.queue.redis_url
    ? [error('queue.redis_url', 'required when queue.backend is "redis"', 'queue.backend')]
    : [];

export const redisEventsNeedUrl: Rule = (c) =>
  c.events.backend === 'redis' && !c.events.redis_url
    ? [
        error(
          'events.redis_url',
          'required when events.backend is "redis" (or set queue.redis_url)',
          'events.backend',
        ),
      ]
    : [];

export const s3NeedsBucket: Rule = (c) =>
  c.blobs.backend === 's3' && !c.blobs.s3.bucket
    ? [error('blobs.s3.bucket', 'required when blobs.backend is "s3"', 'blobs.backend')]
    : [];

export const s3KeysInPairs: Rule = (c) => {
  const { access_key_id: id, secret_access_key: secret } = c.blobs.s3;
  if (id && !secret) {
    return [
      error(
        'blobs.s3.secret_access_key',
        'required when access_key_id is set',
        'blobs.s3.access_key_id',
      ),
    ];
  }
  if (secret && !id) {
    return [
      error(
        'blobs.s3.access_key_id',
        'required when secret_access_key is set',
        'blobs.s3.secret_access_key',
      ),
    ];
  }
  return [];
};

export const tlsCertAndKey: Rule = (c) => {
  const { cert, key } = c.server.tls;
  if (cert && !key)
    return [error('server.tls.key', 'required when server.tls.cert is set', 'server.tls.cert')];
  if (key && !cert)
    return [error('server.tls.cert', 'required when server.tls.key is set', 'server.tls.key')];
  return [];
};

export const heartbeatWithinLease: Rule = (c) =>
  c.worker.heartbeat_ms >= c.worker.lease_ms
    ? [
        error(
          'worker.heartbeat_ms',
          `must be less than worker.lease_ms (${c.worker.lease_ms}), or leases expire between heartbeats`,
        ),
      ]
    : [];

export const sharedQueueNeedsSharedEvents: Rule = (c) =>
  c.queue.backend === 'redis' && c.events.backend === 'memory'
    ? [
        {
          path: 'events.backend',
          message:
            '"memory" only reaches subscribers in this process; with queue.backend "redis" (several processes) use "redis"',
          level: 'warning',
          because: 'queue.backend',
        },
      ]
    : [];

/** Every rule, in the order their problems are reported. */
export const RULES: readonly Rule[] = [
  postgresNeedsUrl,
  redisQueueNeedsUrl,
  redisEventsNeedUrl,
  s3NeedsBucket,
  s3KeysInPairs,
  tlsCertAndKey,
  heartbeatWithinLease,
  sharedQueueNeedsSharedEvents,
];
