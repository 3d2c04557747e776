/**
 * @module cli/shared/repin
 * The one wording of how to re-pin a changed server certificate, shared by both transports: the
 * exact command, with the server URL and the fingerprint it now presents.
 */
import type { RepinHint } from '../../client/pin.ts';

/** Appended to ML_ERR_CERT_CHANGED. */
export const REPIN_HINT: RepinHint = ({ url, presented }) =>
  'If the server was re-keyed on purpose (e.g. a fresh `fetchml up` base dir), check the new ' +
  'fingerprint against the one the server prints at start (fetchml up / fetchml server; on the ' +
  'server host: openssl x509 -noout -fingerprint -sha256 -in <base dir>/tls/cert.pem), then ' +
  `re-pin:\n  ml login --force --fingerprint ${presented} --server ${url}\n` +
  '(ml init --force does the same and also rewrites fetchml.yaml and .mlignore.) If nobody ' +
  're-keyed the server, do not re-pin: tell its operator.';
