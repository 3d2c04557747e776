/**
 * @module worker/redact
 * The environment recorded in `run_manifest.json`: the job's env with secrets redacted and host
 * paths sanitized (DESIGN.md "Run manifest"). A manifest is shared and exported, so it must never
 * carry a token, and it should read the same on every machine, so the worker's own directories
 * become placeholders (`$FETCHML_HOME`, `$FETCHML_WORK`) instead of `/home/alice/...`.
 */

/** Keys whose values are replaced by {@link REDACTED}. */
export const SECRET_KEY = /(SECRET|TOKEN|PASSWORD|KEY|CREDENTIAL)/i;

/** What a secret value becomes. */
export const REDACTED = '[redacted]';

/** A host directory and the placeholder it becomes. */
export interface PathPlaceholder {
  path: string;
  placeholder: string;
}

/**
 * Replaces every occurrence of each host path in `value` by its placeholder. Longer paths go
 * first, so a work dir inside the home dir becomes `$FETCHML_WORK`, not `$FETCHML_HOME/cache/work`.
 * A path matches only at a path boundary (`/data` does not match inside `/database`).
 */
export function sanitizePaths(value: string, placeholders: readonly PathPlaceholder[]): string {
  const sorted = placeholders
    .map((p) => ({ ...p, path: p.path.replace(/\/+$/, '') }))
    .filter((p) => p.path.length > 1)
    .sort((a, b) => b.path.length - a.path.length);
  let out = value;
  for (const { path, placeholder } of sorted) {
    const escaped = path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    out = out.replace(new RegExp(`${escaped}(?=$|[/:;,\\s"'])`, 'g'), () => placeholder);
  }
  return out;
}

/**
 * The environment for the manifest: values of secret-looking keys are {@link REDACTED}, every
 * other value has its host paths sanitized. Keys are kept (they say what was set).
 * @example
 * redactEnvironment({ WANDB_API_KEY: 'x', DATA: '/srv/ml/cache' }, [{ path: '/srv/ml', placeholder: '$FETCHML_HOME' }])
 * // → { WANDB_API_KEY: '[redacted]', DATA: '$FETCHML_HOME/cache' }
 */
export function redactEnvironment(
  env: Readonly<Record<string, string>>,
  placeholders: readonly PathPlaceholder[],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(env).sort()) {
    const value = env[key] ?? '';
    out[key] = SECRET_KEY.test(key) ? REDACTED : sanitizePaths(value, placeholders);
  }
  return out;
}
