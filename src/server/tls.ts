/**
 * @module server/tls
 * HTTPS only (DESIGN.md "Security model"). On first start the server generates a self-signed
 * certificate into `<home>/tls/{cert.pem,key.pem}` (key mode 0600) and reuses it afterwards, so the
 * fingerprint clients pinned on first use stays valid. A configured cert/key pair replaces it.
 */
import { X509Certificate } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
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
}

/**
 * sha256 of the certificate's DER bytes, upper-case hex pairs joined by colons — what
 * `openssl x509 -noout -fingerprint -sha256` prints, and what the client pins.
 * @example certFingerprint(pem) // 'AB:01:…' (32 pairs)
 */
export function certFingerprint(pem: string): string {
  try {
    return new X509Certificate(pem).fingerprint256;
  } catch (cause) {
    throw new FetchmlError('ML_ERR_CONFIG_INVALID', 'not a PEM certificate', { cause });
  }
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

/** Generates a self-signed pair for this host: CN=localhost, SAN localhost, 127.0.0.1, ::1, host. */
export async function generateSelfSigned(
  host = hostname(),
): Promise<{ cert: string; key: string }> {
  const altNames: { type: 2 | 7; value?: string; ip?: string }[] = [
    { type: 2, value: 'localhost' },
    { type: 7, ip: '127.0.0.1' },
    { type: 7, ip: '::1' },
  ];
  if (host && host !== 'localhost') altNames.push({ type: 2, value: host });
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

/**
 * The server's TLS material: the configured files when given (both required), else the pair under
 * `<home>/tls`, generated on first start.
 */
export async function ensureTls(
  home: string,
  configured?: { cert?: string; key?: string },
): Promise<TlsMaterial> {
  if (configured?.cert || configured?.key) {
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
    return {
      cert,
      key,
      fingerprint: certFingerprint(cert),
      generated: false,
      certPath: configured.cert,
      keyPath: configured.key,
    };
  }
  const dir = join(home, 'tls');
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  const [cert, key] = await Promise.all([readIfExists(certPath), readIfExists(keyPath)]);
  if (cert && key) {
    return { cert, key, fingerprint: certFingerprint(cert), generated: false, certPath, keyPath };
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const pair = await generateSelfSigned();
  // Key first: a cert without its key would be unusable; a key without a cert is regenerated.
  await writeAtomic(keyPath, pair.key, 0o600);
  await writeAtomic(certPath, pair.cert, 0o644);
  return { ...pair, fingerprint: certFingerprint(pair.cert), generated: true, certPath, keyPath };
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
