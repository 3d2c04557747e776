/**
 * @module cli/shared/credentials
 * The credential half of `ml init` (and all of `ml login`): find an API key, connect, pin the
 * certificate on first use, verify the key with the server, and store all three in the client
 * config. The key is looked for where the quickstart leaves it, so `fetchml up` followed by
 * `ml init` needs no typing: `--key`, `--key-file`, `$FETCHML_API_KEY`, the key already stored
 * for that server, then `<$FETCHML_HOME or ./data>/admin.key`.
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import type { CertProbe } from '../../client/pin.ts';

import { FetchmlError, isFetchmlError } from '../../core/errors.ts';
import {
  clientConfigPath,
  DEFAULT_SERVER_URL,
  normalizeServerUrl,
  readClientConfig,
  writeClientConfig,
} from './client-config.ts';
import { loadCa } from './connect.ts';
import type { CommandDeps } from './deps.ts';
import { REPIN_HINT } from './repin.ts';

/** Flags of `ml init` / `ml login` that pick the server, the key and how to trust the server. */
export interface CredentialOptions {
  server?: string;
  key?: string;
  keyFile?: string;
  /** Forget the pinned fingerprint and trust the certificate presented now (after confirmation). */
  force?: boolean;
  /** Trust the certificate presented on first use without asking (scripts). */
  yes?: boolean;
  /** The fingerprint the server must present (given out of band): pinned without asking. */
  fingerprint?: string;
  /** Verify the server against this CA file (or `system`) instead of pinning; false: back to pinning. */
  ca?: string | false;
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
  /** How the certificate was trusted. */
  trust: 'pin' | 'ca';
  /** Why a new pin was trusted: `--yes`, `--fingerprint`, `confirmed`, `matches <path>`; null when not newly pinned. */
  confirmed_by: string | null;
  /** The CA file (or `system`) the certificate is verified against; null when pinned. */
  ca_file: string | null;
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

/** The fingerprint of `<$FETCHML_HOME or ./data>/tls/cert.pem` and its path, when readable. */
async function localServerCert(
  deps: Pick<CommandDeps, 'io' | 'cwd'>,
  norm: (fp: string) => string,
): Promise<{ path: string; fp: string } | null> {
  const { X509Certificate } = await import('node:crypto');
  const home = resolve(deps.cwd, deps.io.env['FETCHML_HOME'] || 'data');
  const path = join(home, 'tls', 'cert.pem');
  try {
    return { path, fp: norm(new X509Certificate(readFileSync(path)).fingerprint256) };
  } catch {
    return null;
  }
}

/**
 * Decides whether a certificate seen for the first time (or after `--force`) may be pinned: it
 * matches the local server's own certificate file (the quickstart: `fetchml up` and `ml init` on
 * one machine), `--yes`, or a yes on the terminal. Returns how it was confirmed.
 * @throws FetchmlError ML_ERR_CERT_UNCONFIRMED when refused or when nobody can be asked.
 */
async function confirmFirstUse(
  deps: CommandDeps,
  opts: CredentialOptions,
  server: string,
  probe: CertProbe,
  previous: string | null,
  norm: (fp: string) => string,
): Promise<string> {
  const local = await localServerCert(deps, norm);
  if (local && local.fp === probe.fingerprint) return `matches ${local.path}`;
  if (opts.yes) return '--yes';
  const compare =
    'Compare it with the fingerprint `fetchml up` / `fetchml server` printed when it started (on the ' +
    'server host: openssl x509 -noout -fingerprint -sha256 -in <base dir>/tls/cert.pem).';
  const facts = { server, fingerprint: probe.fingerprint, names: probe.names };
  if (!deps.io.confirm) {
    throw new FetchmlError(
      'ML_ERR_CERT_UNCONFIRMED',
      `not pinning the certificate of ${server} without confirmation (stdin is not a terminal): ` +
        `its sha256 fingerprint is ${probe.fingerprint}. ${compare} If it is the same, run again ` +
        `with --yes, or with --fingerprint ${probe.fingerprint} to pin exactly that one. Nothing was sent or stored.`,
      { details: facts },
    );
  }
  const question =
    `${server} presents a certificate ${previous ? 'different from the one pinned' : 'not seen before'}:\n` +
    (previous ? `  pinned before: ${previous}\n` : '') +
    `  sha256 fingerprint: ${probe.fingerprint}\n  names: ${probe.names}\n${compare}\n` +
    'Trust and pin it? [y/N] ';
  if (await deps.io.confirm(question)) return 'confirmed';
  throw new FetchmlError(
    'ML_ERR_CERT_UNCONFIRMED',
    `not pinning the certificate of ${server} (${probe.fingerprint}): not confirmed. Nothing was sent or stored.`,
    { details: facts },
  );
}

/**
 * Trusts the server (pin confirmed on first use, or a CA), then verifies the key with it and
 * stores server + key + fingerprint. The key is sent only after the certificate is trusted: the
 * first connection is a bare TLS handshake ({@link probeCertificate}).
 */
export async function storeCredentials(
  deps: CommandDeps,
  opts: CredentialOptions,
): Promise<CredentialResult> {
  const {
    probeCertificate,
    normalizeFingerprint: norm,
    isFingerprint,
    certChangedError,
  } = await import('../../client/pin.ts');
  const configPath = clientConfigPath(deps.io.env, deps.cwd);
  const config = readClientConfig(configPath);
  const server = normalizeServerUrl(
    opts.server ?? deps.io.env['FETCHML_SERVER'] ?? config.default ?? DEFAULT_SERVER_URL,
  );
  const existing = config.servers[server];
  const { key, source } = findApiKey(deps, opts, existing?.api_key);
  if (opts.fingerprint !== undefined && !isFingerprint(opts.fingerprint)) {
    throw new FetchmlError(
      'ML_ERR_VALIDATION',
      `--fingerprint: ${JSON.stringify(opts.fingerprint)} is not a sha256 fingerprint (32 hex pairs, as fetchml up prints it)`,
      { details: { field: '--fingerprint' } },
    );
  }
  const caFile =
    opts.ca === false
      ? null
      : opts.ca !== undefined
        ? opts.ca === 'system'
          ? 'system'
          : resolve(deps.cwd, opts.ca)
        : (existing?.ca_file ?? null);
  const ca = caFile ? loadCa(caFile, '--ca') : null;
  const previous = existing?.fingerprint ?? null;
  // A fingerprint recorded while a CA vouched for the server was never confirmed as a pin.
  const previousPin = existing?.ca_file ? null : previous;
  const pinned = ca
    ? null
    : opts.fingerprint !== undefined
      ? norm(opts.fingerprint)
      : opts.force
        ? null
        : previousPin;

  let probe: CertProbe;
  try {
    probe = await probeCertificate(server, { ca: ca ?? undefined });
  } catch (err) {
    const { transportError } = await import('../../client/http.ts');
    throw transportError(err, server);
  }
  let confirmedBy: string | null = null;
  if (!ca) {
    if (pinned !== null && probe.fingerprint !== pinned) {
      throw certChangedError(
        { url: server, pinned, presented: probe.fingerprint },
        opts.fingerprint !== undefined
          ? 'The fingerprint given with --fingerprint does not match what the server presents; nothing was stored.'
          : REPIN_HINT,
      );
    }
    if (pinned === null) {
      confirmedBy = await confirmFirstUse(deps, opts, server, probe, previousPin, norm);
    } else if (opts.fingerprint !== undefined && previousPin !== pinned) {
      confirmedBy = '--fingerprint';
    }
  }

  // From here the connection is pinned to what was confirmed (or verified by the CA).
  const client = await deps.clientFactory({
    url: server,
    apiKey: key,
    fingerprint: ca ? null : probe.fingerprint,
    ca,
  });
  let who;
  try {
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
  const fingerprint = probe.fingerprint;
  config.servers[server] = {
    api_key: key,
    fingerprint,
    user: who.user,
    role: who.role,
    pinned_at:
      previous === fingerprint && existing?.pinned_at
        ? existing.pinned_at
        : new Date(deps.now()).toISOString(),
    ...(caFile ? { ca_file: caFile } : {}),
  };
  if (opts.server !== undefined || config.default === null) config.default = server;
  writeClientConfig(configPath, config);
  return {
    server,
    user: who.user,
    role: who.role,
    version: who.version,
    fingerprint,
    newly_pinned: !ca && previousPin !== fingerprint,
    trust: ca ? 'ca' : 'pin',
    confirmed_by: confirmedBy,
    ca_file: caFile,
    key_source: source,
    config_path: configPath,
  };
}

/** Adds the trust flags shared by `ml init` and `ml login`. */
export function trustOptions(cmd: Command): Command {
  return cmd
    .option('--yes', 'trust the certificate presented on first use without asking (scripts)')
    .option(
      '--fingerprint <sha256>',
      'pin this fingerprint (as `fetchml up` prints it); refuse the server if it presents another',
    )
    .option(
      '--ca <file>',
      'verify the server against this CA (PEM file, or "system") instead of pinning its certificate',
    )
    .option('--no-ca', 'stop verifying against a CA and pin the certificate again');
}

/** Human lines describing a {@link CredentialResult}. */
export function describeCredentials(r: CredentialResult): string {
  return (
    `logged in to ${r.server} as ${r.user} (role ${r.role}; server ${r.version || 'unknown version'})\n` +
    `  key:         from ${r.key_source}\n` +
    `  certificate: ${r.fingerprint} (${trustNote(r)})\n` +
    `  saved to:    ${r.config_path}\n`
  );
}

function trustNote(r: CredentialResult): string {
  if (r.trust === 'ca') {
    return `verified by ${r.ca_file === 'system' ? 'the system CAs' : `the CA in ${r.ca_file}`}`;
  }
  if (!r.newly_pinned) return 'matches the pin';
  return `pinned now; ${r.confirmed_by === 'confirmed' ? 'you confirmed it' : r.confirmed_by === '--yes' ? 'trusted on first use (--yes)' : r.confirmed_by === '--fingerprint' ? 'as given with --fingerprint' : (r.confirmed_by ?? 'trusted on first use')}`;
}
