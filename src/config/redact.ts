/**
 * @module config/redact
 * Hides secrets before configuration is shown (`fetchml config print`, logs, `doctor`). URLs keep
 * their user, host and database so the output stays useful; only the password is replaced.
 */
import type { Config } from './schema.ts';

/** What replaces a secret. */
export const REDACTED = '***';

/** Leaves that are secret as a whole. */
export const SECRET_LEAVES: ReadonlySet<string> = new Set(['blobs.s3.secret_access_key']);

/** Leaves holding connection URLs that may embed a password. */
export const URL_LEAVES: ReadonlySet<string> = new Set([
  'store.postgres_url',
  'queue.redis_url',
  'events.redis_url',
]);

/** `postgres://u:pw@h/db?password=pw` → `postgres://u:***@h/db?password=***`. */
export function redactUrl(url: string): string {
  let out = url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/]*):[^@/]*@/i, `$1:${REDACTED}@`);
  out = out.replace(/([?&](?:password|pass|pwd|secret)=)[^&#]*/gi, `$1${REDACTED}`);
  return out;
}

/** The value at `path`, redacted if it is (or contains) a secret. */
export function redactValue(path: string, value: unknown): unknown {
  if (value === undefined || value === null) return value;
  if (SECRET_LEAVES.has(path)) return REDACTED;
  if (URL_LEAVES.has(path) && typeof value === 'string') return redactUrl(value);
  return value;
}

function walk(node: unknown, prefix: string): unknown {
  if (typeof node !== 'object' || node === null || Array.isArray(node))
    return redactValue(prefix, node);
  return Object.fromEntries(
    Object.entries(node).map(([k, v]) => [k, walk(v, prefix ? `${prefix}.${k}` : k)]),
  );
}

/** A deep copy of the configuration with every secret redacted. */
export function redactConfig(config: Config): Config {
  return walk(config, '') as Config;
}
