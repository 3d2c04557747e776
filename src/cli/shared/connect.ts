/**
 * @module cli/shared/connect
 * From the client config to a connected client: which server (`--server`, else the config's
 * default, else the local default), which key (`FETCHML_API_KEY` overrides the stored one) and
 * which pinned fingerprint (or CA). A server whose certificate was never pinned is refused before
 * anything is sent: `ml login` / `ml init` confirm it once. The real factory loads `src/client` lazily, so `ml --help` and
 * argument errors never pay for undici, ws and zod.
 */
import { readFileSync } from 'node:fs';

import type { CaTrust } from '../../client/pin.ts';
import { FetchmlError } from '../../core/errors.ts';
import {
  clientConfigPath,
  DEFAULT_SERVER_URL,
  normalizeServerUrl,
  readClientConfig,
} from './client-config.ts';
import type { ClientFactory, ClientTarget, CliClient, CommandDeps, LightClient } from './deps.ts';
import { REPIN_HINT } from './repin.ts';

export { REPIN_HINT };

/** The real client factory: `src/client` with the pinned certificate. */
export const defaultClientFactory: ClientFactory = async (target) => {
  const { createClient } = await import('../../client/index.ts');
  return createClient({
    url: target.url,
    apiKey: target.apiKey,
    ...(target.fingerprint ? { fingerprint: target.fingerprint } : {}),
    ...(target.ca ? { ca: target.ca } : {}),
    repinHint: REPIN_HINT,
  });
};

/** The default light client factory (cli/shared/light-client, loaded on first use). */
export const defaultLightClientFactory = async (target: ClientTarget): Promise<LightClient> =>
  (await import('./light-client.ts')).createLightClient(target);

/** The server and credentials the config names for `server` (or the default). */
export function resolveTarget(
  deps: Pick<CommandDeps, 'io' | 'cwd'>,
  server?: string,
): ClientTarget {
  const path = clientConfigPath(deps.io.env, deps.cwd);
  const config = readClientConfig(path);
  const url = normalizeServerUrl(
    server ?? deps.io.env['FETCHML_SERVER'] ?? config.default ?? DEFAULT_SERVER_URL,
  );
  const entry = config.servers[url];
  const envKey = deps.io.env['FETCHML_API_KEY'];
  if (!entry && !envKey) {
    throw new FetchmlError(
      'ML_ERR_UNAUTHORIZED',
      `no API key for ${url}: run \`ml init\` (or \`ml login --server ${url} --key-file <file>\`) first` +
        ` (looked in ${path})`,
      { details: { url, config: path } },
    );
  }
  if (!entry?.fingerprint && !entry?.ca_file) {
    // The key would go to whatever answers: trust must be confirmed once, by `ml login`.
    throw new FetchmlError(
      'ML_ERR_CERT_UNCONFIRMED',
      `no pinned certificate for ${url}: run \`ml login --server ${url}\` first — it shows the ` +
        'fingerprint to confirm (and uses $FETCHML_API_KEY as the key). Nothing was sent.',
      { details: { url, config: path } },
    );
  }
  return {
    url,
    apiKey: envKey || entry.api_key,
    fingerprint: entry?.fingerprint ?? null,
    ...(entry?.ca_file ? { ca: loadCa(entry.ca_file, `${path}: servers.${url}.ca_file`) } : {}),
  };
}

/**
 * The CA to verify a server against: `system` for the system CAs, else a PEM file.
 * @throws FetchmlError ML_ERR_CONFIG_INVALID when the file cannot be read or holds no certificate.
 */
export function loadCa(file: string, where: string): CaTrust {
  if (file === 'system') return { pem: null, source: 'the system CAs' };
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new FetchmlError('ML_ERR_CONFIG_INVALID', `${where}: cannot read the CA file ${file}`, {
      cause,
      details: { path: file },
    });
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new FetchmlError(
      'ML_ERR_CONFIG_INVALID',
      `${where}: ${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
      { details: { path: file } },
    );
  }
  return { pem, source: `the CA in ${file}` };
}

/** A client for the configured server. */
export async function connect(deps: CommandDeps, server?: string): Promise<CliClient> {
  return deps.clientFactory(resolveTarget(deps, server));
}

/** Runs `fn` with a client and always closes it. */
export async function withClient<T>(
  deps: CommandDeps,
  server: string | undefined,
  fn: (client: CliClient) => Promise<T>,
): Promise<T> {
  const client = await connect(deps, server);
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

/**
 * Runs `fn` with the light client (cli/shared/light-client) for read-only commands; tests that
 * inject only a `clientFactory` get that instead.
 */
export async function withLightClient<T>(
  deps: CommandDeps,
  server: string | undefined,
  fn: (client: LightClient) => Promise<T>,
): Promise<T> {
  const target = resolveTarget(deps, server);
  const client = deps.lightClientFactory
    ? await deps.lightClientFactory(target)
    : await deps.clientFactory(target);
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}
