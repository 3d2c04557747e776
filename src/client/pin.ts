/**
 * @module client/pin
 * Certificate pinning for the server's self-signed certificate (DESIGN.md "Security model").
 *
 * Node verifies certificates against CAs and only then calls `checkServerIdentity`, so a
 * self-signed certificate cannot be pinned there. Instead every TLS connection is made with
 * `rejectUnauthorized: false` and checked right after the handshake, before the connection is
 * handed to HTTP or WebSocket — so no request (and no API key) is ever written to an unchecked
 * peer. With a pin, a different fingerprint fails with ML_ERR_CERT_CHANGED; without one, the first
 * fingerprint seen is trusted (TOFU), reported once through `onFirstFingerprint` and pinned for the
 * rest of the client's life.
 */
import { isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { ConnectionOptions, TLSSocket } from 'node:tls';

import { FetchmlError } from '../core/errors.ts';

/** Canonical form of a fingerprint: upper-case hex pairs joined by colons. */
export function normalizeFingerprint(fp: string): string {
  const hex = fp
    .replace(/^sha256[:=]/i, '')
    .replace(/[^0-9a-fA-F]/g, '')
    .toUpperCase();
  return hex.match(/.{2}/g)?.join(':') ?? '';
}

export interface PinOptions {
  url: string;
  fingerprint?: string | undefined;
  onFirstFingerprint?: ((fingerprint: string) => void) | undefined;
  /** How to re-pin, appended to the ML_ERR_CERT_CHANGED message. */
  repinHint?: string | undefined;
}

/** Tracks the pinned fingerprint and checks sockets against it. */
export class CertPin {
  private pinned: string | null;
  private readonly options: PinOptions;

  constructor(options: PinOptions) {
    this.options = options;
    this.pinned = options.fingerprint ? normalizeFingerprint(options.fingerprint) : null;
  }

  /** The pinned (or first seen) fingerprint, or null before the first connection without a pin. */
  get fingerprint(): string | null {
    return this.pinned;
  }

  /** Returns an error for a socket whose certificate does not match, or null when it does. */
  check(socket: TLSSocket): FetchmlError | null {
    const cert = socket.getPeerCertificate();
    const seen = cert.fingerprint256 ? normalizeFingerprint(cert.fingerprint256) : '';
    if (!seen) {
      return new FetchmlError('ML_ERR_CERT_CHANGED', `${this.options.url} sent no certificate`);
    }
    if (this.pinned === null) {
      this.pinned = seen;
      this.options.onFirstFingerprint?.(seen);
      return null;
    }
    if (seen === this.pinned) return null;
    const hint =
      this.options.repinHint ??
      'If the server certificate was replaced on purpose, compare the new fingerprint with the one ' +
        'the server prints at start (fetchml up) and re-pin it: run `ml init` again.';
    return new FetchmlError(
      'ML_ERR_CERT_CHANGED',
      `the certificate of ${this.options.url} changed — refusing to connect.\n` +
        `  pinned:    ${this.pinned}\n  presented: ${seen}\n` +
        `This can mean someone is intercepting the connection. ${hint}`,
      { details: { url: this.options.url, pinned: this.pinned, presented: seen } },
    );
  }

  /**
   * A `createConnection(options, callback)` for `https.request` / `ws`: the callback gets the socket
   * only after the pin check.
   */
  createConnection = (
    options: ConnectionOptions & { host?: string; path?: string | null },
    callback: (err: Error | null, socket?: TLSSocket) => void,
  ): undefined => {
    const host = options.host ?? 'localhost';
    const socket = tlsConnect({
      ...options,
      path: undefined,
      host,
      servername: isIP(host) ? '' : host,
      rejectUnauthorized: false,
    });
    const onError = (err: Error) => callback(err);
    socket.once('error', onError);
    socket.once('secureConnect', () => {
      socket.removeListener('error', onError);
      const err = this.check(socket);
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
