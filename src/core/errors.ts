/**
 * @module core/errors
 * The one error catalogue. Every error fetchml raises on purpose is a {@link FetchmlError} with a
 * stable `code` from {@link ERROR_CATALOGUE}; the HTTP status comes from the catalogue, so the
 * server maps errors to responses in one place and clients see the same codes on every backend.
 */

/** Stable error codes → HTTP status and a one-line meaning (shown by `--help` and docs). */
export const ERROR_CATALOGUE = {
  ML_ERR_VALIDATION: { status: 400, title: 'Invalid input' },
  ML_ERR_CONFIG_INVALID: { status: 400, title: 'Invalid configuration' },
  ML_ERR_SPEC_INVALID: { status: 400, title: 'Invalid experiment spec (fetchml.yaml)' },
  ML_ERR_PATH_HOSTILE: { status: 400, title: 'Path escapes the tree or is malformed' },
  ML_ERR_BLOB_INVALID_HASH: { status: 400, title: 'Not a sha256 hex digest' },
  ML_ERR_BLOB_HASH_MISMATCH: { status: 400, title: 'Content does not match its hash' },
  ML_ERR_UNAUTHORIZED: { status: 401, title: 'Missing or invalid API key' },
  ML_ERR_FORBIDDEN: { status: 403, title: 'Not allowed' },
  ML_ERR_NOT_FOUND: { status: 404, title: 'Not found' },
  ML_ERR_TASK_NOT_FOUND: { status: 404, title: 'No such task' },
  ML_ERR_COMMIT_NOT_FOUND: { status: 404, title: 'No such commit' },
  ML_ERR_BLOB_NOT_FOUND: { status: 404, title: 'No such blob' },
  ML_ERR_CONFLICT: { status: 409, title: 'Conflicting state' },
  ML_ERR_TASK_STATE: { status: 409, title: 'Task is not in a state that allows this' },
  ML_ERR_LEASE_LOST: { status: 409, title: 'Lease expired or taken over by another attempt' },
  ML_ERR_BODY_TOO_LARGE: { status: 413, title: 'Request body is too large' },
  ML_ERR_PREFLIGHT_FAILED: { status: 422, title: 'Strict preflight failed' },
  ML_ERR_PLAN_MISMATCH: {
    status: 409,
    title: "The task's plan no longer matches its recorded inputs",
  },
  ML_ERR_RATE_LIMITED: { status: 429, title: 'Too many requests' },
  ML_ERR_STORE_CORRUPT: { status: 500, title: 'Stored data is corrupt' },
  ML_ERR_INTERNAL: { status: 500, title: 'Internal error' },
  ML_ERR_UNAVAILABLE: { status: 503, title: 'Backend unavailable' },
  ML_ERR_SERVER_UNREACHABLE: { status: 503, title: 'Server unreachable' },
  ML_ERR_CERT_CHANGED: { status: 495, title: 'Server certificate changed' },
  ML_ERR_MANIFEST_NOT_FOUND: { status: 404, title: 'The task has no run manifest yet' },
  ML_ERR_ARTIFACT_NOT_FOUND: { status: 404, title: 'No such artifact in the run manifest' },
  ML_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported request content type' },
  ML_ERR_TASK_CANCELLED: { status: 409, title: 'The task was cancelled' },
  ML_ERR_RUNTIME_UNAVAILABLE: { status: 503, title: 'Requested job runtime is not available' },
  ML_ERR_RUNTIME_FAILED: { status: 500, title: 'Job runtime failed on the host' },
  ML_ERR_TASK_EXIT: { status: 422, title: 'The job exited with a non-zero code' },
  ML_ERR_TASK_TIMEOUT: { status: 408, title: 'The job ran past its timeout' },
  ML_ERR_TASK_OOM: { status: 422, title: 'The job ran out of memory' },
  ML_ERR_TASK_SPAWN_FAILED: { status: 422, title: 'The job could not be started' },
  ML_ERR_STAGING_FAILED: { status: 500, title: 'The worker could not stage the job' },
  ML_ERR_DATASET_UNAVAILABLE: { status: 424, title: 'A dataset of the job is not available' },
  ML_ERR_DATASET_NOT_FOUND: { status: 404, title: 'No such dataset (or version) in the catalog' },
  ML_ERR_DATASET_CORRUPT: {
    status: 424,
    title: 'A dataset file does not match its recorded hash',
  },
  ML_ERR_IMAGE_UNAVAILABLE: {
    status: 424,
    title: 'The container image of the job is not available',
  },
  ML_ERR_IP_NOT_ALLOWED: { status: 403, title: 'Client address is not in the IP allowlist' },
  ML_ERR_IP_BANNED: { status: 403, title: 'Client address is banned after failed authentications' },
  ML_ERR_CERT_UNTRUSTED: {
    status: 495,
    title: 'Server certificate is not signed by the configured CA or does not name the host',
  },
  ML_ERR_CERT_UNCONFIRMED: {
    status: 495,
    title: 'Server certificate fingerprint was not confirmed (pass --yes or --fingerprint)',
  },
  ML_ERR_BODY_TOO_DEEP: { status: 400, title: 'Request body nests objects or lists too deeply' },
  ML_ERR_LIMIT_EXCEEDED: {
    status: 429,
    title: 'A per-connection or per-key limit was reached (WebSockets, subscriptions)',
  },
  ML_ERR_REPRO_DRIFT: {
    status: 409,
    title: 'A recorded input no longer matches its hash (reproduce --verify)',
  },
  ML_ERR_ARCHIVE_INVALID: { status: 400, title: 'Not a valid fetchml export archive' },
  ML_ERR_ARCHIVE_HOSTILE: {
    status: 400,
    title: 'Archive member is unsafe (path traversal, absolute path, link, device, duplicate)',
  },
  ML_ERR_ARCHIVE_CHECKSUM: {
    status: 400,
    title: 'Archive member does not match its checksum',
  },
  ML_ERR_ARCHIVE_TOO_LARGE: {
    status: 413,
    title: 'Archive exceeds the size, compression-ratio or member-count limit',
  },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export interface FetchmlErrorOptions {
  cause?: unknown;
  /** Structured, JSON-safe facts about the error (field path, task id, ...). */
  details?: Record<string, unknown>;
}

/** The base of every deliberate fetchml error: a stable code, an HTTP status and a cause. */
export class FetchmlError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: FetchmlErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FetchmlError';
    this.code = code;
    this.status = ERROR_CATALOGUE[code].status;
    this.details = options.details;
  }

  /** The wire shape: `{error: {code, message, details?}}`. */
  toJSON(): { error: { code: ErrorCode; message: string; details?: Record<string, unknown> } } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details ? { details: this.details } : {}),
      },
    };
  }
}

/** Thrown by CLI commands to end with an exit code; only entry points turn it into `process.exit`. */
export class ExitError extends Error {
  readonly exitCode: number;
  constructor(exitCode: number, message?: string) {
    super(message ?? `exit ${exitCode}`);
    this.name = 'ExitError';
    this.exitCode = exitCode;
  }
}

export function isFetchmlError(err: unknown, code?: ErrorCode): err is FetchmlError {
  return err instanceof FetchmlError && (code === undefined || err.code === code);
}

/** Normalises any throwable at a catch boundary: a FetchmlError stays, anything else is wrapped. */
export function coerceError(err: unknown): FetchmlError {
  if (err instanceof FetchmlError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new FetchmlError('ML_ERR_INTERNAL', message, { cause: err });
}

/** Shorthands for the most common errors, so call sites stay one line. */
export const errors = {
  validation: (field: string, reason: string, cause?: unknown) =>
    new FetchmlError('ML_ERR_VALIDATION', `${field}: ${reason}`, { cause, details: { field } }),
  notFound: (what: string, id: string) =>
    new FetchmlError('ML_ERR_NOT_FOUND', `${what} not found: ${id}`, { details: { id } }),
  hostilePath: (path: string, reason: string) =>
    new FetchmlError('ML_ERR_PATH_HOSTILE', `refusing path ${JSON.stringify(path)}: ${reason}`, {
      details: { path },
    }),
};
