/**
 * @module cli/shared/repin
 * The one wording of how to re-pin a changed server certificate, shared by both transports.
 */

/** Appended to ML_ERR_CERT_CHANGED. */
export const REPIN_HINT =
  'If the server certificate was replaced on purpose (e.g. a fresh `fetchml up` base dir), compare ' +
  'the new fingerprint with the one the server prints at start, then re-pin: `ml login --force` ' +
  '(or `ml init --force`, which also rewrites fetchml.yaml and .mlignore).';
