/**
 * @module client/pin
 * How the client trusts the server's certificate (DESIGN.md "Security model"), in one of two modes:
 *
 * - **Pin** (default; the server's self-signed certificate): Node verifies certificates against CAs
 *   and only then calls `checkServerIdentity`, so a self-signed certificate cannot be pinned there.
 *   Instead every TLS connection is made with `rejectUnauthorized: false` and checked right after
 *   the handshake, before the connection is handed to HTTP or WebSocket — so no request (and no API
 *   key) is ever written to an unchecked peer. With a pin, a different fingerprint fails with
 *   ML_ERR_CERT_CHANGED; without one, the first fingerprint seen is trusted (TOFU), reported once
 *   through `onFirstFingerprint` and pinned for the rest of the client's life (`ml login` confirms
 *   it before any key is sent: {@link probeCertificate}).
 * - **CA** (`ml login --ca <file>`: a certificate issued by a CA): the chain must verify against
 *   that CA (or the system CAs) and the certificate must name the host; the fingerprint may then
 *   change (renewals) without a re-pin. A failure is ML_ERR_CERT_UNTRUSTED.
 */
import { isIP } from 'node:net';
import { checkServerIdentity, connect as tlsConnect } from 'node:tls';
import type { ConnectionOptions, PeerCertificate, TLSSocket } from 'node:tls';

import { FetchmlError } from '../core/errors.ts';

/** Canonical form of a fingerprint: upper-case hex pairs joined by colons. */
export function normalizeFingerprint(fp: string): string {
  const hex = fp
    .replace(/^sha256[:=]/i, '')
    .replace(/[^0-9a-fA-F]/g, '')
    .toUpperCase();
  return hex.match(/.{2}/g)?.join(':') ?? '';
}

/** Whether `fp` is a whole sha256 fingerprint (32 hex pairs, any separators). */
export function isFingerprint(fp: string): boolean {
  return normalizeFingerprint(fp).length === 32 * 3 - 1;
}

/** Facts of a refused certificate, for the re-pin hint. */
export interface CertChangeFacts {
  url: string;
  pinned: string;
  presented: string;
}

/** How to re-pin, appended to ML_ERR_CERT_CHANGED: fixed text, or built from the facts. */
export type RepinHint = string | ((facts: CertChangeFacts) => string);

/** Verify the chain instead of pinning: `pem` is the CA bundle, or null for the system CAs. */
export interface CaTrust {
  pem: string | null;
  /** Where the CA came from, for messages (`/etc/ssl/lab-ca.pem`, `the system CAs`). */
  source: string;
}

export interface PinOptions {
  url: string;
  fingerprint?: string | undefined;
  onFirstFingerprint?: ((fingerprint: string) => void) | undefined;
  /** How to re-pin, appended to the ML_ERR_CERT_CHANGED message. */
  repinHint?: RepinHint | undefined;
  /** Verify against a CA instead of pinning (the fingerprint is then only recorded). */
  ca?: CaTrust | undefined;
}

const DEFAULT_HINT: RepinHint = ({ url, presented }) =>
  `If the server was re-keyed on purpose, compare the new fingerprint with the one the server ` +
  `prints at start (fetchml up / fetchml server), then re-pin: ml --server ${url} login --force --fingerprint ${presented}`;

/** The names a certificate covers, for messages: `DNS:a, IP Address:1.2.3.4`. */
function coveredNames(cert: PeerCertificate): string {
  return cert.subjectaltname || `CN=${String(cert.subject?.CN ?? '?')}`;
}

/** ML_ERR_CERT_UNTRUSTED when `socket`'s chain or name does not verify against the CA. */
export function caProblem(
  socket: TLSSocket,
  host: string,
  url: string,
  ca: CaTrust,
): FetchmlError | null {
  const cert = socket.getPeerCertificate();
  const hint =
    'Check that the server presents the certificate the CA issued (server.tls.cert/key), or that ' +
    `the CA file is right (ml --server ${url} login --ca <file>); to go back to pinning the ` +
    `fingerprint: ml --server ${url} login --no-ca`;
  const authError = socket.authorizationError as unknown;
  const why =
    authError instanceof Error
      ? ((authError as { code?: string }).code ?? authError.message)
      : typeof authError === 'string'
        ? authError
        : 'not verified';
  // A chain that verifies but names another host: reported as a name mismatch below.
  if (!socket.authorized && why !== 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return new FetchmlError(
      'ML_ERR_CERT_UNTRUSTED',
      `the certificate of ${url} is not signed by ${ca.source} (${why}) — refusing to connect; ` +
        `nothing was sent. ${hint}`,
      { details: { url, reason: why, ca: ca.source } },
    );
  }
  const mismatch = checkServerIdentity(host, cert);
  if (mismatch) {
    return new FetchmlError(
      'ML_ERR_CERT_UNTRUSTED',
      `the certificate of ${url} is signed by ${ca.source} but does not name ${host} ` +
        `(it names ${coveredNames(cert)}) — refusing to connect; nothing was sent. Connect with a ` +
        'name the certificate covers, or have it reissued (server.tls.hostnames lists the names).',
      { details: { url, host, names: coveredNames(cert), ca: ca.source } },
    );
  }
  return null;
}

/** Tracks the pinned fingerprint and checks sockets against it. */
export class CertPin {
  private pinned: string | null;
  private readonly options: PinOptions;
  private readonly host: string;

  constructor(options: PinOptions) {
    this.options = options;
    this.pinned = options.fingerprint ? normalizeFingerprint(options.fingerprint) : null;
    this.host = new URL(options.url).hostname.replace(/^\[|\]$/g, '');
  }

  /** The pinned (or first seen) fingerprint, or null before the first connection without a pin. */
  get fingerprint(): string | null {
    return this.pinned;
  }

  /** The CA the connection is verified against, when not pinning. */
  get ca(): CaTrust | undefined {
    return this.options.ca;
  }

  /** Returns an error for a socket whose certificate does not match, or null when it does. */
  check(socket: TLSSocket, host: string = this.host): FetchmlError | null {
    const { url } = this.options;
    const cert = socket.getPeerCertificate();
    const seen = cert.fingerprint256 ? normalizeFingerprint(cert.fingerprint256) : '';
    if (!seen) return new FetchmlError('ML_ERR_CERT_CHANGED', `${url} sent no certificate`);
    if (this.options.ca) {
      const problem = caProblem(socket, host, url, this.options.ca);
      if (problem) return problem;
      this.pinned = seen; // informational: a CA-verified certificate may be renewed
      return null;
    }
    if (this.pinned === null) {
      this.pinned = seen;
      this.options.onFirstFingerprint?.(seen);
      return null;
    }
    if (seen === this.pinned) return null;
    return certChangedError({ url, pinned: this.pinned, presented: seen }, this.options.repinHint);
  }

  /**
   * A `createConnection(options, callback)` for `https.request` / `ws`: the callback gets the socket
   * only after the pin check.
   */
  createConnection = (
    options: ConnectionOptions & { host?: string; path?: string | null },
    callback: (err: Error | null, socket?: TLSSocket) => void,
  ): undefined => {
    const host = (options.host ?? 'localhost').replace(/^\[|\]$/g, '');
    const socket = tlsConnect({
      ...options,
      path: undefined,
      host,
      servername: isIP(host) ? '' : host,
      rejectUnauthorized: false,
      ...(this.options.ca?.pem ? { ca: this.options.ca.pem } : {}),
    });
    const onError = (err: Error) => callback(err);
    socket.once('error', onError);
    socket.once('secureConnect', () => {
      socket.removeListener('error', onError);
      const err = this.check(socket, host);
      if (err) {
        socket.destroy();
        callback(err);
      } else {
        callback(null, socket);
      }
    });
    return undefined;
  };
}

/**
 * ML_ERR_CERT_CHANGED: what happened (fingerprint was X, now Y), what it may mean (the server was
 * re-keyed, or someone is intercepting the connection) and how to re-pin.
 */
export function certChangedError(
  facts: CertChangeFacts,
  hint: RepinHint = DEFAULT_HINT,
): FetchmlError {
  const text = typeof hint === 'function' ? hint(facts) : hint;
  return new FetchmlError(
    'ML_ERR_CERT_CHANGED',
    `the certificate of ${facts.url} changed — refusing to connect; nothing was sent.\n` +
      `  pinned:    ${facts.pinned}\n  presented: ${facts.presented}\n` +
      'Either the server was re-keyed (a new base dir or certificate), or someone is intercepting ' +
      `the connection (man in the middle). ${text}`,
    { details: { ...facts } },
  );
}

/** What {@link probeCertificate} saw. */
export interface CertProbe {
  /** sha256 fingerprint of the certificate presented (normalised). */
  fingerprint: string;
  /** The names it covers (`DNS:…, IP Address:…`). */
  names: string;
}

/**
 * Connects to `url` over TLS, reads the certificate and disconnects without sending a byte of
 * HTTP — so `ml login` can show the fingerprint for confirmation before the API key leaves. With
 * `ca`, a certificate the CA does not vouch for fails with ML_ERR_CERT_UNTRUSTED.
 */
export function probeCertificate(
  url: string,
  options: { ca?: CaTrust | undefined; timeoutMs?: number } = {},
): Promise<CertProbe> {
  const parsed = new URL(url);
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const port = Number(parsed.port || 443);
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({
      host,
      port,
      servername: isIP(host) ? '' : host,
      rejectUnauthorized: false,
      ...(options.ca?.pem ? { ca: options.ca.pem } : {}),
    });
    socket.setTimeout(options.timeoutMs ?? 10_000, () =>
      socket.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })),
    );
    socket.once('error', reject);
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate();
      const problem = options.ca ? caProblem(socket, host, parsed.origin, options.ca) : null;
      socket.destroy();
      if (problem) return reject(problem);
      if (!cert.fingerprint256) {
        return reject(new FetchmlError('ML_ERR_CERT_CHANGED', `${url} sent no certificate`));
      }
      resolve({
        fingerprint: normalizeFingerprint(cert.fingerprint256),
        names: coveredNames(cert),
      });
    });
  });
}
