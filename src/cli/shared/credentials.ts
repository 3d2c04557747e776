/**
 * @module cli/shared/credentials
 * The credential half of `ml init` (and all of `ml login`): find an API key, connect, pin the
 * certificate on first use, verify the key with the server, and store all three in the client
 * config. The key is looked for where the quickstart leaves it, so `fetchml up` followed by
 * `ml init` needs no typing: `--key`, `--key-file`, `$FETCHML_API_KEY`, the key already stored
 * for that server, then `<$FETCHML_HOME or ./data>/admin.key`.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { FetchmlError, isFetchmlError } from '../../core/errors.ts';
import {
  clientConfigPath,
  DEFAULT_SERVER_URL,
  normalizeServerUrl,
  readClientConfig,
  writeClientConfig,
} from './client-config.ts';
import type { CommandDeps } from './deps.ts';

/** Flags of `ml init` / `ml login` that pick the server and key. */
export interface CredentialOptions {
  server?: string;
  key?: string;
  keyFile?: string;
  /** Forget the pinned fingerprint and trust the certificate presented now. */
  force?: boolean;
}

/** What {@link storeCredentials} did. */
export interface CredentialResult {
  server: string;
  user: string;
  role: string;
  version: string;
  fingerprint: string;
  /** True when the fingerprint was (re)pinned now, false when an existing pin was checked. */
  newly_pinned: boolean;
  key_source: string;
  config_path: string;
}

function readKeyFile(path: string, source: string, required: boolean): string | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    if (!required) return null;
    throw new FetchmlError('ML_ERR_VALIDATION', `${source}: cannot read ${path}`, {
      cause,
      details: { field: source, path },
    });
  }
  const key = text.trim();
  if (!key && required)
    throw new FetchmlError('ML_ERR_VALIDATION', `${source}: ${path} is empty`, {
      details: { field: source, path },
    });
  return key || null;
}

/** The API key to use and where it came from. */
export function findApiKey(
  deps: Pick<CommandDeps, 'io' | 'cwd'>,
  opts: CredentialOptions,
  storedKey: string | undefined,
): { key: string; source: string } {
  if (opts.key) return { key: opts.key.trim(), source: '--key' };
  if (opts.keyFile) {
    const path = resolve(deps.cwd, opts.keyFile);
    return { key: readKeyFile(path, '--key-file', true)!, source: `--key-file ${path}` };
  }
  const envKey = deps.io.env['FETCHML_API_KEY'];
  if (envKey) return { key: envKey.trim(), source: '$FETCHML_API_KEY' };
  if (storedKey) return { key: storedKey, source: 'the key stored for this server' };
  const home = resolve(deps.cwd, deps.io.env['FETCHML_HOME'] || 'data');
  const adminKey = join(home, 'admin.key');
  const key = readKeyFile(adminKey, 'admin.key', false);
  if (key) return { key, source: adminKey };
  throw new FetchmlError(
    'ML_ERR_UNAUTHORIZED',
    'no API key: pass --key KEY or --key-file PATH, or set FETCHML_API_KEY ' +
      `(\`fetchml up\` prints the admin key on first start and writes it to <base dir>/admin.key; looked in ${adminKey})`,
    { details: { looked_in: adminKey } },
  );
}

/** Connects, pins (TOFU), verifies the key and stores server + key + fingerprint. */
export async function storeCredentials(
  deps: CommandDeps,
  opts: CredentialOptions,
): Promise<CredentialResult> {
  const configPath = clientConfigPath(deps.io.env, deps.cwd);
  const config = readClientConfig(configPath);
  const server = normalizeServerUrl(
    opts.server ?? deps.io.env['FETCHML_SERVER'] ?? config.default ?? DEFAULT_SERVER_URL,
  );
  const existing = config.servers[server];
  const { key, source } = findApiKey(deps, opts, existing?.api_key);
  const pinned = opts.force ? null : (existing?.fingerprint ?? null);
  const client = await deps.clientFactory({ url: server, apiKey: key, fingerprint: pinned });
  let who;
  let fingerprint: string | null;
  try {
    await client.health();
    fingerprint = client.fingerprint;
    who = await client.whoami();
  } catch (err) {
    if (isFetchmlError(err, 'ML_ERR_UNAUTHORIZED')) {
      throw new FetchmlError(
        'ML_ERR_UNAUTHORIZED',
        `${server} refused the API key from ${source}; check it, or pass another with --key / --key-file`,
        { cause: err, details: { server, key_source: source } },
      );
    }
    throw err;
  } finally {
    await client.close();
  }
  if (!fingerprint) {
    throw new FetchmlError('ML_ERR_CERT_CHANGED', `${server} presented no certificate to pin`);
  }
  config.servers[server] = {
    api_key: key,
    fingerprint,
    user: who.user,
    role: who.role,
    pinned_at:
      pinned === fingerprint && existing?.pinned_at
        ? existing.pinned_at
        : new Date(deps.now()).toISOString(),
  };
  if (opts.server !== undefined || config.default === null) config.default = server;
  writeClientConfig(configPath, config);
  return {
    server,
    user: who.user,
    role: who.role,
    version: who.version,
    fingerprint,
    newly_pinned: pinned === null,
    key_source: source,
    config_path: configPath,
  };
}

/** Human lines describing a {@link CredentialResult}. */
export function describeCredentials(r: CredentialResult): string {
  return (
    `logged in to ${r.server} as ${r.user} (role ${r.role}; server ${r.version || 'unknown version'})\n` +
    `  key:         from ${r.key_source}\n` +
    `  certificate: ${r.fingerprint} (${r.newly_pinned ? 'pinned now, trust on first use' : 'matches the pin'})\n` +
    `  saved to:    ${r.config_path}\n`
  );
}
