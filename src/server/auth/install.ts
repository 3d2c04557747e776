/**
 * @module server/auth/install
 * Wires the auth chain into Fastify: an `onRoute` hook records every registered route with the
 * permission it declares ({@link RouteInfo}; a test walks them), and an `onRequest` hook runs the
 * chain before any body is read. Public routes (`/healthz`) and a WebSocket upgrade without an
 * `Authorization` header (it authenticates with its first message) run only the steps that come
 * before the key ({@link PRE_AUTH_STEPS}), so the allowlist applies to every connection.
 * Headers a step sets (rate-limit counters) go on the response, refusals included. The benchmark
 * alone may skip the chain (server/auth/bench-switch).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { FetchmlError } from '../../core/errors.ts';
import { sendError, toResponseError } from '../error-handler.ts';
import type { Principal } from '../types.ts';
import { bearerToken, runAuthChain, runAuthChainFast } from './chain.ts';
import type { AuthContext, AuthStep, AuthStepName } from './chain.ts';

/** Steps that run even without a key. */
export const PRE_AUTH_STEPS: ReadonlySet<AuthStepName> = new Set(['ip_allowlist', 'ban']);

/**
 * The address given to a request with no socket peer: only in-process injection (tests) has
 * none, since a TCP connection always has a remote address. Loopback, as the caller is local.
 */
export const IN_PROCESS_IP = '127.0.0.1';

/** One registered route and what it requires. */
export interface RouteInfo {
  method: string;
  url: string;
  permission: string | null;
  public: boolean;
}

function authContext(request: FastifyRequest, token: string | null): AuthContext {
  const url = request.routeOptions.url;
  return {
    // A TCP peer always has an address; only in-process injection (`app.injectWS`) has none.
    ip: request.ip ?? IN_PROCESS_IP,
    method: request.method,
    route: url ?? request.url,
    url: request.url,
    token,
    principal: null,
    permission: url === undefined ? undefined : (request.routeOptions.config.permission ?? null),
    headers: {},
  };
}

function applyHeaders(reply: FastifyReply, ctx: AuthContext): void {
  const headers = ctx.headers;
  for (const k in headers) reply.header(k, headers[k]);
}

/**
 * Installs the hooks on `app` (call before registering routes). Returns the route registry and
 * `authenticate`, which runs the whole chain for a key that arrives later (WebSocket `auth`).
 */
export function installAuth(
  app: FastifyInstance,
  steps: readonly AuthStep[],
  options: { unauthenticated?: Principal } = {},
): {
  routes: RouteInfo[];
  authenticate: (token: string, request: FastifyRequest) => Promise<Principal>;
} {
  const routes: RouteInfo[] = [];
  const preAuth = steps.filter((s) => PRE_AUTH_STEPS.has(s.name));
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      routes.push({
        method,
        url: route.url,
        permission: route.config?.permission ?? null,
        public: route.config?.public === true,
      });
    }
  });
  const fixed = options.unauthenticated;
  if (fixed) {
    // server/auth/bench-switch: no chain at all, for the benchmark's baseline.
    app.addHook('onRequest', (request, _reply, done) => {
      request.principal = fixed;
      done();
    });
    return { routes, authenticate: () => Promise.resolve(fixed) };
  }
  // Callback style, not async: when every step answers synchronously (the common case) the
  // request goes on in the same tick, with no promise at all.
  app.addHook('onRequest', (request, reply, done) => {
    const token = bearerToken(request.headers.authorization);
    // A WebSocket may authenticate with its first message instead (see ws/hub).
    const later = token === null && request.ws && request.routeOptions.url === '/v1/ws';
    const keyless = request.routeOptions.config.public === true || later;
    const ctx = authContext(request, token);
    const result = runAuthChainFast(keyless ? preAuth : steps, ctx);
    if (!(result instanceof Promise)) {
      request.principal = result;
      applyHeaders(reply, ctx);
      return done();
    }
    result.then(
      (principal) => {
        request.principal = principal;
        applyHeaders(reply, ctx);
        done();
      },
      (err: unknown) => {
        applyHeaders(reply, ctx);
        sendError(reply, toResponseError(err)); // answered here: `done` is not called
      },
    );
  });
  return {
    routes,
    async authenticate(token, request) {
      const principal = await runAuthChain(steps, authContext(request, token));
      if (!principal) throw new FetchmlError('ML_ERR_UNAUTHORIZED', 'not authenticated');
      return principal;
    },
  };
}
