/**
 * @module server/auth/chain
 * The auth hook as an ordered chain of steps (DESIGN.md "Security model"):
 * ip allowlist → ban check → key → role/permission → rate limit → audit. Each step may deny by
 * throwing a FetchmlError (401/403/429) or enrich the context; the key step attaches the request's
 * principal. {@link runAuthChain} runs whatever steps are present in {@link AUTH_STEP_ORDER}, never
 * in list order, and on a refusal tells every step (`onDenied`), in the same order — so the
 * `audit` step, last, sees what the others did (a new ban).
 */
import type { FetchmlError } from '../../core/errors.ts';
import type { Principal } from '../types.ts';

export const AUTH_STEP_ORDER = [
  'ip_allowlist',
  'ban',
  'key',
  'permission',
  'rate_limit',
  'audit',
] as const;
export type AuthStepName = (typeof AUTH_STEP_ORDER)[number];

/** What a step sees about the request. */
export interface AuthContext {
  ip: string;
  method: string;
  /** The matched route pattern (`/v1/tasks/:id`), or the raw URL for unknown routes. */
  route: string;
  url: string;
  /** The `Authorization` header's bearer token, or an API key from the WS `auth` message. */
  token: string | null;
  /** Set by the `key` step. */
  principal: Principal | null;
  /**
   * The permission the matched route declares; null for a registered route that declares none
   * (refused), undefined when no route matched (the 404 handler answers).
   */
  permission?: string | null | undefined;
  /** Response headers a step wants sent (rate-limit counters), on success and refusal alike. */
  headers: Record<string, string>;
  /** Set by the `ban` step when this refusal banned the address (the `audit` step records it). */
  ban?: { ip: string; until: string; failures: number };
}

export interface AuthStep {
  name: AuthStepName;
  /** Throws a FetchmlError to deny; may set `ctx.principal`. */
  run(ctx: AuthContext): Promise<void> | void;
  /** Told when a later step (or the route) denied the request: ban counters, audit. */
  onDenied?(ctx: AuthContext, err: FetchmlError): Promise<void> | void;
}

/** Each step list in {@link AUTH_STEP_ORDER}, sorted once (the chain runs on every request). */
const sortedSteps = new WeakMap<readonly AuthStep[], readonly AuthStep[]>();

function inOrder(steps: readonly AuthStep[]): readonly AuthStep[] {
  let ordered = sortedSteps.get(steps);
  if (!ordered) {
    ordered = [...steps].sort(
      (a, b) => AUTH_STEP_ORDER.indexOf(a.name) - AUTH_STEP_ORDER.indexOf(b.name),
    );
    sortedSteps.set(steps, ordered);
  }
  return ordered;
}

/** Runs `steps` in {@link AUTH_STEP_ORDER}; returns the principal or throws the denial. */
export async function runAuthChain(
  steps: readonly AuthStep[],
  ctx: AuthContext,
): Promise<Principal | null> {
  return runAuthChainFast(steps, ctx);
}

/**
 * {@link runAuthChain}, synchronously while every step answers synchronously (the common case:
 * a known address, a key verified before, unchanged key and ban files) and as a promise from the
 * first step that returns one. A synchronous denial is still a rejected promise, after every
 * step's `onDenied` (which may write files). Saves the request a chain of microtask turns.
 */
export function runAuthChainFast(
  steps: readonly AuthStep[],
  ctx: AuthContext,
): Principal | null | Promise<Principal | null> {
  return runFrom(inOrder(steps), 0, ctx);
}

function runFrom(
  ordered: readonly AuthStep[],
  start: number,
  ctx: AuthContext,
): Principal | null | Promise<Principal | null> {
  for (let i = start; i < ordered.length; i++) {
    let pending: Promise<void> | void;
    try {
      pending = ordered[i]!.run(ctx);
    } catch (err) {
      return denied(ordered, ctx, err);
    }
    if (pending) {
      return pending.then(
        () => runFrom(ordered, i + 1, ctx),
        (err: unknown) => denied(ordered, ctx, err),
      );
    }
  }
  return ctx.principal;
}

async function denied(
  ordered: readonly AuthStep[],
  ctx: AuthContext,
  err: unknown,
): Promise<never> {
  for (const s of ordered) await s.onDenied?.(ctx, err as FetchmlError);
  throw err;
}

/** The bearer token of an `Authorization` header, or null when absent or another scheme. */
export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1]! : null;
}
