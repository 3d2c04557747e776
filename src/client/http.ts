/**
 * @module client/http
 * One request function over an undici Agent whose connections are pinned (client/pin). It turns
 * every failure into a FetchmlError the CLI can print as is: the server's own `{error:{code,
 * message}}`, ML_ERR_SERVER_UNREACHABLE (refused, reset, timed out, unknown host: names the URL and
 * suggests `fetchml up`), ML_ERR_CERT_CHANGED from the pin check.
 */
import type { Readable } from 'node:stream';
import type { TLSSocket } from 'node:tls';

import { Agent, buildConnector, request } from 'undici';
import type { Dispatcher } from 'undici';
import type { z } from 'zod';

import { ERROR_CATALOGUE, FetchmlError } from '../core/errors.ts';
import type { ErrorCode } from '../core/errors.ts';
import type { CertPin } from './pin.ts';

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

/** A pinned undici Agent. */
export function createPinnedAgent(pin: CertPin, timeoutMs: number): Agent {
  const base = buildConnector({
    rejectUnauthorized: false,
    timeout: timeoutMs,
    maxCachedSessions: 0,
    ...(pin.ca?.pem ? { ca: pin.ca.pem } : {}),
  });
  return new Agent({
    headersTimeout: timeoutMs,
    bodyTimeout: 0,
    connect: (options, callback) => {
      base(options, (err, socket) => {
        if (err) return callback(err, null);
        const pinError = pin.check(socket as TLSSocket, options.hostname.replace(/^\[|\]$/g, ''));
        if (pinError) {
          socket.destroy();
          return callback(pinError, null);
        }
        callback(null, socket);
      });
    },
  });
}

/** Maps a transport error to the FetchmlError the user sees. */
export function transportError(err: unknown, url: string): FetchmlError {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    if (e instanceof FetchmlError) return e;
  }
  const code = (err as { code?: string }).code ?? '';
  if (UNREACHABLE_CODES.has(code) || /connect|socket|timeout/i.test(String(err))) {
    return new FetchmlError(
      'ML_ERR_SERVER_UNREACHABLE',
      `cannot reach the fetchml server at ${url} (${code || (err as Error).message}). ` +
        'Is it running? Start it with `fetchml up`, or check the server URL in your ml config.',
      { cause: err, details: { url } },
    );
  }
  return new FetchmlError('ML_ERR_INTERNAL', `request to ${url} failed: ${String(err)}`, {
    cause: err,
  });
}

/** Builds a FetchmlError from an error response. */
async function responseError(res: Dispatcher.ResponseData, what: string): Promise<FetchmlError> {
  const text = await res.body.text().catch(() => '');
  try {
    const body = JSON.parse(text) as {
      error?: { code?: string; message?: string; details?: Record<string, unknown> };
    };
    const code = body.error?.code;
    if (code && code in ERROR_CATALOGUE) {
      return new FetchmlError(code as ErrorCode, body.error?.message ?? code, {
        ...(body.error?.details ? { details: body.error.details } : {}),
      });
    }
  } catch {
    // not JSON: fall through
  }
  return new FetchmlError(
    res.statusCode === 404 ? 'ML_ERR_NOT_FOUND' : 'ML_ERR_INTERNAL',
    `${what}: HTTP ${res.statusCode}${text ? `: ${text.slice(0, 200)}` : ''}`,
    { details: { status: res.statusCode } },
  );
}

export interface HttpDeps {
  baseUrl: string;
  apiKey: string;
  agent: Agent;
}

export interface CallOptions {
  query?: Record<string, string | number | readonly string[] | undefined>;
  body?: unknown;
  raw?: { body: Readable | AsyncIterable<Uint8Array> | Uint8Array; type: string; length?: number };
  /** Wait this long for the response headers instead of the client's timeout (slow routes). */
  timeoutMs?: number;
}

function withQuery(path: string, query: CallOptions['query']): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const item of v) params.append(k, String(item));
    else params.append(k, String(v));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

/** Sends a request; returns the open response (status < 400) or throws a FetchmlError. */
export async function send(
  deps: HttpDeps,
  method: Dispatcher.HttpMethod,
  path: string,
  options: CallOptions = {},
): Promise<Dispatcher.ResponseData> {
  const url = deps.baseUrl + withQuery(path, options.query);
  const headers: Record<string, string> = { authorization: `Bearer ${deps.apiKey}` };
  let body: Dispatcher.DispatchOptions['body'];
  if (options.raw) {
    headers['content-type'] = options.raw.type;
    if (options.raw.length !== undefined) headers['content-length'] = String(options.raw.length);
    body = options.raw.body as Dispatcher.DispatchOptions['body'];
  } else if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  let res: Dispatcher.ResponseData;
  try {
    res = await request(url, {
      method,
      headers,
      body: body ?? null,
      dispatcher: deps.agent,
      ...(options.timeoutMs !== undefined ? { headersTimeout: options.timeoutMs } : {}),
    });
  } catch (err) {
    throw transportError(err, deps.baseUrl);
  }
  if (res.statusCode >= 400) throw await responseError(res, `${method} ${path}`);
  return res;
}

/** Sends a request and parses the JSON answer with `schema`. */
export async function call<S extends z.ZodType>(
  deps: HttpDeps,
  schema: S,
  method: Dispatcher.HttpMethod,
  path: string,
  options: CallOptions = {},
): Promise<z.output<S>> {
  const res = await send(deps, method, path, options);
  let json: unknown;
  try {
    json = await res.body.json();
  } catch (err) {
    throw transportError(err, deps.baseUrl);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new FetchmlError(
      'ML_ERR_INTERNAL',
      `unexpected answer to ${method} ${path} (is the server the same fetchml version?)`,
      { cause: parsed.error },
    );
  }
  return parsed.data;
}
