/**
 * @module cli/shared/client-config
 * The researcher's own settings: which servers `ml` talks to, with which API key, and the
 * certificate fingerprint pinned on first use (DESIGN.md "Security model"). They live outside the
 * project (a key must never be snapshotted), in `$FETCHML_CLIENT_CONFIG`, else
 * `$XDG_CONFIG_HOME/fetchml/client.json`, else `~/.config/fetchml/client.json`, written 0600
 * through a temp file and a rename so a crash never leaves half a file.
 *
 * Format (version 1):
 * ```json
 * { "version": 1, "default": "https://127.0.0.1:9101",
 *   "servers": { "https://127.0.0.1:9101": { "api_key": "fml_…", "fingerprint": "AB:CD:…",
 *     "user": "admin", "role": "admin", "pinned_at": "2026-01-01T00:00:00.000Z" } } }
 * ```
 * A server entry may also carry `"ca_file": "/etc/ssl/lab-ca.pem"` (or `"system"`): the server's
 * certificate is then verified against that CA rather than pinned.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

import { FetchmlError } from '../../core/errors.ts';

/** The default server: what `fetchml up` listens on. */
export const DEFAULT_SERVER_URL = 'https://127.0.0.1:9101';

/** What `ml` knows about one server. */
export interface ServerEntry {
  api_key: string;
  /** sha256 fingerprint of the server's certificate (upper-case hex pairs), pinned on first use. */
  fingerprint: string | null;
  /**
   * Verify the server against this CA instead of the pinned fingerprint (`ml login --ca`): an
   * absolute PEM file path, or `system` for the system CAs. The fingerprint is then informational.
   */
  ca_file?: string;
  /** The server's view of the key when it was stored (informational). */
  user?: string;
  role?: string;
  pinned_at?: string;
}

/** The whole client config file. */
export interface ClientConfig {
  version: 1;
  /** URL of the server used when `--server` is not given. */
  default: string | null;
  servers: Record<string, ServerEntry>;
}

type Env = Readonly<Record<string, string | undefined>>;

/** Where the client config lives for this environment. */
export function clientConfigPath(env: Env, cwd: string): string {
  if (env['FETCHML_CLIENT_CONFIG']) return resolve(cwd, env['FETCHML_CLIENT_CONFIG']);
  const base = env['XDG_CONFIG_HOME'] || join(env['HOME'] || homedir(), '.config');
  return join(base, 'fetchml', 'client.json');
}

/**
 * The canonical key of a server: its origin (`https://host:port`).
 * @throws FetchmlError ML_ERR_VALIDATION when `url` is not an https URL.
 */
export function normalizeServerUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url.includes('://') ? url : `https://${url}`);
  } catch (cause) {
    throw new FetchmlError('ML_ERR_VALIDATION', `--server: not a URL: ${url}`, { cause });
  }
  if (parsed.protocol !== 'https:') {
    throw new FetchmlError(
      'ML_ERR_VALIDATION',
      `--server: fetchml servers speak HTTPS only (got ${url}); use https://…`,
    );
  }
  return parsed.origin;
}

function invalid(path: string, reason: string): FetchmlError {
  return new FetchmlError(
    'ML_ERR_CONFIG_INVALID',
    `${path}: ${reason}; fix or delete it, then run \`ml init\` again`,
    { details: { path } },
  );
}

function parseEntry(path: string, url: string, raw: unknown): ServerEntry {
  if (typeof raw !== 'object' || raw === null)
    throw invalid(path, `servers.${url} is not an object`);
  const e = raw as Record<string, unknown>;
  if (typeof e['api_key'] !== 'string' || e['api_key'] === '')
    throw invalid(path, `servers.${url}.api_key must be a non-empty string`);
  const fp = e['fingerprint'];
  if (fp !== null && fp !== undefined && typeof fp !== 'string')
    throw invalid(path, `servers.${url}.fingerprint must be a string or null`);
  const entry: ServerEntry = { api_key: e['api_key'], fingerprint: fp ?? null };
  for (const k of ['user', 'role', 'pinned_at', 'ca_file'] as const) {
    if (typeof e[k] === 'string') entry[k] = e[k];
  }
  return entry;
}

/** Reads the client config; a missing file is an empty config. */
export function readClientConfig(path: string): ClientConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      return { version: 1, default: null, servers: {} };
    throw invalid(path, `cannot read (${(err as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw invalid(path, 'not valid JSON');
  }
  if (typeof raw !== 'object' || raw === null) throw invalid(path, 'not a JSON object');
  const obj = raw as Record<string, unknown>;
  if (obj['version'] !== 1) throw invalid(path, `unsupported version ${String(obj['version'])}`);
  const servers: Record<string, ServerEntry> = {};
  const rawServers = obj['servers'] ?? {};
  if (typeof rawServers !== 'object' || rawServers === null)
    throw invalid(path, 'servers must be an object');
  for (const [url, entry] of Object.entries(rawServers))
    servers[url] = parseEntry(path, url, entry);
  const def = obj['default'];
  if (def !== null && def !== undefined && typeof def !== 'string')
    throw invalid(path, 'default must be a server URL');
  return { version: 1, default: def ?? null, servers };
}

/** Writes the client config atomically with mode 0600 (its directory 0700 when created). */
export function writeClientConfig(path: string, config: ClientConfig): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}
