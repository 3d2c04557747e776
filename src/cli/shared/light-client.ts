/**
 * @module cli/shared/light-client
 * A fast path for the read-only commands people run in loops (`ml status`, `ml whoami`): plain
 * `node:https` over the same certificate pin as the full client (client/pin), without loading
 * undici, ws and the zod schemas, which cost ~0.5 s of start-up on a small VM — the issue's budget
 * for `ml status` is 3x `node -e 0`. Answers get a shape check rather than full schema validation.
 * The full client (src/client) stays the one for everything else; this adapter lives in the CLI
 * because src/client loads its transports eagerly.
 */
import { Agent, request } from 'node:https';
import type { IncomingMessage } from 'node:http';

import { CertPin } from '../../client/pin.ts';
import { ERROR_CATALOGUE, FetchmlError } from '../../core/errors.ts';
import type { ErrorCode } from '../../core/errors.ts';
import type { ClientTarget, LightClient } from './deps.ts';
import { REPIN_HINT } from './repin.ts';

const UNREACHABLE =
  /^(ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EPIPE)$/;

function unreachable(url: string, err: Error & { code?: string }): FetchmlError {
  return new FetchmlError(
    'ML_ERR_SERVER_UNREACHABLE',
    `cannot reach the fetchml server at ${url} (${err.code ?? err.message}). ` +
      'Is it running? Start it with `fetchml up`, or check the server URL in your ml config.',
    { cause: err, details: { url } },
  );
}

function httpError(status: number, text: string, what: string): FetchmlError {
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
    const code = body.error?.code;
    if (code && code in ERROR_CATALOGUE)
      return new FetchmlError(code as ErrorCode, body.error?.message ?? code);
  } catch {
    // not JSON
  }
  return new FetchmlError(
    status === 404 ? 'ML_ERR_NOT_FOUND' : 'ML_ERR_INTERNAL',
    `${what}: HTTP ${status}${text ? `: ${text.slice(0, 200)}` : ''}`,
  );
}

function shape<T>(value: unknown, keys: readonly string[], what: string): T {
  if (typeof value !== 'object' || value === null || keys.some((k) => !(k in value))) {
    throw new FetchmlError(
      'ML_ERR_INTERNAL',
      `unexpected answer to ${what} (is the server the same fetchml version?)`,
    );
  }
  return value as T;
}

/** `?k=v&…` of the defined values (arrays repeat the key), or '' when there are none. */
function queryString(query: object): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue;
    for (const item of Array.isArray(v) ? (v as unknown[]) : [v]) params.append(k, String(item));
  }
  const qs = params.toString();
  return qs ? `?${qs}` : '';
}

/** A light client for `target` (one connection per request; nothing to close). */
export function createLightClient(target: ClientTarget, timeoutMs = 10_000): LightClient {
  const base = new URL(target.url).origin;
  const pin = new CertPin({
    url: base,
    fingerprint: target.fingerprint ?? undefined,
    repinHint: REPIN_HINT,
    ca: target.ca ?? undefined,
  });
  // An https.Agent whose sockets come from the pin: checked right after the handshake, before the
  // request (and its API key) is written.
  const agent = new Agent({ keepAlive: false });
  agent.createConnection = pin.createConnection as unknown as Agent['createConnection'];
  const get = (path: string): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const req = request(`${base}${path}`, {
        method: 'GET',
        agent,
        timeout: timeoutMs,
        headers: { authorization: `Bearer ${target.apiKey}`, connection: 'close' },
      });
      req.on('timeout', () =>
        req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })),
      );
      req.on('error', (err: Error & { code?: string }) => {
        if (err instanceof FetchmlError) reject(err);
        else if (UNREACHABLE.test(err.code ?? '')) reject(unreachable(base, err));
        else
          reject(
            new FetchmlError('ML_ERR_INTERNAL', `GET ${path} failed: ${err.message}`, {
              cause: err,
            }),
          );
      });
      req.on('response', (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => reject(unreachable(base, err)));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status >= 400) return reject(httpError(status, text, `GET ${path}`));
          try {
            resolve(JSON.parse(text));
          } catch (cause) {
            reject(new FetchmlError('ML_ERR_INTERNAL', `GET ${path}: not JSON`, { cause }));
          }
        });
      });
      req.end();
    });

  const client: LightClient = {
    url: base,
    get fingerprint() {
      return pin.fingerprint;
    },
    health: async () => shape(await get('/healthz'), ['ok', 'version'], 'GET /healthz'),
    whoami: async () => shape(await get('/v1/whoami'), ['user', 'role'], 'GET /v1/whoami'),
    status: async (query = {}) =>
      shape(
        await get(`/v1/status${queryString(query)}`),
        ['schema_version', 'counts', 'workers', 'tasks', 'queue'],
        'GET /v1/status',
      ),
    listTasks: async (query = {}) =>
      shape(await get(`/v1/tasks${queryString(query)}`), ['tasks'], 'GET /v1/tasks'),
    close: () => {
      agent.destroy();
      return Promise.resolve();
    },
  };
  return client;
}
