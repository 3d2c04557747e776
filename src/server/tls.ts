/**
 * @module server/tls
 * HTTPS only (DESIGN.md "Security model"). On first start the server generates a self-signed
 * certificate into `<home>/tls/{cert.pem,key.pem}` (key mode 0600) and reuses it afterwards, so the
 * fingerprint clients pinned on first use stays valid. A configured cert/key pair replaces it.
 *
 * Names: the generated certificate covers `localhost`, `127.0.0.1`, `::1`, the machine's host name,
 * `server.host` (unless it is a wildcard address; then every non-loopback interface address) and
 * every entry of `server.tls.hostnames`. Clients that pin the fingerprint (`ml`) do not look at the
 * names; clients that verify a certificate chain (`ml login --ca`, curl, browsers) do.
 *
 * When the configuration later names a host or address the existing certificate does not cover,
 * the server does **not** regenerate it: a new key would change the fingerprint and every pinned
 * client would refuse the server as if it were being intercepted. It starts with a warning that
 * names what is missing and how to regenerate on purpose ({@link TlsMaterial.warnings}).
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';

import { generate } from 'selfsigned';

import { FetchmlError } from '../core/errors.ts';

/** PEM certificate and key, plus where they came from. */
export interface TlsMaterial {
  cert: string;
  key: string;
  /** sha256 fingerprint of the certificate, as {@link certFingerprint} prints it. */
  fingerprint: string;
  /** True when this call generated the pair (first start). */
  generated: boolean;
  certPath: string;
  keyPath: string;
  /** The names and addresses the certificate covers (its subjectAltName entries). */
  names: string[];
  /** Problems worth an operator's attention (uncovered names, expiry); the server still starts. */
  warnings: string[];
}

/** Which names the server is reached under (config `server.host`, `server.tls.hostnames`). */
export interface TlsNameOptions {
  /** The listen address; a wildcard (`0.0.0.0`, `::`) stands for every interface address. */
  host?: string | undefined;
  /** Extra DNS names or IP addresses clients use to reach the server. */
  hostnames?: readonly string[] | undefined;
}

/** The configured certificate and key (PEM file paths), and the names. */
export interface TlsOptions extends TlsNameOptions {
  cert?: string | undefined;
  key?: string | undefined;
}

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]', '']);
// RFC 1123 labels, optionally a leading `*.` wildcard label.
const DNS_NAME =
  /^(\*\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
const EXPIRY_WARNING_MS = 30 * 24 * 3600_000;

/**
 * sha256 of the certificate's DER bytes, upper-case hex pairs joined by colons — what
 * `openssl x509 -noout -fingerprint -sha256` prints, and what the client pins.
 * @example certFingerprint(pem) // 'AB:01:…' (32 pairs)
 */
export function certFingerprint(pem: string): string {
  return parseCert(pem).fingerprint256;
}

function parseCert(pem: string, field = 'certificate'): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (cause) {
    throw new FetchmlError('ML_ERR_CONFIG_INVALID', `${field}: not a PEM certificate`, {
      cause,
      details: { field },
    });
  }
}

function stripBrackets(name: string): string {
  return name.startsWith('[') && name.endsWith(']') ? name.slice(1, -1) : name;
}

/** Throws ML_ERR_CONFIG_INVALID for an entry that is neither an IP address nor a DNS name. */
function checkName(name: string, field: string): string {
  const n = stripBrackets(name.trim());
  if (isIP(n) || (DNS_NAME.test(n) && n.length <= 253)) return n;
  throw new FetchmlError(
    'ML_ERR_CONFIG_INVALID',
    `${field}: ${JSON.stringify(name)} is neither a DNS name nor an IP address`,
    { details: { field } },
  );
}

/** Non-loopback addresses of this machine's interfaces (for a wildcard listen address). */
function interfaceAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .flatMap((a) => (a && !a.internal && !a.address.startsWith('fe80:') ? [a.address] : []));
}

/**
 * The names a certificate for this server must cover — `required` — and those the generated one
 * covers besides (`extra`: interface addresses when listening on a wildcard address).
 */
export function certificateNames(opts: TlsNameOptions = {}): {
  required: string[];
  extra: string[];
} {
  const required = ['localhost', '127.0.0.1', '::1'];
  const add = (list: string[], name: string) => {
    if (!list.some((n) => n.toLowerCase() === name.toLowerCase())) list.push(name);
  };
  const host = hostname();
  if (host && DNS_NAME.test(host)) add(required, host);
  const extra: string[] = [];
  if (opts.host !== undefined) {
    if (WILDCARD_HOSTS.has(opts.host)) {
      for (const a of interfaceAddresses()) if (!required.includes(a)) add(extra, a);
    } else {
      add(required, checkName(opts.host, 'server.host'));
    }
  }
  for (const name of opts.hostnames ?? []) add(required, checkName(name, 'server.tls.hostnames'));
  return { required, extra: extra.filter((a) => !required.includes(a)) };
}

/** The names the configuration states: `server.host` (unless a wildcard) and `server.tls.hostnames`. */
function explicitNames(opts: TlsNameOptions): string[] {
  const names =
    opts.host !== undefined && !WILDCARD_HOSTS.has(opts.host)
      ? [checkName(opts.host, 'server.host')]
      : [];
  for (const n of opts.hostnames ?? []) names.push(checkName(n, 'server.tls.hostnames'));
  return names;
}

/** Whether `cert` is valid for `name` (a DNS name, wildcards honoured, or an IP address). */
export function certCovers(cert: X509Certificate, name: string): boolean {
  return isIP(name) ? cert.checkIP(name) !== undefined : cert.checkHost(name) !== undefined;
}

/** The subjectAltName entries of `cert` as plain names (`DNS:a, IP Address:1.2.3.4` → `a`, `1.2.3.4`). */
export function certNames(cert: X509Certificate): string[] {
  return (cert.subjectAltName ?? '')
    .split(/,\s*/)
    .map((s) => s.replace(/^(DNS|IP Address):/, ''))
    .filter(Boolean);
}

async function readIfExists(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

async function writeAtomic(path: string, data: string, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, data, { mode });
  await chmod(tmp, mode);
  await rename(tmp, path);
}

/**
 * Generates a self-signed pair: CN=localhost, subjectAltName = every name of `names` (IP entries
 * for addresses, DNS entries otherwise), by default this machine's {@link certificateNames}.
 */
export async function generateSelfSigned(
  names: readonly string[] = certificateNames().required,
): Promise<{ cert: string; key: string }> {
  const altNames = names.map((n) =>
    isIP(n) ? { type: 7 as const, ip: n } : { type: 2 as const, value: n },
  );
  const now = new Date();
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now.getTime() - 60_000),
    notAfterDate: new Date(now.getTime() + 10 * 365 * 24 * 3600_000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

/** Warnings about `cert`: names it does not cover, expiry. */
function certWarnings(
  cert: X509Certificate,
  certPath: string,
  wanted: readonly string[],
  howToFix: string,
): string[] {
  const warnings: string[] = [];
  const missing = wanted.filter((n) => !certCovers(cert, n));
  if (missing.length > 0) {
    warnings.push(
      `the certificate ${certPath} does not cover ${missing.join(', ')} ` +
        `(it covers ${certNames(cert).join(', ') || 'no names'}). Clients that verify host names ` +
        `(ml login --ca, curl --cacert, browsers) will refuse it under those names; ml with a pinned ` +
        `fingerprint is not affected. ${howToFix}`,
    );
  }
  const notAfter = Date.parse(cert.validTo);
  if (notAfter <= Date.now()) {
    warnings.push(`the certificate ${certPath} expired on ${cert.validTo}. ${howToFix}`);
  } else if (notAfter - Date.now() < EXPIRY_WARNING_MS) {
    warnings.push(`the certificate ${certPath} expires on ${cert.validTo}. ${howToFix}`);
  }
  return warnings;
}

/**
 * The server's TLS material: the configured files when given (both required), else the pair under
 * `<home>/tls`, generated on first start for {@link certificateNames}(`configured`).
 */
export async function ensureTls(home: string, configured: TlsOptions = {}): Promise<TlsMaterial> {
  const { required, extra } = certificateNames(configured);
  if (configured.cert || configured.key) return useConfigured(configured);
  const dir = join(home, 'tls');
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  const [cert, key] = await Promise.all([readIfExists(certPath), readIfExists(keyPath)]);
  if (cert && key) {
    const x509 = parseCert(cert, certPath);
    const fix =
      `To regenerate it on purpose: stop the server, delete ${certPath} and ${keyPath}, start it ` +
      'again, then re-pin on every client with `ml login --force` (compare the new fingerprint the ' +
      'server prints).';
    return {
      cert,
      key,
      fingerprint: x509.fingerprint256,
      generated: false,
      certPath,
      keyPath,
      names: certNames(x509),
      warnings: certWarnings(x509, certPath, required, fix),
    };
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const pair = await generateSelfSigned([...required, ...extra]);
  // Key first: a cert without its key would be unusable; a key without a cert is regenerated.
  await writeAtomic(keyPath, pair.key, 0o600);
  await writeAtomic(certPath, pair.cert, 0o644);
  const x509 = parseCert(pair.cert);
  return {
    ...pair,
    fingerprint: x509.fingerprint256,
    generated: true,
    certPath,
    keyPath,
    names: certNames(x509),
    warnings: [],
  };
}

/** Reads and checks a configured pair: both files, a PEM certificate, the key that matches it. */
async function useConfigured(configured: TlsOptions): Promise<TlsMaterial> {
  if (!configured.cert || !configured.key) {
    throw new FetchmlError(
      'ML_ERR_CONFIG_INVALID',
      'server.tls: set both cert and key (PEM files), or neither to use the generated pair',
      { details: { field: configured.cert ? 'server.tls.key' : 'server.tls.cert' } },
    );
  }
  const [cert, key] = await Promise.all([
    readConfigured(configured.cert, 'server.tls.cert'),
    readConfigured(configured.key, 'server.tls.key'),
  ]);
  const x509 = parseCert(cert, 'server.tls.cert');
  let matches: boolean;
  try {
    matches = x509.checkPrivateKey(createPrivateKey(key));
  } catch (cause) {
    throw new FetchmlError(
      'ML_ERR_CONFIG_INVALID',
      `server.tls.key: ${configured.key} is not a PEM private key`,
      { cause, details: { field: 'server.tls.key' } },
    );
  }
  if (!matches) {
    throw new FetchmlError(
      'ML_ERR_CONFIG_INVALID',
      `server.tls.key: ${configured.key} is not the key of the certificate ${configured.cert}`,
      { details: { field: 'server.tls.key' } },
    );
  }
  // A CA-issued certificate rarely names localhost; only the names configured explicitly count.
  const wanted = explicitNames(configured);
  const fix = `Issue a certificate that covers them (or set server.tls.hostnames to match it).`;
  return {
    cert,
    key,
    fingerprint: x509.fingerprint256,
    generated: false,
    certPath: configured.cert,
    keyPath: configured.key,
    names: certNames(x509),
    warnings: certWarnings(x509, configured.cert, wanted, fix),
  };
}

async function readConfigured(path: string, field: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (cause) {
    throw new FetchmlError('ML_ERR_CONFIG_INVALID', `${field}: cannot read ${path}`, {
      cause,
      details: { field },
    });
  }
}
