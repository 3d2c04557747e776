/**
 * @module server
 * The HTTPS + WebSocket API server. Import from here; the other files are its internals.
 */
export { createServer, SERVER_VERSION } from './app.ts';
export type { FetchmlServer } from './app.ts';
export type { Principal, ServerDeps, ServerOptions } from './types.ts';
export { certFingerprint, ensureTls, generateSelfSigned } from './tls.ts';
export type { TlsMaterial } from './tls.ts';
export { assertTaskId, taskDir, taskFiles } from './paths.ts';
export type { TaskFiles } from './paths.ts';
export { openFileKeyStore } from './auth/key-store.ts';
export type { ApiKeyRecord, KeyStore } from './auth/key-store.ts';
export { ensureAdminKey, generateApiKey, hashApiKey, verifyApiKey } from './auth/api-keys.ts';
export { AUTH_STEP_ORDER, runAuthChain } from './auth/chain.ts';
export type { AuthContext, AuthStep, AuthStepName } from './auth/chain.ts';
export { BLOB_BATCH_CONTENT_TYPE } from './blob-batch.ts';
export { reapOnce } from './reaper.ts';
