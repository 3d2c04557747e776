/**
 * @module cli/commands/whoami
 * `ml whoami`: which user and role the server sees for the stored key (`GET /v1/whoami`), and
 * which server and pinned certificate that is.
 */
import type { Command } from 'commander';

import { withLightClient } from '../shared/connect.ts';
import type { CliContext } from '../shared/context.ts';
import type { WhoAmIResponse } from '../../core/schemas/api.ts';
import type { CommandDeps } from '../shared/deps.ts';
import { writeJson } from '../shared/output.ts';
import { examples } from '../shared/program.ts';

/** The `--json` output of `ml whoami`. */
export interface WhoamiResult extends WhoAmIResponse {
  server: string;
  fingerprint: string | null;
}

/** Runs `ml whoami`. */
export async function runWhoami(
  deps: CommandDeps,
  opts: { json?: boolean; server?: string },
): Promise<WhoamiResult> {
  const result = await withLightClient(deps, opts.server, async (client) => {
    const who = await client.whoami();
    return { ...who, server: client.url, fingerprint: client.fingerprint };
  });
  if (opts.json) writeJson(deps.io.stdout, result);
  else
    deps.io.stdout.write(
      `${result.user} (role ${result.role}) on ${result.server}` +
        `${result.version ? ` (server ${result.version})` : ''}\n`,
    );
  return result;
}

/** Registers `ml whoami`. */
export function registerWhoami(program: Command, ctx: CliContext): void {
  program
    .command('whoami')
    .description('the user and role the server sees for your API key')
    .addHelpText('after', examples('ml whoami', 'ml --server https://gpu-box:9101 whoami --json'))
    .action(async (_opts: unknown, cmd: Command) => {
      const g = ctx.globals(cmd);
      await runWhoami(ctx.deps(), { json: g.json, ...(g.server ? { server: g.server } : {}) });
    });
}
