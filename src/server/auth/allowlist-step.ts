/**
 * @module server/auth/allowlist-step
 * The `ip_allowlist` step, first in the chain and run for every request (public routes and
 * WebSocket upgrades included): a client outside the allowlist is refused with 403
 * ML_ERR_IP_NOT_ALLOWED before its key is even looked at. The message names the client's own
 * address (so an operator can add it) and nothing of the configuration. Answers are memoised per
 * address (the list is fixed at start).
 */
import type { IpAllowlist } from '../../auth/ip-allowlist.ts';
import { FetchmlError } from '../../core/errors.ts';
import type { AuthStep } from './chain.ts';

/** Addresses remembered per allowlist (it never changes while the server runs). */
const MEMO_MAX = 10_000;

/** The allowlist step over `allowlist`. */
export function allowlistStep(allowlist: IpAllowlist): AuthStep {
  // `BlockList.check` builds a SocketAddress per call; clients come from few addresses.
  const memo = new Map<string, boolean>();
  const allows = (ip: string): boolean => {
    let ok = memo.get(ip);
    if (ok === undefined) {
      ok = allowlist.allows(ip);
      if (memo.size >= MEMO_MAX) memo.clear();
      memo.set(ip, ok);
    }
    return ok;
  };
  return {
    name: 'ip_allowlist',
    run(ctx) {
      if (allows(ctx.ip)) return;
      throw new FetchmlError(
        'ML_ERR_IP_NOT_ALLOWED',
        `client address ${ctx.ip} is not allowed to connect (see security.ip_allowlist on the server)`,
      );
    },
  };
}
