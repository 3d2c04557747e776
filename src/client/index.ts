/**
 * @module client
 * The typed API client used by `ml` and the TUI (HTTPS with a pinned certificate, WebSocket).
 */
export { createClient } from './client.ts';
export type { ClientOptions, FetchmlClient } from './client.ts';
export type { BlobUpload, UploadProgress } from './blob-batch.ts';
export { BLOB_BATCH_CONTENT_TYPE, encodeBatch, frameHeader } from './blob-batch.ts';
export { isFingerprint, normalizeFingerprint, probeCertificate } from './pin.ts';
export type { CaTrust, CertProbe, RepinHint } from './pin.ts';
export type { Subscription } from './subscribe.ts';
export { CertPin } from './pin.ts';
export { transportError } from './http.ts';
