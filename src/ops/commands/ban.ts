/**
 * @module ops/commands/ban
 * `fetchml ban list|remove`: the addresses banned after repeated authentication failures
 * (`<home>/bans.json`). A removal takes effect on the running server's next request and is
 * appended to the audit log (`ban.remove`, actor `ops`).
 */
import type { Command } from 'commander';
import { join } from 'node:path';

import { readBans, writeBans } from '../../auth/bans.ts';
import { FetchmlError } from '../../core/errors.ts';
import { formatTable, writeJson } from '../../cli/shared/output.ts';
import { examples } from '../../cli/shared/program.ts';
import type { OpsContext } from '../context.ts';
import { recordOpsAction } from './audit.ts';

/** Registers the `ban` command group on the `fetchml` program. */
export function registerBanCommands(program: Command, ctx: OpsContext): void {
  const group = program
    .command('ban')
    .description('addresses banned after repeated failed authentications')
    .addHelpText('after', examples('fetchml ban list', 'fetchml ban remove 203.0.113.7'));
  const home = (cmd: Command) => {
    const { config, warnings } = ctx.loadConfig(cmd);
    ctx.warn(warnings);
    return config.home;
  };
  const banFile = (cmd: Command) => join(home(cmd), 'bans.json');

  group
    .command('list')
    .description('list live bans: address, since, until, failures')
    .addHelpText('after', examples('fetchml ban list', 'fetchml ban list --json'))
    .action(async (_opts: unknown, cmd: Command) => {
      const now = Date.now();
      const bans = (await readBans(banFile(cmd))).filter((b) => Date.parse(b.until) > now);
      if (ctx.globals(cmd).json) return writeJson(ctx.io.stdout, { bans });
      const rows = bans.map((b) => [b.ip, b.since, b.until, String(b.failures)]);
      ctx.io.stdout.write(formatTable(['ADDRESS', 'SINCE', 'UNTIL', 'FAILURES'], rows));
    });

  group
    .command('remove <address>')
    .description('lift the ban of an address; effective at once')
    .addHelpText('after', examples('fetchml ban remove 203.0.113.7'))
    .action(async (address: string, _opts: unknown, cmd: Command) => {
      const dir = home(cmd);
      const path = join(dir, 'bans.json');
      const bans = await readBans(path);
      const kept = bans.filter((b) => b.ip !== address);
      if (kept.length === bans.length) {
        throw new FetchmlError('ML_ERR_NOT_FOUND', `address ${address} is not banned`, {
          details: { id: address },
        });
      }
      await writeBans(path, kept);
      const removed = bans.find((b) => b.ip === address)!;
      await recordOpsAction(dir, {
        action: 'ban.remove',
        target: address,
        detail: { until: removed.until, failures: removed.failures },
      });
      if (ctx.globals(cmd).json) writeJson(ctx.io.stdout, { removed: address });
      else ctx.io.stdout.write(`removed the ban of ${address}\n`);
    });
}
