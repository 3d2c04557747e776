/**
 * @module server/auth/ban-step
 * The `ban` step, right after the allowlist and before the key: a banned address is refused with
 * 403 ML_ERR_IP_BANNED whatever it sends. Every authentication failure (401 from the key step)
 * counts towards a ban (see `auth/bans`) and writes a line to `<home>/logs/auth.log` in a fixed
 * format that the fail2ban filter in `deploy/fail2ban/` matches:
 *
 * `2026-11-27T14:00:00.000Z fetchml[1234]: auth failure from 203.0.113.7`
 * `2026-11-27T14:00:00.000Z fetchml[1234]: ban 203.0.113.7 until 2026-11-27T15:00:00.000Z`
 *
 * The line carries the address only: never the key that was tried. A new ban is also left on the
 * context (`ctx.ban`) for the audit step.
 */
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

import type { BanList } from '../../auth/bans.ts';
import { FetchmlError } from '../../core/errors.ts';
import type { AuthStep } from './chain.ts';

/** The line written for an authentication failure or a ban (without the trailing newline). */
export function authLogLine(
  at: Date,
  event: { kind: 'failure'; ip: string } | { kind: 'ban'; ip: string; until: string },
): string {
  const head = `${at.toISOString()} fetchml[${process.pid}]:`;
  return event.kind === 'failure'
    ? `${head} auth failure from ${event.ip}`
    : `${head} ban ${event.ip} until ${event.until}`;
}

function refuseIfBanned(ip: string, until: string | null): void {
  if (until === null) return;
  throw new FetchmlError(
    'ML_ERR_IP_BANNED',
    `too many failed authentications from ${ip}: banned until ${until}` +
      ` (an operator on the server host lifts it with \`fetchml ban remove ${ip}\`)`,
  );
}

/** The ban step over `bans`, logging to `logPath`. */
export function banStep(bans: BanList, logPath: string, clock: () => number): AuthStep {
  let dirReady: Promise<unknown> | null = null;
  const log = async (line: string) => {
    dirReady ??= mkdir(dirname(logPath), { recursive: true });
    await dirReady;
    await appendFile(logPath, `${line}\n`, { mode: 0o600 });
  };
  return {
    name: 'ban',
    run(ctx) {
      const until = bans.bannedUntil(ctx.ip);
      if (until instanceof Promise) return until.then((u) => refuseIfBanned(ctx.ip, u));
      refuseIfBanned(ctx.ip, until);
    },
    async onDenied(ctx, err) {
      if (err.code !== 'ML_ERR_UNAUTHORIZED') return;
      const at = new Date(clock());
      await log(authLogLine(at, { kind: 'failure', ip: ctx.ip }));
      const ban = await bans.recordFailure(ctx.ip);
      if (ban) {
        ctx.ban = { ip: ban.ip, until: ban.until, failures: ban.failures };
        await log(authLogLine(at, { kind: 'ban', ip: ban.ip, until: ban.until }));
      }
    },
  };
}
