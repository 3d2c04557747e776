/**
 * @module core/secrets
 * The last line of "no secret in a log or an error": anything shaped like a fetchml API key
 * (`fml_` + 43 base64url characters) is cut to its public prefix before text leaves the server in
 * an error body, a WebSocket error or an access-log path — so a key pasted into a URL, a task id
 * or a path is not echoed back or written down. Keys are otherwise never logged at all (they
 * travel only in the `Authorization` header, which the logs redact).
 */

/** What a key looks like: `fml_` + 32 bytes of base64url. */
const API_KEY_RE = /fml_[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g;

/** `text` with every API-key-shaped substring replaced by `fml_…[redacted]`. */
export function redactSecrets(text: string): string {
  return text.includes('fml_') ? text.replace(API_KEY_RE, 'fml_…[redacted]') : text;
}

/** {@link redactSecrets} over every string in a JSON-like value (error details). */
export function redactDeep<T>(value: T): T {
  if (typeof value === 'string') return redactSecrets(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => redactDeep(v)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, redactDeep(v)]),
    ) as T;
  }
  return value;
}
